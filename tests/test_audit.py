"""``salesmirror audit``: the sections of the report, self-containment, escaping, redaction, trends, errors.

The log is ``tests/audit_log.py``'s: three managers over two quarters judged
by the strategy-churn rule only, so every mark (persisting, resolved, not
assessed) follows from events the module lists.
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.audit.command import audit_command
from tests.audit_log import HOSTILE_URL, churn_args, write_log

GOLDEN = Path(__file__).parent / "golden" / "audit"
SORT_JS = (Path(__file__).resolve().parent.parent / "engine" / "audit" / "templates" / "sort.js").read_text("utf-8")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(audit_command, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture()
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The log as ``events.jsonl`` in the working directory, so file:line citations are the same everywhere."""
    monkeypatch.chdir(tmp_path)
    return write_log(Path("events.jsonl"))


def audit(*extra: str, log_name: str = "events.jsonl") -> str:
    code, out, err = run(log_name, "--period", "2026-Q1", *churn_args(), *extra)
    assert code == 0, err
    return out


class Page(HTMLParser):
    """Every start tag with its attributes, the text of each script, and the text of the page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts.append(data)
        elif self._in == "style":
            self.styles.append(data)
        else:
            self.text.append(data)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def test_every_section_and_manager_page(log: Path) -> None:
    html = audit()
    page = parse(html)
    ids = [attrs.get("id") for _, attrs in page.tags if attrs.get("id")]
    for section in ("org", "heatmap", "trends", "managers", "method", "heatmap-table"):
        assert section in ids
    pages = [attrs for tag, attrs in page.tags if tag == "section" and "manager" in (attrs.get("class") or "").split()]
    assert len(pages) == 4  # mgr-a .. mgr-d, one page each
    text = " ".join(page.text)
    for manager in ("mgr-a", "mgr-b", "mgr-c", "mgr-d"):
        assert f">{manager}</h2>" in html
    # the heatmap: one row per manager, cells carrying a state and a sort key
    rows = re.findall(r'<tr><th scope="row" data-sort="([^"]+)">', html)
    assert rows == ["mgr-a", "mgr-b", "mgr-c", "mgr-d"]  # worst first, then by name
    assert 'class="state watch"' in html and 'class="state unassessed"' in html
    # the method names the rule, its parameters as set and, since it fired, its known false positives
    assert "knee-jerk-reactionary/strategy-churn" in text and "bed_down" in text
    assert "Known false positives" in text
    # not assessed, with the reason
    assert "shorter than the 90-day window" in text


def _manager_section(html: str, manager: str) -> str:
    start = html.index(f">{manager}</h2>")
    end = html.find('<section class="manager"', start)
    return html[start : end if end > 0 else html.index('<section id="method"')]


def test_trend_marks_persisting_and_resolved(log: Path) -> None:
    html = audit()
    # mgr-a churned in both quarters: the same pattern, persisting
    assert 'class="badge status-persisting">persisting' in _manager_section(html, "mgr-a")
    # mgr-b churned in 2025-Q4 and changed strategy once in 2026-Q1: judged again and resolved
    mgr_b = _manager_section(html, "mgr-b")
    assert "No longer seen since 2025-Q4" in mgr_b
    assert 'status-resolved">resolved</span>' in mgr_b and "2025-10-07 .. 2025-11-04" in mgr_b
    assert "persisting" not in mgr_b and "finding sev-" not in mgr_b
    # the trend table: 2 findings before, 1 now (persisting), 1 resolved
    row = re.search(
        r"<th scope=\"row\">knee-jerk-reactionary</th>((?:<td>\d+</td>)+)</tr>", html[html.index('id="trends"') :]
    )
    assert row is not None
    assert re.findall(r"\d+", row.group(1)) == ["2", "1", "0", "1", "1", "0"]


def test_compare_to_names_the_other_period(log: Path) -> None:
    html = audit("--compare-to", "2025-10-01..2025-12-31")
    assert "compared with 2025-10-01..2025-12-31" in html


def test_no_comparison_without_an_earlier_period(log: Path) -> None:
    code, out, err = run("events.jsonl", "--period", "2025-Q4", *churn_args(), "--format", "md")
    assert code == 0, err
    assert "No earlier period to compare with" in out
    assert "no comparison: the log holds no events in 2025-Q3" in out


def test_self_contained(log: Path) -> None:
    html = audit()
    page = parse(html)
    for tag, attrs in page.tags:
        for name in ("src", "href", "action", "xlink:href", "srcset", "poster", "data"):
            value = attrs.get(name)
            if value is None:
                continue
            assert value.startswith("#") or value.startswith("data:"), (tag, name, value)
    assert not [tag for tag, _ in page.tags if tag in ("link", "iframe", "img", "object", "embed", "base")]
    for style in [*page.styles, *(attrs.get("style") or "" for _, attrs in page.tags)]:
        assert "@import" not in style
        for target in re.findall(r"url\(\s*['\"]?([^)'\"]*)", style):
            assert target.startswith("#") or target.startswith("data:"), target
    assert not re.search(r"url\(\s*['\"]?(?!#|data:)", html)
    assert "http://" not in html.replace("http://www.w3.org/", "")  # SVG's own namespaces are names, not requests
    assert "https://" not in html
    assert page.scripts == [f"\n{SORT_JS}\n"]  # the one script is the heatmap's sorting, inline


def test_hostile_event_text_is_shown_as_text(log: Path) -> None:
    html = audit()
    page = parse(html)
    assert [tag for tag, _ in page.tags].count("script") == 1
    assert "img" not in [tag for tag, _ in page.tags]
    for _, attrs in page.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), name
            assert "javascript:" not in (value or "")
    text = "".join(page.text)
    assert "<script>alert(1)</script>" in text  # shown, as text
    assert '"><img src=x onerror=alert(2)>' in text
    assert "&lt;script&gt;" in html
    assert "\u202e" not in html and "\u2066" not in html  # bidi controls made visible
    assert "<U+202E>gnp.exe" in text
    assert HOSTILE_URL not in html  # a record link that is not a web address is left out


def test_hostile_event_text_in_markdown(log: Path) -> None:
    md = audit("--format", "md")
    assert "<script" not in md and "<img" not in md
    assert "\u202e" not in md and "\u2066" not in md
    assert not re.search(r"(?<!\\)\]\(javascript:", md)  # no link can form
    assert HOSTILE_URL not in md
    for line in md.splitlines():
        if "a-q1-1" in line:
            assert line.startswith("| `a-q1-1` ")  # the text stayed inside its table cell


def test_markdown_golden(log: Path) -> None:
    md = audit("--format", "md")
    golden = GOLDEN / "audit.md"
    if os.environ.get("SALESMIRROR_UPDATE_GOLDEN"):
        golden.write_text(md, encoding="utf-8")
    assert md == golden.read_text(encoding="utf-8")


def test_output_file_and_format_from_extension(log: Path) -> None:
    run("events.jsonl", "--period", "2026-Q1", *churn_args(), "-o", "report.md")
    assert Path("report.md").read_text(encoding="utf-8").startswith("# Sales-manager audit")
    run("events.jsonl", "--period", "2026-Q1", *churn_args(), "-o", "report.html")
    assert Path("report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_same_input_same_bytes(log: Path) -> None:
    assert audit() == audit()


def test_input_order_changes_only_the_line_numbers(log: Path) -> None:
    write_log(Path("shuffled.jsonl"), shuffle=7)
    first = audit("--format", "md")
    second = audit("--format", "md", log_name="shuffled.jsonl")

    def without_places(text: str) -> str:
        return re.sub(r"(events|shuffled)\.jsonl(:\d+)?", "LOG", text)

    assert first != second  # the citations do follow the file
    assert without_places(first) == without_places(second)
    html_first, html_second = audit(), audit(log_name="shuffled.jsonl")
    assert without_places(html_first) == without_places(html_second)


def test_redact_replaces_people_everywhere(log: Path) -> None:
    for fmt in ("html", "md"):
        out = audit("--redact", "--format", fmt)
        for person in ("mgr-a", "mgr-b", "mgr-c", "mgr-d", "rep-a1", "rep-d1", "00TA1"):
            assert person not in out, (fmt, person)
        assert "newer pitch" not in out  # event text may name people: left out, not scrubbed
        assert re.search(r"manager-[0-9a-f]{8}", out)


def test_whole_log_without_period(log: Path) -> None:
    code, out, err = run("events.jsonl", *churn_args(), "--format", "md")
    assert code == 0, err
    assert "**Period:** the whole log" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2026-Q5"], "'2026-Q5' is not a period"),
        (["--period", "2026-13"], "there is no month 13"),
        (["--compare-to", "2025-Q4"], "--compare-to needs --period"),
        (["--period", "2026-Q1", "--compare-to", "2026-03"], "--compare-to 2026-03 overlaps --period 2026-Q1"),
        (["--period", "2024-Q1"], "the log holds no events in 2024-Q1"),
        (["--period", "2026-Q1", "--compare-to", "2024-Q1"], "--compare-to 2024-Q1: the log holds no events"),
    ],
)
def test_usage_errors(log: Path, args: list[str], message: str) -> None:
    code, out, err = run("events.jsonl", *churn_args(), *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err and out == ""


def test_every_bad_event_located_at_once(log: Path) -> None:
    Path("bad.jsonl").write_text('{"id": "x1"}\nnot json\n', encoding="utf-8")
    code, out, err = run("events.jsonl", "bad.jsonl", "--period", "2026-Q1", *churn_args())
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert any(line.startswith("bad.jsonl:1: ") for line in lines)
    assert any(line.startswith("bad.jsonl:2: ") for line in lines)
    assert "Traceback" not in err


def test_output_over_an_input_is_refused(log: Path) -> None:
    code, _, err = run("events.jsonl", *churn_args(), "-o", "events.jsonl")
    assert code == 2 and "is also an input" in err
    assert Path("events.jsonl").read_text(encoding="utf-8").startswith("{")
