"""The self-assessment questionnaire: questions as data, answers checked and scored.

The questions and their scoring live in ``questions/questionnaire.yaml``
beside this module, one entry per question, each tied to one of the ten
traits or a practice check (docs/AUDIT.md documents them). They ask what
happened in the last four weeks (counts, days, choices), never for a rating
of oneself, so the answers can be scored against the same thresholds the
rules use on a log.

Answers come from an interactive session or from a YAML file (``--answers``),
read with the project's positional loader so that every bad answer is
reported at once as ``file:line:col: reason``. A question left unanswered,
or whose base is too small (three wins cannot show a share of wins closed by
the manager), is *not assessed*; it never counts against anyone.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine.errors import Problem, SalesmirrorError
from engine.lang.yamlpos import Located, YamlProblems, load_located, read_located

__all__ = [
    "AnswersError",
    "CheckResult",
    "Question",
    "Questionnaire",
    "load_questionnaire",
    "read_answers",
    "score",
]

NONE_WORDS = ("none", "n/a", "na", "-")


class AnswersError(SalesmirrorError):
    """An answers file (or an answer typed in) is invalid."""


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choice(_Base):
    value: str
    label: str
    signal: Literal["watch", "good", "none"]


class Answer(_Base):
    type: Literal["int", "number", "choice"]
    min: float | None = None
    max: float | None = None
    none: str | None = None  # the words for "does not apply", which makes the question not assessed
    choices: tuple[Choice, ...] = ()

    @model_validator(mode="after")
    def _shape(self) -> Answer:
        if self.type == "choice" and not self.choices:
            raise ValueError("a choice needs choices")
        if self.type != "choice" and (self.min is None or self.max is None):
            raise ValueError("a number needs min and max")
        return self


class Test(_Base):
    op: Literal["<", "<=", ">", ">="]
    value: float
    per: str | None = None  # divide the answer by the answer to this question


class Question(_Base):
    id: str
    check: str
    ask: str
    answer: Answer
    watch: Test | None = None
    good: Test | None = None
    at_least: float = 0.0
    min_base: float = 0.0
    within: str | None = None
    concern: str = ""
    strength: str = ""


class CheckDoc(_Base):
    title: str
    why: str
    instead: str


class Questionnaire(_Base):
    version: int
    asks_about: str
    checks: dict[str, CheckDoc]
    questions: tuple[Question, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> Questionnaire:
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError("question ids must be unique")
        for question in self.questions:
            if question.check not in self.checks:
                raise ValueError(f"question {question.id}: unknown check {question.check}")
            for test in (question.watch, question.good):
                if test is not None and test.per is not None and test.per not in ids:
                    raise ValueError(f"question {question.id}: per names no question ({test.per})")
            if question.within is not None and question.within not in ids:
                raise ValueError(f"question {question.id}: within names no question ({question.within})")
        return self

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


@cache
def load_questionnaire() -> Questionnaire:
    """The shipped questionnaire (package data, checked against its model when first read)."""
    text = resources.files("engine.audit").joinpath("questions/questionnaire.yaml").read_text(encoding="utf-8")
    doc = load_located(text, "questionnaire.yaml")
    return Questionnaire.model_validate(doc.data)


AnswerValue = float | str | None  # a number, a choice's value, or None: does not apply


def parse_answer(question: Question, raw: Any) -> AnswerValue:
    """One answer as typed or written in the file; ValueError saying what is expected."""
    spec = question.answer
    if spec.none is not None and (raw is None or (isinstance(raw, str) and raw.strip().lower() in NONE_WORDS)):
        return None
    if spec.type == "choice":
        values = [c.value for c in spec.choices]
        text = str(raw).strip() if not isinstance(raw, bool) else ("yes" if raw else "no")
        if text in values:
            return text
        if text.isdigit() and 1 <= int(text) <= len(values):  # the number of the choice, as listed
            return values[int(text) - 1]
        raise ValueError(f"answer one of {', '.join(values)} (or its number, 1 to {len(values)})")
    number: float
    if isinstance(raw, bool) or raw is None:
        raise ValueError(_expected(question))
    if isinstance(raw, (int, float)):
        number = float(raw)
    else:
        try:
            number = float(str(raw).strip())
        except ValueError:
            raise ValueError(_expected(question)) from None
    if not math.isfinite(number):
        raise ValueError(_expected(question))
    if spec.type == "int" and not number.is_integer():
        raise ValueError(f"give a whole number ({_expected(question)})")
    assert spec.min is not None and spec.max is not None  # checked by Answer
    if not spec.min <= number <= spec.max:
        raise ValueError(f"give a number from {_plain(spec.min)} to {_plain(spec.max)}")
    return number


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _expected(question: Question) -> str:
    spec = question.answer
    kind = "a whole number" if spec.type == "int" else "a number"
    assert spec.min is not None and spec.max is not None
    words = f"{kind} from {_plain(spec.min)} to {_plain(spec.max)}"
    if spec.none is not None:
        words += f", or none ({spec.none})"
    return words


def check_consistency(
    questionnaire: Questionnaire, answers: dict[str, AnswerValue], where: Callable[[str], Problem]
) -> list[Problem]:
    """Answers that contradict each other (more feedback calls than calls listened), each located."""
    problems = []
    for question in questionnaire.questions:
        value, bound = answers.get(question.id), answers.get(question.within or "")
        if question.within and isinstance(value, float) and isinstance(bound, float) and value > bound:
            problems.append(
                where(f"{question.id}: {_plain(value)} is more than the answer to {question.within} ({_plain(bound)})")
            )
    return problems


def read_answers(path: str, questionnaire: Questionnaire | None = None) -> tuple[str, dict[str, AnswerValue]]:
    """The manager's name and answers from a YAML file; AnswersError with every problem located.

    The file is a mapping: ``manager`` (optional, a name for the report) and
    ``answers``, a mapping of question id to answer. Unknown ids, answers of
    the wrong kind or out of range, and answers that contradict each other
    are all reported, each at its line and column.
    """
    questionnaire = questionnaire or load_questionnaire()
    problems: list[Problem] = []
    try:
        doc = read_located(path)
    except OSError as err:
        raise AnswersError([Problem(path, 0, 0, f"cannot read answers: {err.strerror or err}")]) from None
    except YamlProblems as exc:
        if exc.doc is None:
            raise AnswersError(exc.problems) from None
        doc, problems = exc.doc, list(exc.problems)
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        raise AnswersError([*problems, doc.problem((), "the answers file must be a mapping with 'answers'")])
    for key in data:
        if key not in ("manager", "answers"):
            problems.append(
                doc.problem((key,), f"unknown key '{key}' (the file has 'manager' and 'answers')", key=True)
            )
    manager = data.get("manager", "you")
    if not isinstance(manager, str) or not manager.strip():
        problems.append(doc.problem(("manager",), "manager must be a name (text)"))
        manager = "you"
    given = data.get("answers")
    answers: dict[str, AnswerValue] = {}
    if given is None:
        problems.append(doc.problem((), "no 'answers' mapping: nothing to assess"))
    elif not isinstance(given, dict):
        problems.append(doc.problem(("answers",), "answers must be a mapping of question id to answer"))
    else:
        ids = [q.id for q in questionnaire.questions]
        for key, raw in given.items():
            question = questionnaire.question(str(key))
            if question is None:
                hint = difflib.get_close_matches(str(key), ids, n=1)
                tip = f" (did you mean '{hint[0]}'?)" if hint else ""
                problems.append(doc.problem(("answers", key), f"unknown question '{key}'{tip}", key=True))
                continue
            try:
                answers[question.id] = parse_answer(question, raw)
            except ValueError as exc:
                problems.append(doc.problem(("answers", key), f"{question.id}: {exc}"))

        def where_of(message: str) -> Problem:
            question_id = message.split(":", 1)[0]
            return _at(doc, question_id, message)

        problems += check_consistency(questionnaire, answers, where_of)
    if problems:
        raise AnswersError(problems)
    return manager.strip(), answers


def _at(doc: Located, question_id: str, message: str) -> Problem:
    given = doc.data.get("answers") if isinstance(doc.data, dict) else None
    key = next((k for k in (given or {}) if str(k) == question_id), question_id)
    return doc.problem(("answers", key), message)


@dataclass
class Item:
    """One scored answer."""

    question: Question
    answer: str  # as a reader sees it
    signal: str  # watch | good | neutral (judged, neither) | context (a base for others) | unassessed
    words: str  # the concern, the strength, or why it could not be judged


@dataclass
class CheckResult:
    """A trait or practice check over its questions."""

    check: str
    doc: CheckDoc
    state: str  # watch | good | clear | unassessed
    items: list[Item] = field(default_factory=list)

    @property
    def watched(self) -> list[Item]:
        return [i for i in self.items if i.signal == "watch"]

    @property
    def strengths(self) -> list[Item]:
        return [i for i in self.items if i.signal == "good"]


_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _holds(test: Test, value: float, answers: dict[str, AnswerValue], question: Question) -> bool | None:
    """Whether ``test`` holds for ``value``; None when its base is missing or too small to judge."""
    if test.per is None:
        return _OPS[test.op](value, test.value)
    base = answers.get(test.per)
    if not isinstance(base, float) or base < max(question.min_base, 0.0):
        return None
    if base == 0:
        if value == 0:
            return None  # nothing against nothing
        return _OPS[test.op](math.inf, test.value)
    return _OPS[test.op](value / base, test.value)


def _answer_words(question: Question, value: AnswerValue) -> str:
    if value is None:
        return question.answer.none or "does not apply"
    if isinstance(value, str):
        return next((c.label for c in question.answer.choices if c.value == value), value)
    return _plain(value)


def _score_one(question: Question, answers: dict[str, AnswerValue]) -> Item:
    if question.id not in answers:
        return Item(question, "", "unassessed", "not answered")
    value = answers[question.id]
    words = _answer_words(question, value)
    if value is None:
        return Item(question, words, "unassessed", "does not apply")
    if isinstance(value, str):
        choice = next(c for c in question.answer.choices if c.value == value)
        if choice.signal == "none":
            return Item(question, words, "unassessed", "does not apply")
        if choice.signal == "watch":
            return Item(question, words, "watch", question.concern)
        return Item(question, words, "good", question.strength)
    if question.watch is None and question.good is None:
        return Item(question, words, "context", "")  # a base other answers are judged against
    if value < question.at_least:
        return Item(question, words, "unassessed", f"fewer than {_plain(question.at_least)}: too few to judge")
    verdicts = []
    for kind, test in (("watch", question.watch), ("good", question.good)):
        if test is None:
            continue
        held = _holds(test, value, answers, question)
        verdicts.append((kind, held))
    if any(kind == "watch" and held for kind, held in verdicts):
        return Item(question, words, "watch", question.concern)
    if any(kind == "good" and held for kind, held in verdicts):
        return Item(question, words, "good", question.strength)
    if verdicts and all(held is None for _, held in verdicts):
        base = next((t.per for t in (question.watch, question.good) if t is not None and t.per), "")
        return Item(
            question, words, "unassessed", f"judged against the answer to {base}, which is missing or too small"
        )
    if question.watch is not None and question.strength:
        return Item(question, words, "good", question.strength)
    return Item(question, words, "neutral", "")


def score(answers: dict[str, AnswerValue], questionnaire: Questionnaire | None = None) -> list[CheckResult]:
    """Every check of the questionnaire, in its order, with its scored answers."""
    questionnaire = questionnaire or load_questionnaire()
    results = []
    for check, doc in questionnaire.checks.items():
        items = [_score_one(q, answers) for q in questionnaire.questions if q.check == check]
        signals = {item.signal for item in items}
        if "watch" in signals:
            state = "watch"
        elif "good" in signals:
            state = "good"
        elif "neutral" in signals:
            state = "clear"
        else:
            state = "unassessed"
        results.append(CheckResult(check, doc, state, items))
    return results
