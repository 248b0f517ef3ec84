"""Compile ``derive`` entries: one number per event, measured on its text or lists.

similarity   1 - Levenshtein distance / longer length of two normalised texts
             (over their first TEXT_CUT_OFF characters; see below)
added_words  distinct words of the new text that the original lacks
lexicon      share of a text's words that are on a word list
specificity  concrete tokens: numbers, dates, work objects, record ids, names
length       items in a JSON list attribute
word_count   words in a text
prior        1 or 0: an earlier event matching a condition on the same keys within a
             time (at least ``older_than`` before, if given; or, with ``value``, a
             number from the latest such event)
on_team      how many of the person ids in a field were on the event's manager's
             team at the event's time

Every measure is built from sqlglot's typed expressions that render alike for
DuckDB and Spark SQL (``engine.lang.portable`` checks the plans): array sizes
are ``exp.ArraySize`` (never LENGTH of an array), regex extraction names its
group 0 (Spark's default group is 1), and the word lists use
``exp.ArrayDistinct`` rather than DuckDB's list functions.

Cost follows the length of the texts, never worse than a bounded constant
per text: added words are counted by distinct-set sizes (hash based) instead
of looking each word up in the other text's list, which is quadratic; the
edit distance is quadratic by nature, so it compares at most the first
``TEXT_CUT_OFF`` normalised characters of each text, and the measure is then
capped by what the two full lengths allow. Where the cut-off applies to an
event a rule reads, the plan carries a :class:`Note` (on the node's ``meta``)
that the backend runs and reports as a warning.

``prior`` and ``on_team`` look beyond the event itself, at the other events and
at the roster, so they are correlated scalar subqueries that aggregate (a COUNT,
an ARG_MAX): every row gets exactly one value, a key that matches nothing gives
0 or empty rather than dropping the row, and no EXISTS stands in a SELECT list
(which Spark 3.5 rejects over a UNION ALL). The subquery compares keys by
equality and time by range, so a backend turns it into a join on the keys: the
cost is that of the events sharing a key (or of the manager's roster), as for
``unless`` and sequence steps, never of a value inside an event. The event row
they are computed on is the one :meth:`RuleCompiler.filtered
<engine.lang.compiler.RuleCompiler.filtered>` reads as ``e``; the subquery's
own rows are ``p`` (earlier events) and ``s`` (roster scopes), so no column of
one is taken for the other's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from sqlglot import exp

from engine.lang.fields import REPORTED, Context, field_expr, json_list, list_array, resolve_value, types_in
from engine.lang.params import parse_duration
from engine.lang.sqlplan import EVENTS, SCOPES_PAIR, interval, parse

ROW = "e"  # the alias of the event row derived values are computed on (RuleCompiler.filtered)

TEXT_CUT_OFF = 2000  # similarity compares this many normalised characters of each text at most
NOTE = "sm_note"  # key of a Note in the meta of a plan node

# Work objects and logistics: a message naming one is about something concrete.
# Rule sets may replace the list with their own named list "concrete_words".
DEFAULT_CONCRETE_WORDS = (
    "agenda",
    "badge",
    "calendar",
    "contract",
    "crm",
    "dashboard",
    "deck",
    "demo",
    "discount",
    "expense",
    "forecast",
    "gong",
    "hubspot",
    "invite",
    "invoice",
    "kitchen",
    "laptop",
    "link",
    "lunch",
    "office",
    "onboarding",
    "parking",
    "playbook",
    "pricing",
    "proposal",
    "quote",
    "report",
    "room",
    "salesforce",
    "slides",
    "spreadsheet",
    "template",
    "training",
    "webinar",
    "zoom",
)
# "may" and "today"/"tomorrow" are left out: slogans use them as often as schedules do.
_MONTHS = (
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june"
    "|july|august|september|october|november|december"
)
_DAYS = "mon|tue|wed|thu|fri|monday|tuesday|wednesday|thursday|friday|saturday|sunday|eod|eow|noon"

_WORD = r"[a-z0-9]+"  # a word of normalised text (what added_words compares)
_TOKEN = r"[a-z0-9']+"  # a word of lower-cased text (what word_count and lexicon count)


@dataclass(frozen=True)
class Note:
    """Where a measure used a cut-off: ``query`` gives ``events`` (how many) and ``example`` (an id)."""

    query: exp.Expr
    text: str  # what it means, to follow "N events ..."


def _text(column: exp.Expr) -> exp.Expr:
    """The field's text, '' when absent, so every array below is non-NULL (Spark's SIZE(NULL) is -1)."""
    return exp.Coalesce(this=column, expressions=[exp.Literal.string("")])


def _norm_text(column: exp.Expr) -> exp.Expr:
    """Lower-case, punctuation to spaces, spaces collapsed: what 'nearly verbatim' compares."""
    cleaned = exp.RegexpReplace(
        this=exp.Lower(this=_text(column)),
        expression=exp.Literal.string(r"[^a-z0-9]+"),
        replacement=exp.Literal.string(" "),
        modifiers=exp.Literal.string("g"),  # every match; Spark's REGEXP_REPLACE always replaces all
    )
    return exp.Trim(this=cleaned)


def _matches(text: exp.Expr, pattern: str) -> exp.Expr:
    """Every whole match of ``pattern`` in ``text``, as an array of text."""
    return exp.RegexpExtractAll(this=text, expression=exp.Literal.string(pattern), group=exp.Literal.number(0))


def _count_matches(text: exp.Expr, pattern: str) -> exp.Expr:
    return exp.ArraySize(this=_matches(text, pattern))


def _words_pattern(words: list[Any]) -> str:
    escaped = sorted({re.escape(str(w).lower()) for w in words}, key=lambda w: (-len(w), w))
    return r"\b(" + "|".join(escaped) + r")\b"


def _greatest(first: exp.Expr, *rest: exp.Expr) -> exp.Expr:
    """GREATEST that skips NULLs, as both engines do (unflagged, sqlglot writes DuckDB a NULL-if-any CASE)."""
    return exp.Greatest(this=first, expressions=list(rest), ignore_nulls=True)


def _sum(terms: list[exp.Expr]) -> exp.Expr:
    total = terms[0]
    for term in terms[1:]:
        total = exp.Add(this=total, expression=term)
    return exp.paren(total)


def _two_fields(
    how: str, fields: list[str], ctx: Context, loc: tuple[Any, ...], types: set[str] | None
) -> tuple[exp.Expr, exp.Expr] | None:
    """The SQL of a measure's two fields (None when a field is unknown)."""
    found = [field_expr(name, ctx, loc + (how, i), types) for i, name in enumerate(fields)]
    if found[0] is None or found[1] is None:
        return None
    return found[0][0], found[1][0]


