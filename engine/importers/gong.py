"""Gong: API v2 responses (users, calls, activity stats) as canonical events.

Gong ids are 19-digit numbers, above 2**53: a JSON parser that turns them
into floats changes them. They are read as text (JSON integers as their
exact digits) and never as numbers.

* users (``/v2/users``, ``/v2/users/{id}``): the roster from ``managerId``, a
  snapshot taken to start before the log (see ``Builder.roster_start``);
* calls (``/v2/calls``, ``/v2/calls/extensive``): a call whose title matches
  the mapping's calendar patterns and that has no external party is manager
  method (a one-on-one, ride-along or coaching session with each internal
  party); calls of the mapping's phone directions are ``call_logged``; the
  rest are meetings (with a customer when the scope is External);
* day-by-day activity (``/v2/stats/activity/day-by-day``): each call of someone
  else's that a user listened to, gave feedback on, commented on or filled a
  scorecard for is one ``call_listened`` by that user (once per call, on the
  first day), ``feedback_given`` when they did more than listen; the rep is
  the call's primary user when the call is in the export. Listening to one's
  own calls is not coaching and is counted as skipped;
* aggregate and interaction stats hold totals per period, with no dates or
  calls, so they give no events: their records are counted as skipped with
  the reason.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from engine.events import parse_timestamp
from engine.importers.base import BadRecord, Builder, Imported
from engine.importers.mapping import Mapping
from engine.importers.tables import Export, JsonDoc, Row
from engine.importers.values import as_instant

__all__ = ["import_gong"]

SYSTEM = "gong"
_LISTENED = "othersCallsListenedTo"
_FEEDBACK = ("callsGaveFeedback", "callsMarkedAsFeedbackGiven", "callsCommentsGiven", "callsScorecardsFilled")


def _text(value: object) -> str:
    if value is None or isinstance(value, (dict, list, float)):
        return ""  # a float id has already lost digits: treated as missing, never rounded into another id
    return str(value)


class _Gong:
    def __init__(self, path: str, mapping: Mapping) -> None:
        self.mapping = mapping
        self.out = Builder(SYSTEM, path)
        self.export = Export.read(path, mapping.encoding)
        self.out.report.errors.extend(self.export.errors)
        self.out.report.problems.extend(self.export.problems)
        self.users: dict[str, dict[str, Any]] = {}
        self.calls: dict[str, tuple[dict[str, Any], list[dict[str, Any]], str]] = {}
        self.days: list[tuple[str, dict[str, Any], str]] = []

    def instant(self, text: str, what: str) -> str:
        try:
            return as_instant(text, self.mapping.zone, day_first=self.mapping.day_first)
        except ValueError as exc:
            raise BadRecord(f"{what} {text!r}: {exc}") from None

    def gather(self) -> None:
        for doc in self.export.docs:
            data = doc.data
            if not isinstance(data, dict):
                self.out.report.notes.append(f"{doc.shown}: not a Gong API response, not read")
                continue
            if isinstance(data.get("users"), list) or isinstance(data.get("user"), dict):
                for user in data.get("users") or [data.get("user")]:
                    self.user(user, doc)
            elif isinstance(data.get("calls"), list):
                for item in data["calls"]:
                    self.call(item, doc)
            elif isinstance(data.get("usersDetailedActivities"), list):
                for person in data["usersDetailedActivities"]:
                    user = _text(person.get("userId")) if isinstance(person, dict) else ""
                    for day in person.get("userDailyActivityStats") or [] if isinstance(person, dict) else []:
                        self.days.append((user, day, doc.shown))
            elif isinstance(data.get("usersAggregateActivityStats"), list):
                for _ in data["usersAggregateActivityStats"]:
                    self.out.read("activity_aggregate")
                    self.out.skip(
                        "activity_aggregate",
                        "totals for a period, with no dates or calls (the day-by-day stats give events)",
                    )
            elif isinstance(data.get("peopleInteractionStats"), list):
                for _ in data["peopleInteractionStats"]:
                    self.out.read("interaction_stats")
                    self.out.skip("interaction_stats", "talk-ratio and other interaction measures (not events)")
            elif isinstance(data.get("workspaces"), list):
                for _ in data["workspaces"]:
                    self.out.read("workspaces")
                    self.out.skip("workspaces", "workspaces (no events of their own)")
            else:
                self.out.report.notes.append(f"{doc.shown}: not a Gong response salesmirror reads")

    def user(self, user: object, doc: JsonDoc) -> None:
        self.out.read("users")
        if not isinstance(user, dict) or not _text(user.get("id")):
            self.out.problem(None, "users: a user with no id (or an id written as a JSON float)", doc.shown)
            return
        if _text(user["id"]) in self.users:
            self.out.skip("users", "users given again (another response of the same user, kept once)")
            return
        self.users[_text(user["id"])] = user

    def call(self, item: object, doc: JsonDoc) -> None:
        self.out.read("calls")
        if not isinstance(item, dict):
            self.out.problem(None, "calls: an entry that is not an object", doc.shown)
            return
        meta = item.get("metaData") if isinstance(item.get("metaData"), dict) else item
        assert isinstance(meta, dict)
        call_id = _text(meta.get("id"))
        if not call_id:
            self.out.problem(None, "calls: a call with no id (or an id written as a JSON float)", doc.shown)
            return
        parties = [p for p in item.get("parties") or [] if isinstance(p, dict)]
        if call_id in self.calls:
            self.out.skip("calls", "calls given again (in another response, kept once)")
            return
        self.calls[call_id] = (meta, parties, doc.shown)

    def run(self) -> Imported:
        self.gather()
        self.out.users = set(self.users) if self.users else None
        if not self.users:
            self.out.report.notes.append("no users in the export: the roster cannot be built, user ids are not checked")
        for call_id in sorted(self.calls):
            meta, parties, shown = self.calls[call_id]
            row = Row(shown, 0, {}, f"call {call_id}")
            try:
                self.call_event(call_id, meta, parties, row)
            except BadRecord as exc:
                self.out.problem(row, f"calls {call_id}: {exc}")
        self.listening()
        self.roster()
        return self.out.finish()

    def call_event(self, call_id: str, meta: dict[str, Any], parties: list[dict[str, Any]], row: Row) -> None:
        host = self.out.person("calls", _text(meta.get("primaryUserId")))
        started = _text(meta.get("started") or meta.get("scheduled"))
        if not host or not started:
            self.out.skip("calls", "calls with no primary user or start")
            return
        ts = self.instant(started, "started")
        duration = meta.get("duration")
        seconds = duration if isinstance(duration, (int, float)) and not isinstance(duration, bool) else None
        internal = sorted({_text(p.get("userId")) for p in parties if _text(p.get("userId"))} - {host})
        external = any(_text(p.get("affiliation")).lower() == "external" for p in parties)
        scope = _text(meta.get("scope")).lower()
        title = _text(meta.get("title"))
        method = self.mapping.calendar_type(title) if title else None
        if method is not None and not external and scope != "external":
            attrs: dict[str, Any] = {"focus": method.focus, "topic": method.topic}
            if method.type == "one_on_one_held" and seconds:
                attrs["duration_min"] = round(seconds / 60, 1)
            targets = internal if method.type not in ("team_meeting", "deal_review") else []
            if not targets:
                self.out.event("calls", call_id, method.type, ts, host, row=row, attrs=attrs)
            for person in targets:
                self.out.person("calls", person)
                self.out.event("calls", call_id, method.type, ts, host, row=row, suffix=person, rep=person, attrs=attrs)
            return
        direction = _text(meta.get("direction"))
        if direction.casefold() in {d.casefold() for d in self.mapping.calls.phone_directions}:
            self.out.event("calls", call_id, "call_logged", ts, host, row=row, rep=host, attrs={"duration_s": seconds})
            return
        with_customer = True if external or scope == "external" else (False if scope == "internal" else None)
        attrs = {"with_customer": with_customer, "participants": sorted({host, *internal})}
        self.out.event("calls", call_id, "meeting_held", ts, host, row=row, rep=host, attrs=attrs)

    def listening(self) -> None:
        """call_listened per (user, call) from the day-by-day stats, on the first day it happened."""
        obj = "activity_day_by_day"
        first: dict[tuple[str, str], tuple[int, str, str]] = {}  # (user, call) -> (µs, ts, file) of its first day
        feedback: dict[tuple[str, str], bool] = defaultdict(bool)
        for user, day, shown in self.days:
            self.out.read(obj)
            if not user or not isinstance(day, dict):
                self.out.problem(None, f"{obj}: a day with no user", shown)
                continue
            try:
                ts = self.instant(_text(day.get("fromDate")), "fromDate")
            except BadRecord as exc:
                self.out.problem(None, f"{obj}: user {user}: {exc}", shown)
                continue
            own = day.get("ownCallsListenedTo") or []
            reviewed = [_text(c) for c in day.get(_LISTENED) or []]
            gave = {_text(c) for key in _FEEDBACK for c in day.get(key) or []}
            calls = sorted({c for c in (*reviewed, *gave) if c})
            if not calls:
                self.out.skip(obj, "days with no call of someone else's listened to or given feedback")
                if own:
                    self.out.report.stats(obj).skipped["own calls listened to (not coaching)"] += len(own)
                continue
            at = parse_timestamp(ts)
            for call in calls:
                key = (user, call)
                feedback[key] |= call in gave
                if key not in first or at < first[key][0]:
                    first[key] = (at, ts, shown)
        for (user, call), (_, ts, shown) in sorted(first.items()):
            self.out.person(obj, user)
            known = self.calls.get(call)
            rep = _text(known[0].get("primaryUserId")) if known else None
            row = Row(shown, 0, {}, f"user {user} call {call}")
            self.out.event(
                obj,
                f"{user}:{call}",
                "call_listened",
                ts,
                user,
                row=row,
                rep=self.out.person(obj, rep) if rep and rep != user else None,
                attrs={"feedback_given": feedback[(user, call)]},
            )

    def roster(self) -> None:
        start = self.out.roster_start(self.mapping.roster.start)
        for user_id in sorted(self.users):
            manager = _text(self.users[user_id].get("managerId"))
            if not manager:
                self.out.skip("users", "users with no managerId")
                continue
            if start is None:
                self.out.skip("users", "reporting lines with no event to date them from")
                continue
            self.out.person("users", manager)
            self.out.membership("users", user_id, user_id, manager, start, row=None)


def import_gong(path: str, mapping: Mapping) -> Imported:
    """Every event of a Gong export (a folder or file of API v2 JSON responses) and the import report."""
    return _Gong(path, mapping).run()
