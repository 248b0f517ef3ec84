(function () {
  "use strict";
  var table = document.getElementById("heatmap-table");
  if (!table) { return; }
  var body = table.tBodies[0];
  var buttons = table.tHead.querySelectorAll("button[data-col]");
  function key(row, col, kind) {
    var cell = row.children[col];
    var value = cell.getAttribute("data-sort") || "";
    return kind === "rank" ? parseFloat(value) : value;
  }
  Array.prototype.forEach.call(buttons, function (button) {
    button.addEventListener("click", function () {
      var col = parseInt(button.getAttribute("data-col"), 10);
      var kind = button.getAttribute("data-kind");
      var descending = button.getAttribute("aria-sort") !== "descending";
      if (kind === "text") { descending = button.getAttribute("aria-sort") === "ascending"; }
      Array.prototype.forEach.call(buttons, function (other) { other.removeAttribute("aria-sort"); });
      button.setAttribute("aria-sort", descending ? "descending" : "ascending");
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a, col, kind), y = key(b, col, kind);
        var order = x < y ? -1 : (x > y ? 1 : 0);
        if (order === 0) { order = key(a, 0, "text") < key(b, 0, "text") ? -1 : 1; return order; }
        return descending ? -order : order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
}());