def _distinct_words(text: exp.Expr) -> exp.Expr:
    return exp.ArraySize(this=exp.ArrayDistinct(this=_matches(text, _WORD)))


def _added_words(old: exp.Expr, new: exp.Expr) -> exp.Expr:
    """How many distinct words of ``new`` do not occur in ``old``: |words of both| - |words of old|.

    Both texts joined by a space have exactly the words of the two, so no lookup of one
    list in the other is needed (a lambda over one text's words that searches the other
    costs their product).
    """
    both = _text(exp.Concat(expressions=[new, exp.Literal.string(" "), old], safe=True, coalesce=False))
    return exp.Sub(this=_distinct_words(both), expression=_distinct_words(old))


def _one_minus_ratio(part: exp.Expr, a: exp.Expr, b: exp.Expr) -> exp.Expr:
    """1 - part / the longer length of ``a`` and ``b`` (at least 1)."""
    longest = _greatest(exp.Length(this=a), exp.Length(this=b), exp.Literal.number(1))
    ratio = exp.Div(this=exp.cast(part, "DOUBLE"), expression=longest)
    return exp.Sub(this=exp.Literal.number(1), expression=ratio)


def _opening(text: exp.Expr) -> exp.Expr:
    return exp.Substring(this=text, start=exp.Literal.number(1), length=exp.Literal.number(TEXT_CUT_OFF))


def _similarity(a: exp.Expr, b: exp.Expr) -> exp.Expr:
    """1 - edit distance / the longer length (1 for two empty texts), over the texts' openings.

    The edit distance of the first TEXT_CUT_OFF characters of each text, over the longer
    of those, capped by 1 - (difference in full length) / (longer full length), which
    no edit distance can beat. Texts within the cut-off get exactly the plain measure:
    the cap is never below it.
    """
    head_a, head_b = _opening(a), _opening(b)
    opening = _one_minus_ratio(exp.Levenshtein(this=head_a, expression=head_b), head_a, head_b)
    lengths = _one_minus_ratio(exp.Abs(this=exp.Sub(this=exp.Length(this=a), expression=exp.Length(this=b))), a, b)
    return exp.Least(this=opening, expressions=[lengths], ignore_nulls=True)


def _cut_off_note(a: exp.Expr, b: exp.Expr, fields: list[str], types: set[str] | None) -> Note:
    """How many events of the rule's types have a text the similarity cuts short."""
    limit = exp.Literal.number(TEXT_CUT_OFF)
    long = exp.or_(
        exp.GT(this=exp.Length(this=a.copy()), expression=limit),
        exp.GT(this=exp.Length(this=b.copy()), expression=limit),
    )
    query = exp.select("COUNT(*) AS events", "MIN(e.id) AS example").from_(exp.to_table(EVENTS).as_("e")).where(long)
    if types:
        query = query.where(exp.column("type", table="e").isin(*sorted(types)))
    text = (
        f"compare texts ({' and '.join(fields)}) longer than {TEXT_CUT_OFF:,} characters once normalised: "
        f"their similarity is judged on the first {TEXT_CUT_OFF:,} characters and on their lengths"
    )
    return Note(query=query, text=text)


