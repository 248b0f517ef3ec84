"""HubSpot: CRM v3 API JSON (list or get responses, connector captures), Fivetran warehouse tables, CSV exports.

People are HubSpot *owners* (``hubspot_owner_id``); the user ids some fields
hold instead (``hs_created_by_user_id``, a history entry's ``sourceId`` of
``userId:...``) are translated through the owners' ``userId`` (Fivetran:
``active_user_id``). A user id no owner has is kept as ``user:<id>`` and
reported, never guessed.

HubSpot has no manager field. Teams (owners' or users' team memberships) plus
the mapping's ``teams`` section (team id or name -> its manager) give the
roster; a team the mapping gives no manager is named in the report.

What becomes what:

* deals: ``deal_created`` (``createdate``), and from the history of
  ``dealstage``, ``closedate`` and ``hubspot_owner_id`` (``propertiesWithHistory``,
  or Fivetran's ``deal_property_history`` / ``deal_stage``) stage changes, won
  and lost closings (the pipeline's stage metadata, or the mapping's stage
  names), close dates pushed out and owner changes, each by whoever made it;
* calls (``hs_call_duration`` in milliseconds), e-mails, meetings (a title
  matching the mapping's calendar patterns is a one-on-one, ride-along or
  coaching session with the owners who attended), communications in the
  mapping's channels; notes and tasks are skipped with the reason.
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from engine.events import parse_timestamp
from engine.events.timestamps import EPOCH
from engine.importers.base import BadRecord, Builder, Cells, Imported
from engine.importers.mapping import Mapping
from engine.importers.tables import Export, Row, normalise
from engine.importers.values import as_instant

__all__ = ["import_hubspot"]

SYSTEM = "hubspot"
_KINDS = {  # engagement type -> the v3 object it is
    "CALL": "calls",
    "EMAIL": "emails",
    "INCOMING_EMAIL": "emails",
    "FORWARDED_EMAIL": "emails",
    "MEETING": "meetings",
    "NOTE": "notes",
    "TASK": "tasks",
    "COMMUNICATION": "communications",
}
_STEM_KINDS = {
    "call": "calls",
    "email": "emails",
    "meeting": "meetings",
    "note": "notes",
    "task": "tasks",
    "communication": "communications",
}


def _text(value: object) -> str:
    """A JSON value as cell text: ids that are numbers become their exact digits."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class _Record:
    """One HubSpot object from any of the forms, as cells plus its history."""

    kind: str  # deals, owners, calls, ...
    record_id: str
    row: Row
    history: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # prop -> (ts, value, source id)
    contacts: bool = False


