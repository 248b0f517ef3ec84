"""The pieces rule models are built from: parameters, docs, windows, metrics, steps.

Every model here is strict (unknown keys are errors) and owns its structural
rules ("exactly one of", which combinations make sense), so the compiler only
compiles. A structural error names the part of the value it is about with
:func:`shape_error`, so the loader can point at that key's line and column.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from engine.lang.params import number_problem
from engine.lang.sqlplan import reserved_name


def _usable_number(integer: bool) -> Callable[[Any], Any]:
    """A check, before type validation, that a number given in a file can go to SQL (finite, in range)."""

    def check(value: Any) -> Any:
        problem = number_problem(value, integer=integer)
        if problem is not None:
            raise ValueError(problem)
        return value

    return check


def _free_name(value: str) -> str:
    """A metric name must not be one of the columns or template names a plan uses itself."""
    if reserved_name(value):
        raise ValueError(f"the name '{value}' is reserved for the engine's own columns; choose another name")
    return value


Condition = dict[str, Any]
Scalar = Annotated[str | int | float | bool, BeforeValidator(_usable_number(True))]
GroupField = Annotated[str, Field(pattern=r"^(manager|rep|deal|attrs\.[A-Za-z_][A-Za-z0-9_]*)$")]
Op = Literal["gt", "gte", "lt", "lte", "eq", "ne"]
ParamRef = str  # "$name" wherever a number or duration may stand
Number = Annotated[float | int | ParamRef, BeforeValidator(_usable_number(True))]  # or $param
Count = Annotated[int | ParamRef, BeforeValidator(_usable_number(True))]  # or $param
Limit = Annotated[float | None, BeforeValidator(_usable_number(False))]
Share = Annotated[float | int | ParamRef, BeforeValidator(_usable_number(False))]  # a plain number or $param
MetricName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$"), AfterValidator(_free_name)]
MetricRef = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]  # names a metric defined elsewhere
OP_SYMBOL = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "=", "ne": "!="}

SHAPE_MARK = "\x00"  # separates the sub-path from the message in a structural error


def shape_error(message: str, *at: str | int) -> ValueError:
    """A structural error about the key path ``at`` inside the model being validated."""
    return ValueError(SHAPE_MARK + ".".join(map(str, at)) + SHAPE_MARK + message)


def split_shape_error(text: str) -> tuple[tuple[str | int, ...], str] | None:
    """(sub-path, message) of a :func:`shape_error` text, None for any other message."""
    start = text.find(SHAPE_MARK)
    if start < 0:
        return None
    path, _, message = text[start + 1 :].partition(SHAPE_MARK)
    parts = tuple(int(p) if p.isdigit() else p for p in path.split(".") if p)
    return parts, message


def exactly_one(model: BaseModel, names: tuple[str, ...]) -> list[str]:
    """The names among ``names`` that are set on ``model`` (truthy or not None)."""
    return [n for n in names if getattr(model, n) not in (None, False)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ParamSpec(Strict):
    """A typed rule parameter with its default and a line of documentation."""

    type: Literal["int", "float", "duration", "str", "bool", "list"]
    default: Any
    doc: str = Field(min_length=1)
    min: Limit = None
    max: Limit = None


class Docs(Strict):
    """What a reader needs to trust (or dismiss) a finding."""

    why: str = Field(min_length=1, description="Why the pattern hurts the team.")
    instead: str = Field(min_length=1, description="What a good manager does instead.")
    false_positives: str | list[str] = Field(description="When the rule is wrong.")
    references: list[str] = []


class Window(Strict):
    """Exactly one of ``whole``, ``sliding`` or ``calendar``."""

    whole: bool | None = None
    sliding: str | None = Field(None, description="A duration such as 30d, or $param.")
    calendar: Literal["week", "month", "quarter"] | None = None
    min_coverage: Share = Field(
        0.75,
        description="Calendar windows: share of the period (0 to 1, or $param) the manager must have led "
        "the group (and the log must cover) for it to be assessed.",
    )
    min_days: Share = Field(
        0, description="Whole windows: fewer led days than this (0 to 36525, or $param) is not assessed."
    )
    prorate: bool = Field(
        True,
        description="Calendar windows: scale an 'at least' threshold (op lt or lte) of a count or sum by the "
        "covered share of a partial period (counts round up to a whole number). 'Too many' thresholds are "
        "never scaled.",
    )

    @field_validator("min_coverage", "min_days")
    @classmethod
    def _in_range(cls, value: Any, info: ValidationInfo) -> Any:
        top = 1 if info.field_name == "min_coverage" else 36525
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not 0 <= value <= top:
            raise ValueError(f"{info.field_name} must be between 0 and {top}, got {value}")
        return value

    @model_validator(mode="after")
    def _one_mode(self) -> Window:
        if len(exactly_one(self, ("whole", "sliding", "calendar"))) != 1:
            raise shape_error("window needs exactly one of whole, sliding or calendar")
        return self

    @property
    def mode(self) -> str:
        return "whole" if self.whole else ("sliding" if self.sliding else "calendar")


METRIC_AGGREGATES = ("count", "distinct", "sum", "avg", "max", "min", "items")


class Metric(Strict):
    """An aggregate over qualifying events; ``count`` when nothing else is set."""

    count: bool | None = None
    distinct: str | None = None
    sum: str | None = None
    avg: str | None = None
    max: str | None = None
    min: str | None = None
    items: str | None = Field(
        default=None,
        description="A list attribute (attrs.<name>): the distinct items across all its lists in the window "
        "(seven KPIs spread over three lists are seven, a KPI in every list counts once).",
    )
    name: MetricName | None = None

    @model_validator(mode="after")
    def _one_aggregate(self) -> Metric:
        if len(exactly_one(self, METRIC_AGGREGATES)) > 1:
            raise shape_error(f"a metric takes exactly one of {', '.join(METRIC_AGGREGATES)}")
        return self

    @property
    def per_window_only(self) -> bool:
        """Whether the aggregate needs a whole or calendar window (a set of values, not a running sum)."""
        return self.aggregate in ("distinct", "items")

    @property
    def aggregate(self) -> str:
        chosen = exactly_one(self, METRIC_AGGREGATES)
        return chosen[0] if chosen else "count"


class Also(Strict):
    """An extra aggregate condition that must hold as well."""

    metric: Metric
    op: Op
    value: Number


DERIVED_MEASURES = (
    "similarity",
    "added_words",
    "lexicon",
    "specificity",
    "length",
    "word_count",
    "prior",
    "on_team",
)


class Prior(Strict):
    """What an earlier event on the same keys says about this one (engine.lang.derive).

    Without ``value``: 1 when an event matching ``where`` shares the keys and lies at
    most ``within`` before this event (or at the same instant; with ``older_than``,
    at least that long before it), else 0. With
    ``value``: that field (a number) on the latest such event that carries one,
    empty when there is none. Each ``same`` entry is a field both events share
    (``deal``) or a mapping from the earlier event's field to this event's
    (``{rep: attrs.from}``: the earlier event's rep is the one this event names as
    ``attrs.from``).
    """

    where: Condition = Field(description="The earlier event (a condition on it alone).")
    same: list[str | dict[str, str]] = Field(
        min_length=1, description="Keys: a field both share, or {earlier_field: this_field}."
    )
    within: str = Field(description="How long before this event the earlier one may lie (duration or $param).")
    older_than: str | None = Field(
        default=None,
        description="And at least this long before it (duration or $param): 'the recorder was already on a "
        "month before the review'. Shorter than within.",
    )
    value: str | None = Field(default=None, description="A numeric field of the latest such event, instead of 1 or 0.")

    @field_validator("same")
    @classmethod
    def _one_pair_each(cls, value: list[str | dict[str, str]]) -> list[str | dict[str, str]]:
        for index, entry in enumerate(value):
            if isinstance(entry, dict) and len(entry) != 1:
                raise shape_error("a mapping in 'same' pairs one field of the earlier event with one of this", index)
        return value


class DeriveSpec(Strict):
    """A per-event computed value (text predicates, list lengths, earlier events, team members)."""

    similarity: list[str] | None = Field(
        None, description="Two fields; 1.0 means identical after normalising case and spaces."
    )
    added_words: list[str] | None = Field(
        None, description="Two fields, original then new: distinct words of the new text not in the original."
    )
    lexicon: str | None = Field(None, description="Field whose words are scored against `words`.")
    words: str | list[str] | None = Field(None, description="@list name or inline words.")
    specificity: str | None = Field(
        None, description="Field; counts concrete tokens: numbers, dates, ids, names, work objects."
    )
    length: str | None = Field(None, description="Field holding a list; its length.")
    word_count: str | None = None
    prior: Prior | None = Field(
        default=None, description="1 or 0 (or a value): a matching earlier event on the same keys."
    )
    on_team: str | None = Field(
        default=None,
        description="Field holding a person id or a list of them (attrs.participants, attrs.from): how many are "
        "on the event's manager's team at the event's time (the manager not counted).",
    )

    @model_validator(mode="after")
    def _one_measure(self) -> DeriveSpec:
        chosen = exactly_one(self, DERIVED_MEASURES)
        if len(chosen) != 1:
            raise shape_error(f"a derived value needs exactly one of {', '.join(DERIVED_MEASURES)}")
        how = chosen[0]
        if how == "added_words" and len(self.added_words or []) != 2:
            raise shape_error("added_words compares exactly two fields: the original, then the new text", how)
        if how == "similarity" and len(self.similarity or []) != 2:
            raise shape_error("similarity compares exactly two fields", how)
        if how == "lexicon" and not self.words:
            raise shape_error("lexicon needs 'words': an @list or a list of words", how)
        if how != "lexicon" and self.words is not None:
            raise shape_error("'words' goes with lexicon only", "words")
        return self

    @property
    def measure(self) -> str:
        return exactly_one(self, DERIVED_MEASURES)[0]


class Unless(Strict):
    """Leave out qualifying events that closely follow another kind of event on the same keys."""

    where: Condition
    same: list[str] = Field(min_length=1, description="Fields both events share (e.g. rep).")
    within: str = Field(description="How long before the qualifying event the other one counts.")


class Step(Strict):
    where: Condition


class Part(Strict):
    name: MetricName
    where: Condition


class Quiet(Strict):
    """No qualifying event on the same keys for ``within`` before the second step."""

    where: Condition
    within: str


class Pair(Strict):
    left: str
    op: Literal["eq", "ne", "lt", "lte", "gt", "gte"] = "eq"
    right: str


class CounterItem(Strict):
    """A fact that speaks for the manager, looked up in the same data for each finding.

    Counted over the finding's manager and window (``where`` as a condition on
    the events); shown when ``value`` reaches ``at_least``, worded by ``says``
    ({value}, {count} and the rule's parameters).
    """

    name: MetricName
    where: Condition
    metric: Metric = Field(default_factory=lambda: Metric(count=True, name=None))
    at_least: Number = Field(1, description="Below this the fact is not shown (it would not speak for anyone).")
    says: str = Field(min_length=1, description="The fact in words, e.g. 'also held {count} one-on-ones'.")


class Peer(Strict):
    """Judge a manager against the other managers of the run as well (engine.lang.peers)."""

    measure: Literal["percentile", "median_multiple", "zscore"]
    value: Number = Field(description="percentile: 0.9 = top 10 %; median_multiple: 1.5; zscore: 2.")
    min_peers: Count = Field(5, description="Fewer assessed peers in the period: not assessed.")
    by: Annotated[str, Field(pattern=r"^attrs\.[A-Za-z_][A-Za-z0-9_]*$")] | None = Field(
        None,
        description="A field of the qualifying events (attrs.segment): a manager's peers are the managers whose "
        "events most often carry the same value (ties: the smallest); default: the whole org.",
    )
    among: Literal["assessed", "any"] = Field(
        "assessed",
        description="assessed: peers are the managers the rule could judge; any: every manager with the metric "
        "at all, below the rule's minimum data too (when most have a few events each, together the org's norm).",
    )


class TrendAlso(Strict):
    """A further change that must hold between the same two windows."""

    of: MetricRef = Field(description="A metric of the rule (or 'ratio').")
    change: Literal["ratio", "difference"] = Field("ratio", description="later / earlier, or later - earlier.")
    op: Op
    value: Number


class TrendAfter(Strict):
    """The change counts only after an event of the manager's (a mandate, say): evidence of the cause."""

    where: Condition
    within: str = Field("45d", description="How long before the later window the event may lie.")


class Trend(Strict):
    """Judge the change of a metric from one calendar window to the next (engine.lang.trends).

    The rule's ``op`` and ``value`` then judge the change of ``of`` (later over
    earlier, or later minus earlier), not the metric itself; both windows must be
    covered and meet the rule's minimum data.
    """

    of: MetricRef | None = Field(None, description="The metric whose change is judged (default: the rule's).")
    change: Literal["ratio", "difference"] = "ratio"
    also: list[TrendAlso] = []
    after: TrendAfter | None = None


class TeamFull(Strict):
    """The breadth at which a team finding gets the rule's own severity (otherwise one level lower)."""

    min_reps: Count = 3
    min_share: Number = 0.5


class Team(Strict):
    """Turn per-rep results into one finding about the manager ("k of n" reps of the team).

    Fires when at least ``min_reps`` reps, and at least ``min_share`` of the
    reps the rule assessed for the manager, are past the rule's line; or when
    one rep alone is past ``alone`` (a value of the rule's metric, compared with
    the rule's own op). Teams of fewer than ``min_team`` assessed reps are judged
    on ``alone`` only.
    """

    min_reps: Count = 2
    min_share: Number = 0.25
    min_team: Count = 2
    alone: Number | None = Field(None, description="The rule's metric this far past the line makes one rep enough.")
    full: TeamFull = Field(default_factory=TeamFull)


class Merge(Strict):
    """Events of one decision count once: same ``same`` fields, the same UTC day or less than ``within`` apart."""

    same: list[str] = Field(default_factory=lambda: ["actor"], min_length=1)
    within: str | None = Field(None, description="Events this close (chained) are one decision, across midnight too.")
    same_day: bool = Field(True, description="Events on the same UTC day are one decision.")


class Base(Strict):
    """What every rule kind shares: the qualifying events, their grouping and window."""

    kind: str
    where: Condition = Field(default_factory=dict)
    unless: Unless | None = Field(
        None, description="Drop events that follow a matching event on the same keys within a time."
    )
    derive: dict[str, DeriveSpec] = Field(default_factory=dict)
    group_by: list[GroupField] = Field(
        default_factory=lambda: ["manager"],
        description="manager (always added), rep, deal and attrs.<name>, in any combination.",
    )
    window: Literal["whole"] | Window = "whole"
    team: Team | None = Field(None, description="Judge the manager on how many of the team's reps are past the line.")
    merge: Merge | None = Field(None, description="Count the events of one decision once.")
    peer: Peer | None = Field(None, description="Fire only when the manager also stands out among peers.")
    trend: Trend | None = Field(None, description="Judge the change between consecutive calendar windows.")
    min_team: Count | None = Field(
        None,
        description="Judge a manager only over led periods with at least this many reps on the team "
        "(for measures that do not scale with team size); smaller teams are reported as not assessed.",
    )
    away_within: str | None = Field(
        None,
        description="Leave out qualifying events whose rep (or, per manager, the manager) was away within "
        "this long before them: a poor month that was mostly leave is not a poor performance.",
    )
    coverage: Literal["auto", "off"] = Field(
        "auto",
        description="auto: where zero events would make a finding, judge a team only from when it logs "
        "the event families the rule needs; off: judge the whole led period.",
    )

    @field_validator("group_by")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("group_by lists a field twice")
        return value

    @model_validator(mode="after")
    def _peer_windows(self) -> Base:
        if self.peer is not None and self.window_mode == "sliding":
            raise shape_error(
                "'peer' compares calendar or whole windows: a sliding window has no common period", "peer"
            )
        return self

    @model_validator(mode="after")
    def _trend_windows(self) -> Base:
        if self.trend is not None and self.window_mode != "calendar":
            raise shape_error("'trend' compares consecutive calendar windows: use window: {calendar: ...}", "trend")
        if self.trend is not None and self.peer is not None:
            raise shape_error("'trend' and 'peer' cannot be combined: judge one change or one position", "trend")
        if self.trend is not None and self.trend.after is not None and self.group_by != ["manager"]:
            raise shape_error("'trend.after' looks for the manager's own event: group_by [manager]", "trend")
        return self

    @model_validator(mode="after")
    def _team_by_rep(self) -> Base:
        if self.team is not None and set(self.group_by) != {"manager", "rep"} and self.group_by != ["rep"]:
            raise shape_error("'team' turns per-rep results into a manager finding: group_by [manager, rep]", "team")
        return self

    def clips_to_logging(self) -> bool:
        """Whether a team is judged only from when it logs the zero conditions' families.

        False where those events are rare by nature (an answer to a poor result):
        their first appearance in a team says when it was needed, not when logging began.
        """
        return True

    def presence_by_condition(self) -> bool:
        """Whether "the log holds what it needs" tests the whole zero conditions, not only their types.

        Types by default: a log that holds coaching sessions logs them, even if none is about
        performance, and none is then read as none done. Kinds that follow a key (a deal)
        test the condition: calls without a deal id are not a pipeline.
        """
        return False

    def zero_conditions(self) -> list[Condition] | None:
        """The conditions whose events, when missing, would themselves make findings.

        None when zero qualifying events cannot make a finding (a "too many"
        rule). Each condition's event types are needed: when the whole log
        holds none of them the rule is not assessed at all, and a team is judged
        only from when it logs their families (``engine.lang.coverage``). Kinds
        override this.
        """
        return None

    @property
    def window_mode(self) -> str:
        return self.window.mode if isinstance(self.window, Window) else "whole"

    def no_unless(self, why: str) -> None:
        """For kinds that do not take ``unless``."""
        if self.unless is not None:
            raise shape_error(f"'unless' applies to match, threshold and ratio rules; {why}", "unless")

    def roster_groups(self, message: str) -> None:
        """For kinds that follow the roster: group by manager, or manager and rep."""
        if not set(self.group_by) <= {"manager", "rep"}:
            raise shape_error(message, "group_by")
