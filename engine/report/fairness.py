"""What a finding must say before it names a person: severity it has earned, what was left out, why.

The backend's rows say what the rule measured; this module adds, per finding:

- **severity earned**: a rule's top severity (high) needs breadth and
  persistence. A team-level finding gets the rule's severity only at full
  breadth (``engine.lang.team``, ``sm_tier``); any other finding resting on
  one rep, or on one calendar or sliding window, is reported one level lower,
  and the note says why;
- **what was excluded**: days the rep or manager was away, time before the
  team logged the events the rule needs, events merged into one decision;
- **what a zero means**: a finding whose count is zero names what it looked for.

And, per rule and manager, the not-assessed entries that data coverage
produces: a log without any of the events a rule needs, and teams whose
logging of them started late.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.lang.plan import CompiledRule
from engine.report.model import Finding, NotAssessed, iso
from engine.vocab import family_words

LOWER = {"high": "medium", "medium": "low", "low": "low"}
TOP = "high"


def _day(value: Any) -> str:
    return value.date().isoformat() if isinstance(value, datetime) else str(value)


def number_words(value: Any) -> str:
    """A number for a sentence: floats to one decimal, whole when whole."""
    if isinstance(value, float):
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return str(value)


def graded(rule: CompiledRule, row: dict[str, Any], severity: str) -> tuple[str, list[str]]:
    """The severity a finding has earned, and a note when it is lower than the rule's."""
    if rule.team:
        if int(row.get("sm_tier") or 0) >= 1 or severity == LOWER[severity]:
            return severity, []
        reps, team = row.get("reps_over"), row.get("team_reps")
        return LOWER[severity], [
            f"severity lowered from {severity} to {LOWER[severity]}: {reps} of {team} reps, short of the breadth "
            "the rule's own severity needs"
        ]
    if severity != TOP:
        return severity, []
    if "rep" in rule.group_fields and row.get("rep") is not None:
        return LOWER[severity], [f"severity lowered from {severity} to {LOWER[severity]}: the finding is about one rep"]
    windows = int(row.get("windows") or 1)
    if rule.window.mode in ("calendar", "sliding") and windows <= 1:
        unit = f"calendar {rule.window.unit}" if rule.window.mode == "calendar" else "sliding window"
        return LOWER[severity], [
            f"severity lowered from {severity} to {LOWER[severity]}: the pattern holds in one {unit} only"
        ]
    return severity, []


def team_reps(rule: CompiledRule, row: dict[str, Any]) -> list[dict[str, Any]]:
    """A team finding's reps, worst first: rep, the rule's metric, window, and their own metrics."""
    from engine.report.build import clean_number  # (build imports this module)

    if not rule.team:
        return []
    out = []
    for item in row.get("reps") or []:
        metrics = {name: clean_number(item.get(f"m_{name}")) for name in rule.rep_metrics}
        out.append(
            {
                "rep": item.get("rep"),
                "metric": clean_number(item.get("metric")),
                "window": {"start": iso(item.get("window_start")), "end": iso(item.get("window_end"))},
                "metrics": metrics,
                "evidence": list(item.get("evidence") or []),
            }
        )
    reverse = rule.op not in ("lt", "lte")
    out.sort(key=lambda r: (-(r["metric"] or 0) if reverse else (r["metric"] or 0), str(r["rep"])))
    return out


def reps_text(reps: list[dict[str, Any]]) -> str:
    """The reps of a team finding for a message: 'rep-2 (56), rep-5 (41)'."""
    return ", ".join(f"{r['rep']} ({number_words(r['metric'])})" for r in reps)


def notes(
    rule: CompiledRule, finding: Finding, reps: list[dict[str, Any]], logged: dict[str, dict[str, Any]]
) -> list[str]:
    """What was left out of the measure, and what a zero means, in words."""
    out: list[str] = []
    away = [(r["rep"], r["metrics"].get("away_days")) for r in reps if r["metrics"].get("away_days")]
    if not rule.team and finding.metrics.get("away_days"):
        away = [(finding.rep, finding.metrics["away_days"])]
    for rep, days in away:
        who = f"{rep} or the manager" if rep else "the manager"
        out.append(
            f"{number_words(days)} days when {who} was away (a recorded absence, or no events at all for two weeks or "
            "more) are left out of the measure"
        )
    entry = logged.get(finding.manager)
    if entry is not None:
        out.append(
            f"{_families(rule)} events were logged for this team only from {_day(entry['logged_from'])}; "
            "the time before is not assessed"
        )
    if rule.merged:
        out.append(rule.merged)
    zero = [name for name in ("count", "contacts") if finding.metrics.get(name) == 0]
    silent = [r["rep"] for r in reps if any(r["metrics"].get(name) == 0 for name in ("count", "contacts"))]
    if (zero or silent) and rule.needs:
        looked = " or ".join(", ".join(types) for types in rule.needs)
        where = f"for {', '.join(map(str, silent))}" if silent and not zero else "here"
        out.append(
            f"none of the events looked for ({looked}) were found {where}; the log holds them for other teams, "
            "reps or times, so none is read as not done rather than not logged"
        )
    return out


def _families(rule: CompiledRule) -> str:
    words = [family_words(f) for f in rule.logged_families]
    if not words:
        return "the rule's"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def coverage_not_assessed(rule: CompiledRule, rows: list[dict[str, Any]]) -> list[NotAssessed]:
    """Managers whose team logged the rule's events only from some date: the time before is not judged."""
    out = []
    for row in rows:
        started, led = row.get("logged_from"), row.get("led_from")
        if started is None:
            continue
        days = (started - led).days if isinstance(started, datetime) and isinstance(led, datetime) else 0
        reason = (
            f"no {_families(rule)} events logged for this team before {_day(started)} "
            f"({days} days after the period led began); that time is not assessed"
        )
        out.append(NotAssessed(rule.id, row["manager"], 0, 0, reason))
    return out


def small_team_not_assessed(rule: CompiledRule, rows: list[dict[str, Any]]) -> list[NotAssessed]:
    """Managers whose teams were smaller than the rule's min_team for some or all of the time led."""
    return [
        NotAssessed(
            rule.id,
            row["manager"],
            0,
            0,
            f"a team of {row['team_size']} rep(s), under the {row['needed']} this rule needs to compare fairly; "
            "that time is not assessed",
        )
        for row in rows
    ]


def missing_not_assessed(rule: CompiledRule, missing: list[list[str]]) -> tuple[NotAssessed, str]:
    """The rule-wide entry (and the run's warning) when the whole log lacks events the rule needs."""
    types = "; nor any of ".join(", ".join(t) for t in missing)
    reason = f"the log holds none of the events this rule needs ({types}), so it could not judge anyone"
    return NotAssessed(rule.id, None, 0, 0, reason), f"rule '{rule.id}' not assessed: {reason}"


def merge_not_assessed(entries: list[NotAssessed]) -> list[NotAssessed]:
    """One entry per rule and manager: reasons joined, counts added."""
    merged: dict[tuple[str, str | None], NotAssessed] = {}
    for entry in entries:
        key = (entry.rule, entry.manager)
        if key not in merged:
            merged[key] = entry
            continue
        first = merged[key]
        merged[key] = NotAssessed(
            entry.rule,
            entry.manager,
            first.windows + entry.windows,
            first.not_assessed + entry.not_assessed,
            f"{first.reason}; {entry.reason}",
        )
    return list(merged.values())