class _HubSpot:
    def __init__(self, path: str, mapping: Mapping) -> None:
        self.mapping = mapping
        self.cells = Cells(mapping.zone, mapping.day_first)
        self.out = Builder(SYSTEM, path)
        self.export = Export.read(path, mapping.encoding)
        self.out.report.errors.extend(self.export.errors)
        self.out.report.problems.extend(self.export.problems)
        self.records: dict[str, dict[str, _Record]] = defaultdict(dict)
        self.stages: dict[str, str] = {}  # stage id or label (casefolded) -> won / lost / open
        self.owner_of_user: dict[str, str] = {}
        self.team_names: dict[str, str] = {}
        self.members: dict[str, set[str]] = defaultdict(set)  # team id -> owner ids
        self.deal_of: dict[str, str] = {}  # engagement id -> deal id (Fivetran's engagement_deal)

    # ------------------------------------------------------------ reading every form

    def gather(self) -> None:
        for doc in self.export.docs:
            for kind, obj in self.json_objects(doc.name, doc.data):
                self.json_record(kind, obj, doc.shown)
        unused = []
        for table in self.export.tables:
            name = table.name.removesuffix("data")
            if not self.table(name, table.rows):
                unused.append(f"{os.path.basename(table.shown)} ({len(table.rows)} rows)")
        if unused:
            self.out.report.notes.append("files salesmirror does not read: " + ", ".join(unused))

    def json_objects(self, stem: str, data: Any) -> Iterator[tuple[str, dict[str, Any]]]:
        """(kind, object) of a v3 response, a list of them, or a capture of [collection, document] pairs."""
        if isinstance(data, list):
            for item in data:
                if isinstance(item, list) and len(item) == 2 and isinstance(item[0], str):
                    yield from self.json_objects(normalise(item[0].rpartition("/")[2]), item[1])
                else:
                    yield from self.json_objects(stem, item)
            return
        if not isinstance(data, dict):
            return
        if isinstance(data.get("results"), list):
            yield from self.json_objects(stem, data["results"])
            return
        yield _kind(stem, data), data

    def json_record(self, kind: str, obj: dict[str, Any], shown: str) -> None:
        if kind == "dealpipelines":
            for stage in obj.get("stages") or []:
                if isinstance(stage, dict):
                    meta = stage.get("metadata") or {}
                    outcome = "open"
                    if _text(meta.get("isClosed")).lower() == "true":
                        outcome = "won" if _text(meta.get("probability")) in ("1", "1.0") else "lost"
                    for key in (stage.get("stageId"), stage.get("label")):
                        if key is not None:
                            self.stages[_text(key).casefold()] = outcome
            return
        record_id = _text(obj.get("id") or obj.get("objectId"))
        found = obj.get("properties")
        props: dict[str, Any] = found if isinstance(found, dict) else {}
        cells = {normalise(k): _text(v) for k, v in obj.items()}
        cells.update({normalise(k): _text(v) for k, v in props.items()})
        row = Row(shown, 0, cells, f"{kind} {record_id}")
        record = _Record(kind, record_id, row, contacts=bool(obj.get("contacts")))
        history = obj.get("propertiesWithHistory")
        if isinstance(history, dict):
            for name, entries in history.items():
                if isinstance(entries, list):
                    record.history[normalise(name)] = [
                        (_text(e.get("timestamp")), _text(e.get("value")), self.changer(e))
                        for e in entries
                        if isinstance(e, dict)
                    ]
        if kind == "owners":
            if cells.get("userid"):
                self.owner_of_user[cells["userid"]] = record_id
            for team in obj.get("teams") or []:
                if isinstance(team, dict) and team.get("id") is not None:
                    self.members[_text(team["id"])].add(record_id)
                    self.team_names[_text(team["id"])] = _text(team.get("name"))
        if not record_id:
            self.out.read(kind)
            self.out.problem(None, f"{shown}: a {kind} object with no id", shown, row.raw)
            return
        self.records[kind][record_id] = record

    @staticmethod
    def changer(entry: dict[str, Any]) -> str:
        source = _text(entry.get("sourceId"))
        if source.startswith("userId:"):
            return "user:" + source.removeprefix("userId:")
        user = _text(entry.get("updatedByUserId"))
        return "user:" + user if user else ""

    def table(self, name: str, rows: list[Row]) -> bool:
        """Take one Fivetran or export table; False when it is none salesmirror reads."""
        if name == "owner":
            for row in rows:
                owner = row.get("ownerid", "id")
                self.records["owners"][owner] = _Record("owners", owner, row)
                if row.get("activeuserid", "userid"):
                    self.owner_of_user[row.get("activeuserid", "userid")] = owner
        elif name == "team":
            self.team_names.update({row.get("id"): row.get("name") for row in rows})
        elif name == "ownerteam":
            for row in rows:
                self.members[row.get("teamid")].add(row.get("ownerid"))
        elif name in ("teamuser", "users"):
            for row in rows:
                team = row.get("teamid", "primaryteamid")
                user = row.get("userid") if name == "teamuser" else row.get("id")
                if team and user:
                    self.members[team].add("user:" + user)
        elif name == "dealpipelinestage":
            for row in rows:
                outcome = "open"
                if (self.cells.flag(row, "isclosed") or self.cells.flag(row, "closedwon")) is True:
                    outcome = "won" if self.cells.flag(row, "closedwon") else "lost"
                for key in (row.get("stageid"), row.get("label")):
                    if key:
                        self.stages[key.casefold()] = outcome
        elif name in ("deal", "deals") or (bool(rows) and rows[0].has("recordid") and rows[0].has("dealstage")):
            for row in rows:
                deal = row.get("dealid", "recordid", "id")
                record = _Record("deals", deal, row)
                record.history = self.records["deals"].get(deal, record).history
                self.records["deals"][deal] = record
        elif name in ("dealpropertyhistory", "dealstage"):
            obj = "deal_property_history" if name != "dealstage" else "deal_stage"
            for row in rows:
                self.out.read(obj)
                deal = row.get("dealid")
                prop = "dealstage" if name == "dealstage" else normalise(row.get("name"))
                if prop not in ("dealstage", "closedate", "hubspotownerid"):
                    self.out.skip(obj, "changes of properties the rules do not read")
                    continue
                stamp = row.get("timestamp", "dateentered")
                source = row.get("sourceid")
                changer = "user:" + source.removeprefix("userId:") if source else ""
                record = self.records["deals"].setdefault(deal, _Record("deals", deal, row))
                record.history.setdefault(prop, []).append((stamp, row.get("value"), changer))
                self.out.skip(obj, "history rows (read into their deal's events)")
        elif name == "engagement":
            for row in rows:
                eid = row.get("id")
                kind = _KINDS.get(row.get("type").upper(), "engagements")
                self.merge(kind, eid, row)
        elif name.startswith("engagement") and name.removeprefix("engagement") in _STEM_KINDS:
            kind = _STEM_KINDS[name.removeprefix("engagement")]
            for row in rows:
                self.merge(kind, row.get("engagementid"), row)
        elif name == "engagementdeal":
            self.deal_of = {row.get("engagementid"): row.get("dealid") for row in rows}
        else:
            return False
        return True

    def merge(self, kind: str, eid: str, row: Row) -> None:
        """An engagement's cells from the base table and its typed table, one record."""
        for other in list(self.records):
            if other != kind and eid in self.records[other] and other in _STEM_KINDS.values():
                kind = other if kind == "engagements" else kind
                old = self.records[other].pop(eid)
                row = Row(row.file, row.line, {**old.row.cells, **row.cells}, row.raw)
        current = self.records[kind].get(eid)
        if current is not None:
            row = Row(row.file, row.line, {**current.row.cells, **row.cells}, row.raw)
        self.records[kind][eid] = _Record(kind, eid, row)

    # ------------------------------------------------------------ people

    def person(self, obj: str, owner: str = "", user: str = "") -> str | None:
        """An owner id; a user id translated to its owner, or kept as 'user:<id>' (and reported)."""
        if owner and owner not in ("0",):
            return self.out.person(obj, owner)
        if user:
            user = user.removeprefix("user:")
            found = self.owner_of_user.get(user)
            if found is not None:
                return found
            self.out.report.unknown_users.setdefault(obj, Counter())["user:" + user] += 1
            return "user:" + user
        return None

    def outcome(self, stage: str) -> str:
        by_mapping = self.mapping.stage_outcome(stage)
        if by_mapping != "open":
            return by_mapping
        return self.stages.get(stage.casefold(), "open")

    # ------------------------------------------------------------ the import

    def run(self) -> Imported:
        self.gather()
        owners = self.records.get("owners", {})
        self.out.users = set(owners) if owners else None
        if not owners:
            self.out.report.notes.append("no owners in the export: owner ids are not checked")
        for _ in owners.values():
            self.out.read("owners")
            self.out.skip("owners", "owners (read for the roster and to translate user ids)")
        for deal in sorted(self.records.get("deals", {})):
            self.guarded(self.records["deals"][deal], self.deal)
        for kind in ("calls", "emails", "meetings", "notes", "tasks", "communications", "engagements"):
            for eid in sorted(self.records.get(kind, {})):
                self.guarded(self.records[kind][eid], self.engagement)
        for kind in sorted(
            set(self.records)
            - {"owners", "deals", "calls", "emails", "meetings", "notes", "tasks", "communications", "engagements"}
        ):
            for _ in self.records[kind].values():
                self.out.read(kind)
                self.out.skip(kind, "records of an object the rules do not read")
        self.roster()
        return self.out.finish()

    def guarded(self, record: _Record, work: Any) -> None:
        self.out.read(record.kind)
        try:
            if self.cells.flag(record.row, "isdeleted", "fivetrandeleted", "archived"):
                self.out.skip(record.kind, "deleted or archived records")
                return
            work(record)
        except BadRecord as exc:
            self.out.problem(record.row, f"{record.kind} {record.record_id}: {exc}", record.row.file, record.row.raw)

    def instant(self, text: str, what: str) -> str:
        try:
            return as_instant(text, self.mapping.zone, day_first=self.mapping.day_first)
        except ValueError as exc:
            raise BadRecord(f"{what} {text!r}: {exc}") from None

    def deal(self, record: _Record) -> None:
        row, deal = record.row, record.record_id
        owners = sorted(
            (parse_timestamp(self.instant(t, "hubspot_owner_id history")), v, s)
            for t, v, s in record.history.get("hubspotownerid", [])
            if t
        )
        current_owner = self.person("deals", row.get("hubspotownerid", "ownerid", "dealowner"))
        first_owner = self.person("deals", owners[0][1]) if owners else current_owner

        def owner_at(at: int) -> str | None:
            holder = first_owner
            for when, value, _ in owners:
                if when <= at and value:
                    holder = value
            return holder

        created = row.get("createdate", "propertycreatedate", "createdat")
        creator = self.person("deals", user=row.get("hscreatedbyuserid")) if row.get("hscreatedbyuserid") else None
        made = 0
        if created:
            ts = self.instant(created, "createdate")
            actor = creator or first_owner
            if actor:
                attrs: dict[str, Any] = {
                    "amount": self.cells.number(row, "amount", "propertyamount"),
                    "stage": row.get("dealstage") or None,
                    "currency": row.get("dealcurrencycode") or self.mapping.currency,
                }
                close = row.get("closedate", "propertyclosedate")
                if close:
                    attrs["close_date"] = self.cells.date(row, "closedate", "propertyclosedate")
                made += self.out.event(
                    "deals", deal, "deal_created", ts, actor, row=row, rep=first_owner, deal=deal, attrs=attrs
                )
        # owner changes
        for (when, new, source), previous in zip(owners[1:], owners):
            if new and previous[1] and new != previous[1]:
                ts = self.instant(_iso(when), "owner history")
                actor = self.person("deals", user=source) if source else None
                actor = actor or self.person("deals", new)
                assert actor is not None
                to = self.person("deals", new) or new
                made += self.out.event(
                    "deals",
                    deal,
                    "deal_owner_changed",
                    ts,
                    actor,
                    row=row,
                    suffix=f"owner:{_iso(when)}",
                    rep=previous[1],
                    deal=deal,
                    attrs={"from": previous[1], "to": to, "to_role": self.role(to)},
                )
        # stage changes and closings
        stages = sorted(
            (parse_timestamp(self.instant(t, "dealstage history")), v, s)
            for t, v, s in record.history.get("dealstage", [])
            if t
        )
        for (when, new, source), previous in zip(stages[1:], stages):
            if not new or new == previous[1]:
                continue
            ts = self.instant(_iso(when), "dealstage history")
            actor = (self.person("deals", user=source) if source else None) or owner_at(when)
            if actor is None:
                continue
            outcome = self.outcome(new)
            if outcome == "open":
                made += self.out.event(
                    "deals",
                    deal,
                    "deal_stage_changed",
                    ts,
                    actor,
                    row=row,
                    suffix=f"stage:{_iso(when)}",
                    rep=owner_at(when),
                    deal=deal,
                    attrs={"from": previous[1], "to": new},
                )
            else:
                made += self.closing(record, outcome, ts, actor, owner_at(when), f"stage:{_iso(when)}")
        if not stages or len(stages) == 1:
            stage = row.get("dealstage")
            outcome = self.outcome(stage) if stage else "open"
            closed = row.get("closedate", "propertyclosedate")
            if outcome != "open" and closed and first_owner:
                ts = self.instant(closed, "closedate")
                made += self.closing(record, outcome, ts, current_owner or first_owner, current_owner, "closed")
        # close dates pushed out
        dates = sorted(
            (parse_timestamp(self.instant(t, "closedate history")), v, s)
            for t, v, s in record.history.get("closedate", [])
            if t
        )
        for (when, new, source), previous in zip(dates[1:], dates):
            if not (new and previous[1]):
                continue
            old_day = self.cells.date(Row(row.file, row.line, {"v": previous[1]}, ""), "v")
            new_day = self.cells.date(Row(row.file, row.line, {"v": new}, ""), "v")
            if old_day and new_day and new_day > old_day:
                ts = self.instant(_iso(when), "closedate history")
                actor = (self.person("deals", user=source) if source else None) or owner_at(when)
                if actor:
                    made += self.out.event(
                        "deals",
                        deal,
                        "close_date_pushed",
                        ts,
                        actor,
                        row=row,
                        suffix=f"closedate:{_iso(when)}",
                        rep=owner_at(when),
                        deal=deal,
                        attrs={"from": old_day, "to": new_day},
                    )
        if not made:
            self.out.skip("deals", "deals with no owner, creator or create date")

    def closing(self, record: _Record, outcome: str, ts: str, actor: str, rep: str | None, suffix: str) -> int:
        row = record.row
        if outcome == "won":
            attrs: dict[str, Any] = {"amount": self.cells.number(row, "amount", "propertyamount")}
            kind = "deal_closed_won"
        else:
            field = self.mapping.loss_reason.field or "closed_lost_reason"
            reason = row.get(normalise(field))
            attrs = {"reason": reason or None, "reason_category": self.mapping.cause(reason) if reason else None}
            kind = "deal_closed_lost"
        return int(
            self.out.event(
                "deals",
                record.record_id,
                kind,
                ts,
                actor,
                row=row,
                suffix=suffix,
                rep=rep,
                deal=record.record_id,
                attrs=attrs,
            )
        )

    def role(self, person: str) -> str:
        named = self.mapping.role_of(person)
        if named:
            return named
        return "manager" if person in set(self.managers().values()) else "rep"

    def engagement(self, record: _Record) -> None:
        row, kind, eid = record.row, record.kind, record.record_id
        if kind == "engagements":
            kind = _KINDS.get(row.get("hsengagementtype", "type").upper(), "engagements")
        when = row.get("hstimestamp", "propertyhstimestamp", "timestamp", "starttime", "createdat")
        actor = self.person(
            kind, row.get("hubspotownerid", "propertyhubspotownerid", "ownerid"), row.get("hscreatedbyuserid")
        )
        if kind in ("notes",):
            self.out.skip(kind, "notes (no activity the rules read)")
            return
        if kind == "tasks" and row.get("hstasktype", "propertyhstasktype", "tasktype").casefold() not in {
            t.casefold() for t in self.mapping.calls.task_types
        }:
            self.out.skip(kind, "tasks that are not calls (to-dos)")
            return
        if not when or actor is None:
            self.out.skip(kind, "engagements with no owner or time")
            return
        ts = self.instant(when, "hs_timestamp")
        deal = self.deal_of.get(eid)
        if kind in ("calls", "tasks"):
            millis = self.cells.number(row, "hscallduration", "propertyhscallduration", "durationmilliseconds")
            disposition = row.get("hscalldisposition", "disposition")
            outcome = next(
                (o for d, o in self.mapping.calls.outcomes.items() if d.casefold() == disposition.casefold()), None
            )
            if kind == "calls" and self.mapping.calls.require_duration and not (millis and millis > 0):
                self.out.skip(kind, "calls with no duration (never connected or not dialled)")
                return
            call: dict[str, Any] = {"duration_s": millis / 1000 if millis else None, "outcome": outcome}
            self.out.event(kind, eid, "call_logged", ts, actor, row=row, rep=actor, deal=deal, attrs=call)
        elif kind == "emails":
            self.out.event(kind, eid, "email_sent", ts, actor, row=row, rep=actor, deal=deal)
        elif kind == "meetings":
            title = row.get("hsmeetingtitle", "title", "propertyhsmeetingtitle")
            method = self.mapping.calendar_type(title) if title else None
            attendees = sorted({a for a in row.get("hsattendeeownerids").split(";") if a} - {actor})
            if method is not None:
                attrs: dict[str, Any] = {"focus": method.focus, "topic": method.topic}  # type-specific, None left out
                if not attendees or method.type in ("team_meeting", "deal_review"):
                    self.out.event(kind, eid, method.type, ts, actor, row=row, deal=deal, attrs=attrs)
                for person in attendees if method.type not in ("team_meeting", "deal_review") else []:
                    self.out.event(
                        kind, eid, method.type, ts, actor, row=row, suffix=person, rep=person, deal=deal, attrs=attrs
                    )
                return
            held = {"with_customer": True if record.contacts else None, "participants": sorted({actor, *attendees})}
            self.out.event(kind, eid, "meeting_held", ts, actor, row=row, deal=deal, attrs=held)
        elif kind == "communications":
            channel = row.get("hscommunicationchanneltype")
            text = row.get("hscommunicationbody", "hsbodypreview") or None
            if channel in self.mapping.messages.relayed:
                self.out.event(kind, eid, "message_relayed", ts, actor, row=row, attrs={"text": text})
            elif channel in self.mapping.messages.team:
                self.out.event(kind, eid, "message_sent", ts, actor, row=row, attrs={"audience": "team", "text": text})
            else:
                self.out.skip(kind, "messages in channels the mapping does not name")
        else:
            self.out.skip(kind, "engagements of a type the rules do not read")

    # ------------------------------------------------------------ roster

    def managers(self) -> dict[str, str]:
        """Team id -> manager owner id, from the mapping (by team id or team name)."""
        found: dict[str, str] = {}
        for team in set(self.members) | set(self.team_names):
            given = self.mapping.teams.get(team) or self.mapping.teams.get(self.team_names.get(team, ""), "")
            if given:
                found[team] = (
                    self.owner_of_user.get(given.removeprefix("user:"), given) if given.startswith("user:") else given
                )
        return found

    def roster(self) -> None:
        managers = self.managers()
        start = self.out.roster_start(self.mapping.roster.start)
        unmanaged = sorted(t for t in self.members if t not in managers)
        if unmanaged:
            shown = ", ".join(f"{t} ({self.team_names[t]})" if self.team_names.get(t) else t for t in unmanaged)
            self.out.report.notes.append(
                f"teams with no manager in the mapping's teams section (HubSpot has no manager field): {shown}"
            )
        for team in sorted(self.members):
            for member in sorted(self.members[team]):
                self.out.read("team members")
                manager = managers.get(team)
                if manager is None:
                    self.out.skip("team members", "members of teams the mapping gives no manager")
                    continue
                person = self.person("team members", user=member) if member.startswith("user:") else member
                if person is None or person == manager or start is None:
                    self.out.skip("team members", "team managers themselves, or members with nothing to date")
                    continue
                self.out.membership("team members", f"{team}:{person}", person, manager, start, row=None)


