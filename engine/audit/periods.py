"""Periods an audit is cut into, and the part of a log that falls inside one.

An HR partner thinks in quarters and months, so a period is written
``2026-Q1``, ``2026-03``, ``2026`` or as explicit days ``2026-01-01..2026-03-31``
(both days included). Inside the engine a period is a half-open interval of
UTC instants, the same way every rule window is cut.

Evaluating a period means running the rules on the events dated inside it.
Team membership is not an event *of* a period but a state that lasts, so
roster events are always kept: a manager who took over a team in November is
still known to lead it in January, and the engine's scopes (clipped to the
events' span) judge each manager only for the part of the period they led.
A recorded absence that began before the period but reaches into it is kept
too, dated at the period's start, so a rep away over New Year is not taken for
a neglected one in the first days of January.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from engine.ingest import LoadResult

__all__ = ["Period", "parse_period", "previous_period", "slice_log"]

_QUARTER = re.compile(r"(\d{4})-[Qq]([1-4])")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_YEAR = re.compile(r"(\d{4})")
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")
_KEPT_TYPES = ("team_member_added", "team_member_removed")
_ABSENT = "person_absent"
FORMS = "2026-Q1, 2026-03, 2026 or 2026-01-01..2026-03-31"


@dataclass(frozen=True)
class Period:
    """A named stretch of time: ``start`` included, ``end`` excluded (naive UTC, like event times)."""

    label: str
    start: datetime
    end: datetime
    kind: str  # quarter | month | year | days

    @property
    def last_day(self) -> date:
        """The last day inside the period, for people (who count both ends)."""
        return (self.end - timedelta(days=1)).date()

    def words(self) -> str:
        """The period as a reader wants it: its label and, unless it is plain days, its days."""
        days = f"{self.start.date().isoformat()}..{self.last_day.isoformat()}"
        return days if self.kind == "days" else f"{self.label} ({days})"


def _month_start(year: int, month: int) -> datetime:
    """The first instant of a month; month 13 is January of the next year."""
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    return datetime(year, month, 1)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a date") from None


def _year(digits: str, text: str) -> int:
    """A year with room for the period before it and after it (datetime's range is 1 to 9999)."""
    year = int(digits)
    if not 2 <= year <= 9998:
        raise ValueError(f"'{text}': the year must be between 0002 and 9998")
    return year


def parse_period(text: str) -> Period:
    """A period from its written form; ValueError saying what is wrong and what is accepted."""
    spec = text.strip()
    if match := _QUARTER.fullmatch(spec):
        year, quarter = _year(match.group(1), text), int(match.group(2))
        first = 3 * (quarter - 1) + 1
        return Period(f"{year}-Q{quarter}", _month_start(year, first), _month_start(year, first + 3), "quarter")
    if match := _MONTH.fullmatch(spec):
        year, month = _year(match.group(1), text), int(match.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"'{text}': there is no month {month}")
        return Period(f"{year}-{month:02d}", _month_start(year, month), _month_start(year, month + 1), "month")
    if match := _YEAR.fullmatch(spec):
        year = _year(match.group(1), text)
        return Period(str(year), datetime(year, 1, 1), datetime(year + 1, 1, 1), "year")
    if match := _RANGE.fullmatch(spec):
        first_day, last_day = _day(match.group(1)), _day(match.group(2))
        if last_day < first_day:
            raise ValueError(f"'{text}' ends before it starts")
        _year(str(first_day.year), text)
        _year(str(last_day.year), text)
        start = datetime.combine(first_day, datetime.min.time())
        end = datetime.combine(last_day, datetime.min.time()) + timedelta(days=1)
        return Period(f"{first_day.isoformat()}..{last_day.isoformat()}", start, end, "days")
    raise ValueError(f"'{text}' is not a period; write {FORMS}")


def previous_period(period: Period) -> Period:
    """The period of the same kind just before ``period`` (the same number of days for explicit days)."""
    if period.kind == "quarter":
        start = _month_start(period.start.year, period.start.month - 3)
        quarter = (start.month - 1) // 3 + 1
        return Period(f"{start.year}-Q{quarter}", start, period.start, "quarter")
    if period.kind == "month":
        start = _month_start(period.start.year, period.start.month - 1)
        return Period(f"{start.year}-{start.month:02d}", start, period.start, "month")
    if period.kind == "year":
        start = datetime(period.start.year - 1, 1, 1)
        return Period(str(start.year), start, period.start, "year")
    length = period.end - period.start
    start = period.start - length
    last = period.start - timedelta(days=1)
    return Period(f"{start.date().isoformat()}..{last.date().isoformat()}", start, period.start, "days")


def overlaps(first: Period, second: Period) -> bool:
    """Whether two periods share an instant (a comparison against an overlapping period is refused)."""
    return first.start < second.end and second.start < first.end


def _absence_reaches(attrs: str | None, period: Period) -> bool:
    """Whether a recorded absence (attrs ``from``..``to``, days included) overlaps the period."""
    try:
        values = json.loads(attrs or "{}")
        first = date.fromisoformat(str(values["from"])[:10])
        last = date.fromisoformat(str(values["to"])[:10])
    except (ValueError, KeyError, TypeError):
        return False
    return first < period.end.date() and last >= period.start.date()


def slice_log(loaded: LoadResult, period: Period | None) -> LoadResult:
    """The part of ``loaded`` a period's evaluation sees (the whole log for ``None``).

    Counts of records read and refused stay those of the whole log (the
    audit reports them once); ``evaluated`` becomes the events kept.
    """
    if period is None:
        return loaded
    table = loaded.table
    start = pa.scalar(period.start, type=pa.timestamp("us"))
    end = pa.scalar(period.end, type=pa.timestamp("us"))
    ts = table.column("ts")
    types = table.column("type")
    inside = pc.and_(pc.greater_equal(ts, start), pc.less(ts, end))
    keep = pc.or_(pc.is_in(types, value_set=pa.array(_KEPT_TYPES)), inside)
    # absences recorded before the period that reach into it: kept, dated at its start
    early = pc.and_(pc.equal(types, _ABSENT), pc.less(ts, start))
    early_rows = pc.indices_nonzero(early).to_pylist()
    reaching = [i for i in early_rows if _absence_reaches(table.column("attrs")[i].as_py(), period)]
    kept = table.filter(keep)
    if reaching:
        moved = table.take(pa.array(reaching, type=pa.int64()))
        moved = moved.set_column(
            moved.schema.get_field_index("ts"),
            "ts",
            pa.array([period.start] * moved.num_rows, type=pa.timestamp("us")),
        )
        kept = pa.concat_tables([kept, moved]).sort_by([("seq", "ascending")])
    return LoadResult(
        table=kept,
        problems=loaded.problems,
        read=loaded.read,
        evaluated=kept.num_rows,
        warnings=list(loaded.warnings),
        input_errors=list(loaded.input_errors),
    )
