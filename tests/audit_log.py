"""A small hand-built log for the audit and self-assessment tests.

Three managers over two quarters, judged by the strategy-churn rule only (so
every number can be checked by hand): mgr-a changes strategy every two weeks
in both quarters (a finding that persists), mgr-b churns in 2025-Q4 and
changes once in 2026-Q1 (resolved), mgr-c changes once a quarter (never a
finding), and mgr-d takes a team over ten days before the end of 2026-Q1 (too
short to judge: not assessed). One of mgr-a's changes carries hostile text.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHURN_RULES = [str(ROOT / "rules" / "knee-jerk-reactionary"), str(ROOT / "rules" / "_library.yaml")]

HOSTILE = (
    '<script>alert(1)</script> "><img src=x onerror=alert(2)> \u202egnp.exe \u2066x\u2069 [click](javascript:alert(3))'
)
HOSTILE_URL = "javascript:alert(4)"


def _event(event_id: str, ts: str, event_type: str, actor: str, **extra: Any) -> dict[str, Any]:
    return {"id": event_id, "ts": ts, "type": event_type, "actor": actor, **extra}


def _change(event_id: str, day: str, manager: str, summary: str, **extra: Any) -> dict[str, Any]:
    return _event(
        event_id,
        f"{day}T09:00:00Z",
        "strategy_changed",
        manager,
        manager=manager,
        attrs={"area": "messaging", "summary": summary},
        **extra,
    )


def events() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for manager, rep in (("mgr-a", "rep-a1"), ("mgr-b", "rep-b1"), ("mgr-c", "rep-c1")):
        out.append(_event(f"r-{rep}", "2025-09-01", "team_member_added", "hr", manager=manager, rep=rep))
    out.append(_event("r-rep-d1", "2026-03-22", "team_member_added", "hr", manager="mgr-d", rep="rep-d1"))
    # the edges of both quarters, so each period is covered from its first day to its last
    for index, day in enumerate(["2025-10-01", "2025-12-31", "2026-01-01", "2026-03-31"]):
        out.append(_event(f"e-{index}", f"{day}T12:00:00Z", "email_sent", "rep-c1", manager="mgr-c", rep="rep-c1"))
    for index, day in enumerate(["2025-10-06", "2025-10-20", "2025-11-03"]):
        out.append(_change(f"a-q4-{index}", day, "mgr-a", f"new pitch {index}"))
    for index, day in enumerate(["2026-01-05", "2026-01-19", "2026-02-02"]):
        source = {"system": "salesforce", "object": "Task", "record_id": f"00TA{index}"}
        if index == 1:
            source["url"] = HOSTILE_URL
        summary = HOSTILE if index == 1 else f"newer pitch {index}"
        out.append(_change(f"a-q1-{index}", day, "mgr-a", summary, source=source))
    for index, day in enumerate(["2025-10-07", "2025-10-21", "2025-11-04"]):
        out.append(_change(f"b-q4-{index}", day, "mgr-b", f"split territory {index}"))
    out.append(_change("b-q1-0", "2026-01-12", "mgr-b", "one considered change"))
    out.append(_change("c-q4-0", "2025-10-10", "mgr-c", "focus on retail"))
    out.append(_change("c-q1-0", "2026-02-10", "mgr-c", "focus on banks"))
    out.append(_change("d-q1-0", "2026-03-25", "mgr-d", "first week plan"))
    return out


def write_log(path: Path, *, shuffle: int | None = None) -> Path:
    lines = [json.dumps(e, sort_keys=True) for e in events()]
    if shuffle is not None:
        random.Random(shuffle).shuffle(lines)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def churn_args() -> list[str]:
    args = ["--no-config"]
    for directory in CHURN_RULES:
        args += ["--rules", directory]
    return args