def _iso(micros: int) -> str:
    return (EPOCH + timedelta(microseconds=micros)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _kind(stem: str, obj: dict[str, Any]) -> str:
    """Which v3 object a JSON object is, from where it came and what it holds."""
    if "stages" in obj and "pipelineId" in obj:
        return "dealpipelines"
    if "userId" in obj and "email" in obj and "properties" not in obj:
        return "owners"
    found = obj.get("properties")
    props: dict[str, Any] = found if isinstance(found, dict) else {}
    engagement = _text(props.get("hs_engagement_type"))
    if engagement:
        return _KINDS.get(engagement.upper(), "engagements")
    for word, kind in (
        ("dealpipeline", "dealpipelines"),
        ("deal", "deals"),
        ("owner", "owners"),
        ("engagement", "engagements"),
    ):
        if stem.startswith(word):
            return kind
    for word, kind in _STEM_KINDS.items():
        if stem.startswith(word):
            return kind
    if "dealstage" in props or "dealname" in props:
        return "deals"
    return re.sub(r"(get|list|listlimit[0-9]+)$", "", stem) or "objects"


def import_hubspot(path: str, mapping: Mapping) -> Imported:
    """Every event of a HubSpot export (JSON responses, Fivetran tables or CSV) and the import report."""
    return _HubSpot(path, mapping).run()
