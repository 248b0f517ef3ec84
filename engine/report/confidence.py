"""How sure a finding is, what speaks against it, and how often it held.

Every finding gets:

- ``persistence``: the windows it holds in against the windows its manager
  was assessed in ("2 of 3 months"), or what a whole-period or gap rule rests
  on;
- ``confidence``: a level (high, medium, low), a score from 0 to 1 and its
  basis in words, from three things: the **margin** over the threshold (for a
  share, a ratio whose numerator is part of its denominator, whether the 95 %
  Wilson interval lies wholly past the line; for counts, gaps and other
  ratios, how far past it the value is), **persistence**
  (more than one window, or a long stretch) and **breadth** (a manager-level
  measure, or several reps of the team). A low-confidence finding is reported
  as a ``watch`` item, not a verdict;
- ``counter_evidence``: the facts from the rule's ``counter_evidence`` section
  found in the same window for the same manager (engine.lang.counter), each
  worded and with the events behind it.
"""

from __future__ import annotations

import math
from typing import Any

from engine.lang.plan import CompiledRule
from engine.lang.templates import render
from engine.report.fairness import number_words
from engine.report.model import Finding

Z95 = 1.959964  # the 95 % quantile of the normal distribution, both sides
COUNTER_EVIDENCE_SHOWN = 10  # events cited per counter-evidence fact
UNITS = {"week": ("week", "weeks"), "month": ("month", "months"), "quarter": ("quarter", "quarters")}


def wilson(successes: float, total: float) -> tuple[float, float]:
    """The 95 % Wilson score interval of a share (0, 1 for an empty total)."""
    if total <= 0:
        return 0.0, 1.0
    p = min(max(successes / total, 0.0), 1.0)
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * total)) / (1 + z2 / total)
    half = Z95 * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total)) / (1 + z2 / total)
    return max(0.0, centre - half), min(1.0, centre + half)


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _float(value: Any) -> float | None:
    """A number from SQL (ints, floats, Decimals) as a float; None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _margin(rule: CompiledRule, finding: Finding, row: dict[str, Any]) -> tuple[int, str]:
    """(0 weak, 1 moderate, 2 strong, how far past the line it is, in words)."""
    op = rule.op
    above = op in ("gt", "gte")
    threshold = _float(row.get("threshold"))
    if rule.metric_name == "ratio" and len(rule.metric_names) >= 2 and not rule.team:
        num = finding.metrics.get(rule.metric_names[0])
        den = finding.metrics.get(rule.metric_names[1])
        share = isinstance(num, (int, float)) and isinstance(den, (int, float)) and 0 <= num <= den and den > 0
        if share and threshold is not None and 0 <= threshold <= 1:  # a share: its interval
            assert isinstance(num, (int, float)) and isinstance(den, (int, float))
            low, high = wilson(float(num), float(den))
            line = float(threshold)
            words = (
                f"{number_words(num)} of {number_words(den)} ({_pct(num / den)}; 95% interval {_pct(low)}-{_pct(high)})"
            )
            if (above and low > line) or (not above and high < line):
                return 2, f"{words}, wholly past {_pct(line)}"
            ratio = num / den
            if (above and ratio >= line * 1.25) or (not above and ratio <= line * 0.75):
                return 1, f"{words}: the interval reaches {_pct(line)}"
            return 0, f"{words}: close to {_pct(line)}"
    metric = _float(row.get("metric"))
    if metric is None or threshold is None:
        return 1, "no margin to measure"
    scale = max(abs(float(threshold)), 1.0)
    past = (float(metric) - float(threshold)) / scale if above else (float(threshold) - float(metric)) / scale
    words = f"{rule.metric_name} {number_words(finding.metrics.get(rule.metric_name, metric))} against {number_words(threshold)}"
    if past >= 0.5:
        return 2, f"{words}: well past the line"
    if past >= 0.2:
        return 1, f"{words}: past the line"
    return 0, f"{words}: just past the line"


def persistence(rule: CompiledRule, row: dict[str, Any], assessed: dict[str, int]) -> dict[str, Any]:
    """The windows the finding holds in, against those its manager was assessed in."""
    windows = int(row.get("windows") or 1)
    plan = rule.window
    out: dict[str, Any] = {"windows": windows, "mode": plan.mode if plan.mode != "calendar" else plan.unit}
    if plan.mode == "calendar":
        out["assessed"] = max(assessed.get(row["manager"], windows), windows)
    return out


def _persistence_point(rule: CompiledRule, finding: Finding, held: dict[str, Any]) -> tuple[int, str]:
    plan = rule.window
    if plan.mode == "calendar":
        one, many = UNITS.get(plan.unit, (plan.unit, plan.unit + "s"))
        words = f"holds in {held['windows']} of {held['assessed']} {many if held['assessed'] != 1 else one} assessed"
        return (1 if held["windows"] >= 2 else 0), words
    if plan.mode == "sliding":
        times = held["windows"]
        return (1 if times >= 2 else 0), f"the window reached the line at {times} event{'s' if times != 1 else ''}"
    days = (finding.window_end - finding.window_start).total_seconds() / 86400
    return (1 if days >= 28 else 0), f"over {number_words(round(days, 1))} days"


def _breadth_point(rule: CompiledRule, finding: Finding) -> tuple[int, str]:
    if rule.team:
        reps, team = finding.metrics.get("reps_over"), finding.metrics.get("team_reps")
        return (1 if isinstance(reps, int) and reps >= 2 else 0), f"{reps} of {team} reps"
    if "rep" in rule.group_fields or "deal" in rule.group_fields:
        return 0, "one rep or deal"
    return 1, "the manager's own measure"


def confidence(rule: CompiledRule, finding: Finding, row: dict[str, Any], held: dict[str, Any]) -> dict[str, Any]:
    """Level, score and basis of a finding (see the module docstring)."""
    margin, margin_words = _margin(rule, finding, row)
    lasting, lasting_words = _persistence_point(rule, finding, held)
    broad, broad_words = _breadth_point(rule, finding)
    points = margin + lasting + broad
    level = "high" if points >= 4 else ("medium" if points >= 2 else "low")
    return {"level": level, "score": round(points / 4, 2), "basis": [margin_words, lasting_words, broad_words]}


def counter_evidence(rule: CompiledRule, row: dict[str, Any]) -> list[dict[str, Any]]:
    """The rule's counter-evidence facts found for this finding, worded, with their events."""
    from engine.report.build import clean_number  # (build imports this module)

    hits = {hit["name"]: hit for hit in row.get("sm_counter") or []}
    out: list[dict[str, Any]] = []
    for plan in rule.counter:
        hit = hits.get(plan.name)
        if hit is None or hit["value"] is None:
            continue
        value = clean_number(hit["value"])
        if not isinstance(value, (int, float)) or value < plan.at_least:
            continue
        values = {**rule.params, "value": value, "count": hit["count"]}
        ids = list(dict.fromkeys(hit["ids"]))
        out.append(
            {
                "name": plan.name,
                "says": render(plan.says, values),
                "value": value,
                "evidence": ids[:COUNTER_EVIDENCE_SHOWN],
                "evidence_total": len(ids),
            }
        )
    return out