def plan_notes(tree: exp.Expr) -> list[Note]:
    """Every distinct note carried by the nodes of ``tree``."""
    found: dict[tuple[str, str], Note] = {}
    for node in tree.walk():
        note = node.meta.get(NOTE)
        if isinstance(note, Note):
            found.setdefault((note.query.sql(), note.text), note)
    return list(found.values())


def _specificity(column: exp.Expr, text: exp.Expr, ctx: Context) -> exp.Expr:
    """Concrete tokens a seller can act on."""
    concrete = ctx.lists.get("concrete_words", list(DEFAULT_CONCRETE_WORDS))
    patterns_lower = [
        r"\d+(?:[.,:]\d+)*",  # numbers, amounts, percentages, times: one each
        rf"\b({_MONTHS}|{_DAYS})\b",  # dates and deadlines
        _words_pattern(concrete),  # work objects and logistics
    ]
    patterns_raw = [
        r"\b[A-Z]{2,}[-_]?\d+\b",  # record ids such as OPP-1234
        r"[a-z,;:]\s+[A-Z][a-z]{2,}",  # proper nouns mid-sentence (accounts, people)
    ]
    raw = _text(column)
    return _sum([_count_matches(text, p) for p in patterns_lower] + [_count_matches(raw, p) for p in patterns_raw])


def compile_derived(
    name: str, spec: Any, ctx: Context, loc: tuple[Any, ...], types: set[str] | None
) -> exp.Expr | None:
    """SQL for one ``derive`` entry (a number per event)."""
    how = spec.measure  # the model guarantees one measure, two fields where two are compared
    if how == "prior":
        return _prior(spec.prior, ctx, loc + ("prior",), types)
    if how == "on_team":
        return _on_team(spec.on_team, ctx, loc + ("on_team",), types)
    if how in ("added_words", "similarity"):
        pair = _two_fields(how, getattr(spec, how), ctx, loc, types)
        if pair is None:
            return None
        old, new = _norm_text(pair[0]), _norm_text(pair[1])
        if how == "added_words":
            return _added_words(old, new)
        similarity = _similarity(old, new)
        similarity.meta[NOTE] = _cut_off_note(old, new, list(getattr(spec, how)), types)
        return similarity
    source = field_expr(getattr(spec, how), ctx, loc + (how,), types)
    if source is None:
        return None
    column, kind = source
    if how == "length":  # JSON_ARRAY_LENGTH is in both engines; NULL (absent, not a list) counts 0
        listed = json_list(column) if kind in ("attr", "source") else column
        return exp.Coalesce(this=exp.func("JSON_ARRAY_LENGTH", listed), expressions=[exp.Literal.number(0)])
    text = exp.Lower(this=_text(column))
    word_count = _count_matches(text, _TOKEN)
    if how == "word_count":
        return word_count
    if how == "specificity":
        return _specificity(column, text, ctx)
    words = resolve_value(spec.words, ctx, loc + ("words",))
    if words is REPORTED:
        return None
    if not isinstance(words, list) or not words:
        ctx.report(loc + ("words",), "lexicon needs 'words': an @list or a non-empty list of words")
        return None
    hits = exp.cast(_count_matches(text, _words_pattern(words)), "DOUBLE")
    return exp.Div(this=hits, expression=_greatest(word_count, exp.Literal.number(1)))


def _seconds(value: Any, ctx: Context, loc: tuple[Any, ...]) -> float | None:
    """A duration (or $param) in seconds; None when it is unusable (and then reported)."""
    resolved = ctx.resolve(value, loc)
    if resolved is None:  # an unknown parameter or a bad default, already reported
        return None
    try:
        return parse_duration(resolved).total_seconds()
    except ValueError as err:
        ctx.report(loc, str(err))
        return None


def _numeric(column: exp.Expr, kind: str) -> exp.Expr:
    """A field's value as a number (text from JSON or the envelope through a safe cast)."""
    if kind in ("attr", "source", "envelope"):
        return exp.TryCast(this=column, to=exp.DataType.build("DOUBLE"), safe=True)
    return column


