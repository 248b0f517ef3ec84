"""The audit report opened in a real headless browser (Debian's ``chromium``).

Skipped, with the reason, when chromium is not installed (``apt-get install
chromium``). Every request chromium makes is sent to a proxy on
127.0.0.1:9, where nothing listens, and every host name is unresolvable, so
nothing leaves the machine whatever a page asks for. The network log tells
the page's requests (initiated by the document) from chromium's own; a
control page with an image and a fetch proves the check sees them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.audit.command import audit_command
from tests.audit_log import churn_args, write_log

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--no-pings",
    "--proxy-server=127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--enable-logging=stderr",
    "--v=0",
    "--hide-scrollbars",
]


def chromium(page: Path, *args: str) -> tuple[str, list[str], list[str]]:
    """Open ``page``: what chromium printed, the console messages, and the URLs the page itself requested."""
    assert CHROMIUM is not None
    net = page.with_suffix(".net.json")
    done = subprocess.run(
        [CHROMIUM, *FLAGS, f"--log-net-log={net}", *args, page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    log = json.loads(net.read_text(encoding="utf-8"))
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    requested = [
        event["params"]["url"]
        for event in log["events"]
        if event["type"] == start
        and "url" in event.get("params", {})
        and event["params"].get("initiator") != "not an origin"  # chromium's own services
        and event["params"]["url"] != page.resolve().as_uri()
    ]
    return done.stdout, console, requested


@pytest.fixture()
def report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write_log(Path("events.jsonl"))
    result = CliRunner().invoke(
        audit_command, ["events.jsonl", "--period", "2026-Q1", *churn_args(), "-o", "report.html"]
    )
    assert result.exit_code == 0, result.stderr
    return tmp_path / "report.html"


def test_the_detector_sees_a_page_that_reaches_out(tmp_path: Path) -> None:
    page = tmp_path / "control.html"
    page.write_text(
        '<html><body><img src="http://127.0.0.1:9/x.png"><script>console.error("boom")</script></body></html>',
        encoding="utf-8",
    )
    _, console, requested = chromium(page, "--dump-dom")
    assert "http://127.0.0.1:9/x.png" in requested
    assert any("boom" in line for line in console)


def test_opens_with_no_request_and_no_console_message(report: Path) -> None:
    dom, console, requested = chromium(report, "--dump-dom")
    assert requested == []
    assert console == []
    # after the scripts ran: the heatmap and every manager page are there, the hostile text is text
    assert 'id="heatmap-table"' in dom
    assert dom.count('<section class="manager"') == 4
    assert "<img" not in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "onerror=alert(2)&gt;" in dom


def test_heatmap_and_a_manager_page_are_visible(report: Path, tmp_path: Path) -> None:
    from PIL import Image

    shot = tmp_path / "shot.png"
    chromium(report, f"--screenshot={shot}", "--window-size=1280,5200")
    image = Image.open(shot).convert("RGB")
    width, height = image.size
    colours: dict[tuple[int, int, int], int] = {}
    for y in range(0, height, 2):  # the first row of each colour
        for x in range(0, width, 2):
            colours.setdefault(image.getpixel((x, y)), y)  # type: ignore[arg-type]
    watch_cell = colours.get((207, 207, 212))  # the heatmap's "watch" cell (CSS --watch)
    unassessed_cell = colours.get((241, 241, 244))  # "not assessed" cells (--na)
    medium_badge = colours.get((224, 112, 61))  # the severity badge on mgr-a's finding (--medium)
    advice = colours.get((243, 247, 251))  # the advice box of that finding
    assert watch_cell is not None and unassessed_cell is not None, "the heatmap is not drawn"
    assert medium_badge is not None and advice is not None, "no manager page with a finding is drawn"
    assert watch_cell < medium_badge  # the heatmap comes before the manager pages


def test_print_to_pdf_breaks_pages(report: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    chromium(report, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = data.count(b"/Type /Page") - data.count(b"/Type /Pages")
    # cover, organisation, heatmap, trends, managers' heading, four manager pages, method: each starts a page
    assert pages >= 9
