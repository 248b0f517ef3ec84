"""Suppressions: a reviewed, dated acceptance of a known finding.

A suppression file is YAML holding ``suppressions:``, a list of entries::

    suppressions:
      - rule: detached-dictator/rep-without-contact   # or trait: detached-dictator
        manager: mgr-007
        rep: rep-031                # optional, like deal and period
        period: 2026-Q1             # 2026, 2026-Q1, 2026-03, 2026-W10, 2026-03-02 or 2026-03-02..2026-03-20
        reason: On agreed leave for the quarter; HR case 4411.
        approved_by: hr-partner@example.com
        expires: 2026-06-30

An entry names a rule or a trait (not both) and a manager, and must say why
(``reason``), who approved it (``approved_by``) and until when (``expires``,
the last day it applies): a suppression nobody can account for, or one that
never lapses, would silently hide a finding about a person for good. Every
problem is reported at its ``file:line:col``, all of them in one run.

A finding is suppressed by the first entry, in file order, that matches it:
the same rule (or trait) and manager, the same rep and deal when the entry
names them, and a window that lies wholly inside the entry's period when it
gives one (a finding that runs on past the period is not covered, and shows
again). Suppressed findings are set aside in ``report.suppressed``, counted,
never dropped. An entry past its expiry date suppresses nothing and produces
a warning; an entry that matched no finding is reported as unused.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from engine.errors import ConfigError, Problem
from engine.lang.yamlpos import Located, YamlProblems, read_located
from engine.report.model import Finding, Report

__all__ = [
    "Period",
    "Suppression",
    "apply_suppressions",
    "check_names",
    "collect_suppressions",
    "parse_period",
    "read_suppressions",
]


@dataclass(frozen=True)
class Period:
    """Days from ``start`` up to, not including, ``end``; ``text`` as the entry wrote it."""

    start: date
    end: date
    text: str

    def holds(self, start: datetime, end: datetime, *, end_included: bool = False) -> bool:
        """Whether a window from ``start`` to ``end`` lies wholly inside the period.

        ``end_included``: the window's end is a moment in it (a sliding window ends at
        its last event), so it must fall before the period's end; otherwise the end is
        a boundary (a calendar month ends where the next begins) and may equal it.
        """
        first = datetime(self.start.year, self.start.month, self.start.day)
        after = datetime(self.end.year, self.end.month, self.end.day)
        return first <= start and (end < after if end_included else end <= after)


_YEAR = re.compile(r"(\d{4})")
_QUARTER = re.compile(r"(\d{4})-[Qq]([1-4])")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_WEEK = re.compile(r"(\d{4})-W(\d{2})")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_FORMS = "a year (2026), quarter (2026-Q1), month (2026-03), ISO week (2026-W10), day (2026-03-02) or days (2026-03-02..2026-03-20)"


def _month_after(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1)


def _day(text: str) -> date:
    if not _DAY.fullmatch(text):
        raise ValueError(f"'{text}' is not a day (YYYY-MM-DD)")
    return date.fromisoformat(text)


def parse_period(value: Any) -> Period:
    """A period as an entry may write it; ValueError says which forms there are."""
    if isinstance(value, bool):
        raise ValueError(f"give {_FORMS}")
    if isinstance(value, date) and not isinstance(value, datetime):
        return Period(value, value + timedelta(days=1), value.isoformat())
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"give {_FORMS}")
    text = value.strip()
    try:
        if ".." in text:
            first, _, last = text.partition("..")
            start, end = _day(first.strip()), _day(last.strip())
            if end < start:
                raise ValueError(f"'{text}' ends before it starts")
            return Period(start, end + timedelta(days=1), text)
        if _YEAR.fullmatch(text):
            year = int(text)
            return Period(date(year, 1, 1), date(year + 1, 1, 1), text)
        quarter = _QUARTER.fullmatch(text)
        if quarter:
            year, first_month = int(quarter.group(1)), (int(quarter.group(2)) - 1) * 3 + 1
            return Period(date(year, first_month, 1), _month_after(year, first_month + 2), text)
        week = _WEEK.fullmatch(text)
        if week:
            monday = date.fromisocalendar(int(week.group(1)), int(week.group(2)), 1)
            return Period(monday, monday + timedelta(days=7), text)
        month = _MONTH.fullmatch(text)
        if month:
            year, number = int(month.group(1)), int(month.group(2))
            return Period(date(year, number, 1), _month_after(year, number), text)
        if _DAY.fullmatch(text):
            day = date.fromisoformat(text)
            return Period(day, day + timedelta(days=1), text)
    except ValueError as err:
        if "is not a day" in str(err) or "ends before" in str(err):
            raise
        raise ValueError(f"'{text}' is not a valid period ({err})") from None
    raise ValueError(f"'{text}' is not a period; give {_FORMS}")


class _Entry(BaseModel):
    """One entry as written; the checks here are the ones a single entry can fail."""

    model_config = ConfigDict(extra="forbid")

    rule: str | None = None
    trait: str | None = None
    manager: str
    rep: str | None = None
    deal: str | None = None
    period: Any = None  # read by parse_period, which names the forms it accepts
    reason: str
    approved_by: str
    expires: date

    @field_validator("reason", "approved_by", "manager", "rule", "trait", "rep", "deal")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be empty")
        return value.strip() if value is not None else None

    @field_validator("expires", mode="before")
    @classmethod
    def _a_day(cls, value: Any) -> Any:
        if isinstance(value, datetime):
            raise ValueError("give a day (YYYY-MM-DD), not a time")
        if isinstance(value, str):
            return _day(value.strip())
        if not isinstance(value, date):
            raise ValueError("give a day (YYYY-MM-DD)")
        return value


_REQUIRED = {
    "manager": "name the manager whose finding it accepts",
    "reason": "say why the finding is accepted",
    "approved_by": "say who approved it",
    "expires": "give the last day it applies (YYYY-MM-DD), so it is reviewed again",
}
_FIELDS = list(_Entry.model_fields)


@dataclass(frozen=True)
class Suppression:
    """One valid entry, with where it is written (for warnings that name it)."""

    path: str
    line: int
    col: int
    number: int  # its place in the file's list, from 1
    rule: str | None
    trait: str | None
    manager: str
    rep: str | None
    deal: str | None
    period: Period | None
    reason: str
    approved_by: str
    expires: date

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"

    @property
    def what(self) -> str:
        """How warnings name the entry (after its place): its rule or trait, never the people it names.

        Warnings reach logs and SARIF files that ``--redact`` output goes into, and an
        unused entry may name someone the report (and so the redaction) never saw.
        """
        return self.rule or f"trait {self.trait}"

    def expired(self, today: date) -> bool:
        return today > self.expires

    def matches(self, finding: Finding) -> bool:
        if self.rule is not None and finding.rule != self.rule:
            return False
        if self.trait is not None and finding.trait != self.trait:
            return False
        if finding.manager != self.manager:
            return False
        if self.rep is not None and finding.rep != self.rep:
            return False
        if self.deal is not None and finding.deal != self.deal:
            return False
        if self.period is None:
            return True
        sliding = finding.threshold.get("window") == "sliding"
        return self.period.holds(finding.window_start, finding.window_end, end_included=sliding)

    def record(self) -> dict[str, Any]:
        """What a suppressed finding carries of the entry (JSON, SARIF's justification, text)."""
        return {
            "reason": self.reason,
            "approved_by": self.approved_by,
            "expires": self.expires.isoformat(),
            "entry": self.where,
        }


def _problem(doc: Located, error: Any) -> Problem:
    loc = tuple(error["loc"])
    index = loc[1] if len(loc) > 1 else 0
    label = f"invalid suppression {int(index) + 1}" if isinstance(index, int) else "invalid suppression"
    field_name = str(loc[2]) if len(loc) > 2 else ""
    if error["type"] == "extra_forbidden":
        hint = difflib.get_close_matches(field_name, _FIELDS, n=1)
        tip = f" (did you mean '{hint[0]}'?)" if hint else f" (known: {', '.join(_FIELDS)})"
        return doc.problem(loc, f"{label}: unknown key '{field_name}'{tip}", key=True)
    if error["type"] == "missing":
        return doc.problem(
            loc[:2], f"{label}: '{field_name}' is missing: {_REQUIRED.get(field_name, 'it is required')}"
        )
    message = str(error["msg"]).removeprefix("Value error, ")
    return doc.problem(loc, f"{label}: {field_name}: {message}")


def _read_one(path: str) -> tuple[list[Suppression], list[Problem]]:
    try:
        doc = read_located(path)
    except OSError as err:
        return [], [Problem(path, 0, 0, f"cannot read suppressions: {err.strerror or err}")]
    except YamlProblems as exc:
        return [], list(exc.problems)
    data = doc.data
    shape = "the file must be a mapping with one key, 'suppressions', holding a list of entries"
    if not isinstance(data, dict) or "suppressions" not in data:
        return [], [doc.problem((), f"invalid suppressions: {shape}")]
    problems = [
        doc.problem((key,), f"invalid suppressions: unknown key '{key}' ({shape})", key=True)
        for key in data
        if key != "suppressions"
    ]
    entries = data["suppressions"]
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        return [], [*problems, doc.problem(("suppressions",), f"invalid suppressions: {shape}")]
    found: list[Suppression] = []
    for index, entry in enumerate(entries):
        where = ("suppressions", index)
        if not isinstance(entry, dict):
            problems.append(doc.problem(where, f"invalid suppression {index + 1}: an entry must be a mapping"))
            continue
        label = f"invalid suppression {index + 1}"
        entry_problems = []  # what the model cannot say: checked on the raw entry, so all come out at once
        if (entry.get("rule") is None) == (entry.get("trait") is None):
            both = (
                "name a rule or a trait, not both" if entry.get("rule") else "name the rule (or the trait) it accepts"
            )
            entry_problems.append(doc.problem(where, f"{label}: {both}"))
        period: Period | None = None
        if entry.get("period") is not None:
            try:
                period = parse_period(entry["period"])
            except ValueError as err:
                entry_problems.append(doc.problem((*where, "period"), f"{label}: period: {err}"))
        try:
            parsed = _Entry.model_validate(entry)
        except ValidationError as exc:
            problems += [_problem(doc, {**error, "loc": (*where, *error["loc"])}) for error in exc.errors()]
            problems += entry_problems
            continue
        if entry_problems:
            problems += entry_problems
            continue
        line, col = doc.where(where)
        found.append(
            Suppression(
                path=path,
                line=line,
                col=col,
                number=index + 1,
                rule=parsed.rule,
                trait=parsed.trait,
                manager=parsed.manager,
                rep=parsed.rep,
                deal=parsed.deal,
                period=period,
                reason=parsed.reason,
                approved_by=parsed.approved_by,
                expires=parsed.expires,
            )
        )
    return found, problems


def collect_suppressions(paths: Sequence[str]) -> tuple[list[Suppression], list[Problem]]:
    """Every valid entry of every file, in order, and every problem of every file.

    The valid entries come back even when others are invalid, so their rule and
    trait names can be checked in the same run (:func:`check_names`).
    """
    found: list[Suppression] = []
    problems: list[Problem] = []
    for path in paths:
        entries, trouble = _read_one(path)
        found += entries
        problems += trouble
    return found, problems


def read_suppressions(paths: Sequence[str]) -> list[Suppression]:
    """Every entry of every file, in order; ConfigError listing every problem of every file."""
    found, problems = collect_suppressions(paths)
    if problems:
        raise ConfigError(problems)
    return found


def check_names(entries: Sequence[Suppression], rules: Collection[str], traits: Collection[str]) -> list[Problem]:
    """Entries naming a rule or trait that no loaded rule has (a typo would suppress nothing, quietly)."""
    problems: list[Problem] = []
    for entry in entries:
        name, known, kind = (entry.rule, rules, "rule") if entry.rule else (entry.trait, traits, "trait")
        if name is None or name in known:
            continue
        hint = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.5)
        tip = f" (did you mean '{hint[0]}'?)" if hint else ""
        message = f"invalid suppression {entry.number}: unknown {kind} '{name}'{tip}"
        problems.append(Problem(entry.path, entry.line, entry.col, message))
    return problems