def _prior(spec: Any, ctx: Context, loc: tuple[Any, ...], types: set[str] | None) -> exp.Expr | None:
    """1 or 0 (or the latest value): is there an earlier event like ``spec.where`` on the same keys?

    ``p`` is an earlier event, ``e`` this one: p matches the condition, shares the
    keys, is not e itself, and lies in [e.ts - within, e.ts]. An event at the
    same instant counts (logged together), an event after e never does.
    """
    from engine.lang.conditions import compile_condition  # (conditions import this module)

    earlier = replace(ctx, table="p", derived={})
    this = replace(ctx, table=ROW, derived={})
    their_types = types_in(spec.where)
    tests: list[exp.Expr] = [compile_condition(spec.where, earlier, loc + ("where",), their_types)]
    usable = True  # every part is compiled, so all of its problems are reported at once
    for index, entry in enumerate(spec.same):
        pairs = list(entry.items()) if isinstance(entry, dict) else [(entry, entry)]
        for left, right in pairs:
            here = loc + ("same", index) + ((left,) if isinstance(entry, dict) else ())
            theirs = field_expr(left, earlier, here, their_types)
            ours = field_expr(right, this, here, types)
            if theirs is None or ours is None:
                usable = False
                continue
            tests.append(exp.EQ(this=theirs[0], expression=ours[0]))
    seconds = _seconds(spec.within, ctx, loc + ("within",))
    older = _seconds(spec.older_than, ctx, loc + ("older_than",)) if spec.older_than is not None else 0.0
    if seconds is not None and older is not None and older >= seconds:
        ctx.report(loc + ("older_than",), "older_than must be shorter than within (the earlier event lies between)")
        older = None
    value = field_expr(spec.value, earlier, loc + ("value",), their_types) if spec.value is not None else None
    if seconds is None or older is None or not usable or (spec.value is not None and value is None):
        return None
    now, then = exp.column("ts", table=ROW), exp.column("ts", table="p")
    latest: exp.Expr = exp.Sub(this=now.copy(), expression=interval(older)) if older else now
    tests += [
        exp.LTE(this=then, expression=latest),
        exp.GTE(this=then.copy(), expression=exp.Sub(this=now.copy(), expression=interval(seconds))),
        exp.NEQ(this=exp.column("id", table="p"), expression=exp.column("id", table=ROW)),
    ]
    if spec.value is None:
        found = parse(f"SELECT COUNT(*) FROM {EVENTS} p WHERE :cond", {"cond": exp.and_(*tests)})
        count = exp.Coalesce(this=exp.Subquery(this=found), expressions=[exp.Literal.number(0)])
        return exp.Case(
            ifs=[exp.If(this=exp.GT(this=count, expression=exp.Literal.number(0)), true=exp.Literal.number(1))],
            default=exp.Literal.number(0),
        )
    assert value is not None
    number = _numeric(*value)
    tests.append(exp.Is(this=number.copy(), expression=exp.null()).not_())
    # the latest by time, then by id, so ties are settled the same way on every run
    latest = parse(
        f"SELECT ARG_MAX(:v, {{'t': p.ts, 'i': p.id}}) FROM {EVENTS} p WHERE :cond",
        {"v": number, "cond": exp.and_(*tests)},
    )
    return exp.Subquery(this=latest)


def _on_team(name: Any, ctx: Context, loc: tuple[Any, ...], types: set[str] | None) -> exp.Expr | None:
    """How many of the people a field names were on the event's manager's team at the event's time.

    The field holds one person id (``rep``, ``attrs.from``) or a JSON list of them
    (``attrs.participants``). The team is the roster's (manager, rep) periods
    (``sm_scopes_p``): led by the event's manager (resolved from the roster when the
    event leaves it out) and open at the event's time. The manager is never counted
    as a member of their own team, and a person named twice counts once.
    """
    this = replace(ctx, table=ROW, derived={})
    found = field_expr(name, this, loc, types)
    if found is None:
        return None
    column, kind = found
    member = exp.column("rep", table="s")
    if kind in ("attr", "source"):
        named: exp.Expr = exp.or_(
            exp.func("COALESCE", exp.EQ(this=column, expression=member), exp.false()),
            exp.func("COALESCE", exp.ArrayContains(this=list_array(column), expression=member.copy()), exp.false()),
        )
    elif kind == "envelope":
        named = exp.EQ(this=column, expression=member)
    else:
        ctx.report(loc, f"'on_team' reads a field naming people (rep, actor, attrs.<name>), not '{name}'")
        return None
    query = parse(
        f"SELECT COUNT(DISTINCT s.rep) FROM {SCOPES_PAIR} s WHERE s.manager = {ROW}.manager "
        f"AND s.rep <> {ROW}.manager AND s.s_start <= {ROW}.ts AND s.s_end > {ROW}.ts AND (:named)",
        {"named": named},
    )
    return exp.Coalesce(this=exp.Subquery(this=query), expressions=[exp.Literal.number(0)])