def apply_suppressions(report: Report, entries: Sequence[Suppression], files: Sequence[str], today: date) -> None:
    """Set aside the findings ``entries`` accept, in place; warn of expired and unused entries.

    ``today`` decides expiry (an entry applies up to and including its ``expires``
    day); callers pass it in so the same input gives the same report on any day
    they choose to judge it.
    """
    report.suppression_files = list(files)
    live = [entry for entry in entries if not entry.expired(today)]
    used: set[int] = set()
    kept: list[Finding] = []
    for finding in report.findings:
        index = next((i for i, entry in enumerate(live) if entry.matches(finding)), None)
        if index is None:
            kept.append(finding)
            continue
        used.add(index)
        finding.suppression = live[index].record()
        report.suppressed.append(finding)
    report.findings = kept
    for entry in entries:
        if entry.expired(today):
            again = sum(entry.matches(finding) for finding in kept)
            shown = f"; the {again} finding(s) it matched are reported again" if again else ""
            report.warnings.append(
                f"{entry.where}: the suppression of {entry.what} expired on {entry.expires.isoformat()} "
                f"and no longer suppresses anything{shown}; review it, then renew or remove it"
            )
    for index, entry in enumerate(live):
        if index not in used:
            report.warnings.append(
                f"{entry.where}: the suppression of {entry.what} is unused: it matched no finding "
                "(remove it, or check its rule, manager and period)"
            )
    report.sort()
