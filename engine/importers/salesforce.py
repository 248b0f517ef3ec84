"""Salesforce: a Data Export (folder or zip), Bulk API / report CSVs, or a Fivetran warehouse sync.

The three forms hold the same objects under different spellings (``OwnerId``,
``owner_id``, ``Owner ID``); :mod:`engine.importers.tables` makes them one.
What each object becomes:

* ``User`` (+ ``UserRole``): the roster. ``ManagerId`` gives the reporting
  lines; when it is empty for everyone, the role hierarchy does
  (``ParentRoleId``: a user reports to a holder of the nearest ancestor role
  that has one). The hierarchy is a snapshot, so it is taken to hold from the
  first event of the import (or the mapping's ``roster.start``).
* ``Opportunity``: ``deal_created``; and, for a deal with no history in the
  export, its closing (won or lost, on ``CloseDate``) as the snapshot shows it.
* ``OpportunityHistory``: stage changes (``deal_stage_changed``, or
  ``deal_closed_won`` / ``deal_closed_lost`` into a won or lost stage) and
  close dates moved later (``close_date_pushed``), by ``CreatedById``. The
  earlier close date is ``PrevCloseDate`` where the org has it (Winter '21
  on), else the previous row's ``CloseDate``.
* ``OpportunityFieldHistory`` and ``FeedTrackedChange`` (with ``FeedItem``):
  owner changes (``deal_owner_changed``, by whoever made them), and stage and
  close-date changes of deals that have no ``OpportunityHistory``.
* A Fivetran history-mode table of Opportunity (``_fivetran_start``): the same
  changes, read from consecutive versions of each deal.
* ``Task``: calls (the mapping's task types, with a duration) and e-mails;
  list e-mails and other tasks are skipped with the reason.
* ``Event`` (+ ``EventRelation``): calendar subjects matching the mapping
  become one-on-ones, ride-alongs or coaching sessions with each invited user;
  other entries are meetings (with a customer when a contact or lead is on it).
* ``OpportunitySplit``: ``commission_split_adjusted``; ``ForecastingQuota``:
  ``target_assigned``; ``FeedItem`` posts in the mapping's channels or to a
  user: ``message_sent`` / ``message_relayed``.

Every event's ``rep`` is the seller the deal belongs to at that moment: the
owner, except that after a manager takes a deal over the seller they took it
from stays the rep (so a takeover is not hidden as the manager's own deal).
Ids are the 18-character form (:func:`~engine.importers.values.salesforce_id`).
"""

from __future__ import annotations

import html
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from engine.events import parse_timestamp
from engine.importers.base import BadRecord, Builder, Cells, Imported
from engine.importers.mapping import Mapping
from engine.importers.tables import Export, Row, Table, normalise
from engine.importers.values import salesforce_id

__all__ = ["import_salesforce"]

SYSTEM = "salesforce"
_OBJECTS = {
    "user": "User",
    "users": "User",
    "userrole": "UserRole",
    "opportunity": "Opportunity",
    "opportunities": "Opportunity",
    "opportunityhistory": "OpportunityHistory",
    "opportunityfieldhistory": "OpportunityFieldHistory",
    "feedtrackedchange": "FeedTrackedChange",
    "feeditem": "FeedItem",
    "task": "Task",
    "event": "Event",
    "eventrelation": "EventRelation",
    "opportunitysplit": "OpportunitySplit",
    "forecastingquota": "ForecastingQuota",
}
_USER_PREFIX = "005"
_OPPORTUNITY_PREFIX = "006"
_CUSTOMER_PREFIXES = ("003", "00Q")  # contacts and leads
_TAG = re.compile(r"<[^>]*>")
_CLOSE_WORDS = {"won": "deal_closed_won", "lost": "deal_closed_lost"}


def _object_of(table: Table) -> str | None:
    """Which Salesforce object a file holds, from its name in any of the export forms."""
    stem = table.name
    for candidate in (
        stem,
        stem.removeprefix("sf"),
        stem.removesuffix("data"),
        stem.removeprefix("sf").removesuffix("data"),
    ):
        found = _OBJECTS.get(candidate)
        if found is None:
            continue
        # A Fivetran history-mode table of Opportunity is named like OpportunityHistory
        # but holds versions of opportunities (no OpportunityId, a _fivetran_start).
        if found == "OpportunityHistory" and not table.has("opportunityid") and table.has("fivetranstart"):
            return "OpportunityVersions"
        if found == "Opportunity" and table.has("fivetranstart") and table.has("fivetranend"):
            return "OpportunityVersions"
        return found
    return None


@dataclass(frozen=True)
class _Change:
    """One field change of a deal, from field history, feed tracking or consecutive versions."""

    obj: str
    record_id: str
    row: Row
    deal: str
    field: str  # 'owner', 'stage' or 'closedate'
    old: str
    new: str
    actor: str | None
    ts: str


class _Salesforce:
    def __init__(self, path: str, mapping: Mapping) -> None:
        self.mapping = mapping
        self.cells = Cells(mapping.zone, mapping.day_first)
        self.out = Builder(SYSTEM, path)
        self.export = Export.read(path, mapping.encoding)
        self.out.report.errors.extend(self.export.errors)
        self.out.report.problems.extend(self.export.problems)
        self.tables: dict[str, list[Table]] = defaultdict(list)
        unused = []
        for table in self.export.tables:
            obj = _object_of(table)
            if obj is None:
                unused.append(f"{os.path.basename(table.shown)} ({len(table.rows)} rows)")
            else:
                self.tables[obj].append(table)
        if unused:
            self.out.report.notes.append("files of objects salesmirror does not read: " + ", ".join(unused))
        for shown in self.export.ignored:
            self.out.report.notes.append(f"{os.path.basename(shown)}: not a CSV file, not read")
        self.managers: dict[str, str] = {}  # rep -> manager (the roster)
        self.owner_changes: dict[str, list[tuple[int, str, str]]] = defaultdict(list)  # deal -> (µs, old, new)
        self.owners: dict[str, str] = {}  # deal -> owner in the Opportunity snapshot
        self.history_deals: set[str] = set()  # deals with OpportunityHistory rows
        self._versioned_deals: set[str] = set()  # deals with Fivetran history-mode versions
        self._opp_rows: dict[str, Row] = {}  # deal -> its Opportunity row
        self._unconverted: set[str] = set()  # currencies with no rate in the mapping
        self._leaders: set[str] = set()  # people someone reports to
        people = mapping.people
        self._named: dict[str, str] = {}
        for role, ids in (
            ("marketing", people.marketing),
            ("ops", people.ops),
            ("executive", people.executives),
            ("manager", people.managers),
        ):
            for given in ids:
                self._named[salesforce_id(given) or given] = role

    # ------------------------------------------------------------ helpers

    def rows(self, obj: str) -> list[Row]:
        return [row for table in self.tables.get(obj, []) for row in table.rows]

    def sfid(self, row: Row, *names: str) -> str | None:
        return salesforce_id(row.get(*names))

    def person(self, obj: str, row: Row, *names: str) -> str | None:
        return self.out.person(obj, self.sfid(row, *names))

    def deleted(self, obj: str, row: Row) -> bool:
        """Deleted records (IsDeleted, Fivetran's _fivetran_deleted) are counted as skipped."""
        if self.cells.flag(row, "isdeleted") or self.cells.flag(row, "fivetrandeleted"):
            self.out.skip(obj, "deleted records")
            return True
        return False

    def role_of(self, person: str) -> str | None:
        """The role the mapping gives a person (its ids compared in their 18-character form)."""
        return self._named.get(person)

    def role(self, person: str) -> str:
        """'manager' for someone with reports (or named so in the mapping), else the mapping's role or 'rep'."""
        named = self.role_of(person)
        if named is not None:
            return named
        return "manager" if person in self._leaders else "rep"

    def seller(self, deal: str, ts: str) -> str | None:
        """The deal's rep at ``ts``: its owner then, or the seller a manager took it over from."""
        at = parse_timestamp(ts)
        changes = sorted(self.owner_changes.get(deal, []))
        chain = [changes[0][1]] if changes else [self.owners[deal]] if deal in self.owners else []
        for when, _, new in changes:
            if when <= at:
                chain.append(new)
        if not chain:
            return None
        for person in reversed(chain):
            if self.role(person) == "rep":
                return person
        return chain[-1]

    def amount(self, row: Row, attrs: dict[str, Any], *names: str) -> None:
        """Amount of a record, in the mapping's currency when a rate is given; its currency kept in attrs."""
        value = self.cells.number(row, *names)
        code = row.get("currencyisocode") or self.mapping.currency
        target = self.mapping.currency
        if value is not None and code and target and code != target:
            rate = self.mapping.rates.get(code)
            if rate is None:
                self._unconverted.add(code)
            else:
                value, code = round(value * rate, 2), target
        attrs["amount"] = value
        if code:
            attrs["currency"] = code

    # ------------------------------------------------------------ the import

    def run(self) -> Imported:
        users = self.rows("User")
        if users:
            self.out.users = {uid for row in users if (uid := self.sfid(row, "id"))}
        else:
            self.out.report.notes.append("no User file: the roster cannot be built and user ids are not checked")
        self.prepare_roster(users)
        opportunities = self.rows("Opportunity")
        for row in opportunities:
            deal, owner = self.sfid(row, "id"), self.sfid(row, "ownerid", "opportunityownerid", "owner")
            if deal and owner:
                self.owners[deal] = owner
        changes = self.changes()
        self.opportunity_history()
        self.apply_changes(changes)
        self.opportunities(opportunities)
        self.tasks()
        self.calendar()
        self.splits()
        self.quotas()
        self.posts()
        self.roster(users)
        if self._unconverted:
            codes = ", ".join(sorted(self._unconverted))
            self.out.report.notes.append(
                f"amounts in {codes} are not converted to {self.mapping.currency} (no rate in the mapping's rates)"
            )
        return self.out.finish()

    def guarded(self, obj: str, row: Row, work: Any) -> None:
        """Read one record; a cell that cannot be read makes the record a located problem."""
        self.out.read(obj)
        try:
            if not self.deleted(obj, row):
                work()
        except BadRecord as exc:
            self.out.problem(row, f"{obj}: {exc}")

    # ------------------------------------------------------------ roster

    def prepare_roster(self, users: list[Row]) -> None:
        """Work out who reports to whom (ManagerId, or the role hierarchy) before any event needs it."""
        by_manager = {
            uid: mid for row in users if (uid := self.sfid(row, "id")) and (mid := self.sfid(row, "managerid"))
        }
        how = self.mapping.roster.hierarchy
        if how == "manager" or (how == "auto" and by_manager):
            self.managers = by_manager
        elif users:
            self.managers = self.role_hierarchy(users)
            if how == "auto":
                self.out.report.notes.append(
                    "User.ManagerId is empty for every user: reporting lines come from the UserRole hierarchy"
                )
        if users and not self.managers:
            self.out.report.notes.append(
                "the export has no reporting lines (no ManagerId, no role above any user's): nobody can be judged "
                "as a manager without a roster (--roster, or people.managers and a roster in the mapping)"
            )
        self._leaders = set(self.managers.values()) | {p for p, r in self._named.items() if r == "manager"}

    def role_hierarchy(self, users: list[Row]) -> dict[str, str]:
        parents = {
            rid: parent
            for row in self.rows("UserRole")
            if (rid := self.sfid(row, "id"))
            for parent in [self.sfid(row, "parentroleid") or ""]
        }
        holders: dict[str, list[str]] = defaultdict(list)
        role_of: dict[str, str] = {}
        for row in users:
            uid, rid = self.sfid(row, "id"), self.sfid(row, "userroleid")
            if uid and rid:
                holders[rid].append(uid)
                role_of[uid] = rid
        managers: dict[str, str] = {}
        for uid, rid in sorted(role_of.items()):
            seen = {rid}
            parent = parents.get(rid, "")
            while parent and parent not in seen:
                seen.add(parent)
                if holders.get(parent):
                    chosen = sorted(holders[parent])
                    managers[uid] = chosen[0]
                    if len(chosen) > 1:
                        self.out.report.notes.append(
                            f"role {parent} is held by {len(chosen)} users; {chosen[0]} is taken as the manager of {uid}"
                        )
                    break
                parent = parents.get(parent, "")
        return managers

    def roster(self, users: list[Row]) -> None:
        start = self.out.roster_start(self.mapping.roster.start)  # once: its own events must not move it
        for row in users:
            self.out.read("User")
            uid = self.sfid(row, "id")
            if not uid:
                self.out.problem(row, "User: no Id")
                continue
            manager = self.managers.get(uid)
            if manager is None:
                self.out.skip(
                    "User", "users with no manager (the top of the hierarchy, or no ManagerId and no role above them)"
                )
                continue
            if start is None:
                self.out.skip("User", "reporting lines with no event to date them from (the import has no events)")
                continue
            self.out.person("User", manager)
            self.out.membership("User", uid, uid, manager, start, row=row)
        for _ in self.rows("UserRole"):
            self.out.read("UserRole")
            self.out.skip("UserRole", "roles (read for the hierarchy, no events of their own)")

    # ------------------------------------------------------------ deals

    def opportunities(self, rows: list[Row]) -> None:
        for row in rows:
            self.guarded("Opportunity", row, lambda row=row: self.opportunity(row))

    def opportunity(self, row: Row) -> None:
        deal = self.sfid(row, "id")
        if not deal:
            raise BadRecord("no Id")
        owner = self.person("Opportunity", row, "ownerid", "opportunityownerid", "owner")
        creator = self.person("Opportunity", row, "createdbyid")
        actor = creator or owner
        created = self.cells.instant(row, "createddate", "createdat")
        if actor is None or created is None:
            missing = "owner or creator" if actor is None else "created date"
            self.out.skip("Opportunity", f"opportunities with no {missing} in this export")
            return
        stage = row.get("stagename", "stage")
        attrs: dict[str, Any] = {"stage": stage or None, "close_date": self.cells.date(row, "closedate")}
        self.amount(row, attrs, "amount")
        self.out.event(
            "Opportunity",
            deal,
            "deal_created",
            created,
            actor,
            row=row,
            rep=self.seller(deal, created) or owner,
            deal=deal,
            attrs=attrs,
            actor_role=self.role_of(actor),
        )
        if deal in self.history_deals or deal in self._versioned_deals:
            return
        won = self.cells.flag(row, "iswon")
        outcome = self.mapping.stage_outcome(stage) if stage else "open"
        if won:
            outcome = "won"
        elif self.cells.flag(row, "isclosed") and outcome == "open" and won is False:
            outcome = "lost"
        if outcome == "open":
            return
        closed = self.cells.instant(row, "closedate")
        if closed is None:
            self.out.skip("Opportunity", "closed opportunities with no close date")
            return
        closer = owner or actor
        self.close(("Opportunity", deal, row), outcome, closed, closer, deal, row, stage)

    def close(
        self,
        where: tuple[str, str, Row],
        outcome: str,
        ts: str,
        actor: str,
        deal: str,
        row: Row,
        stage: str,
        source_row: Row | None = None,
        suffix: str = "closed",
    ) -> None:
        """A deal_closed_won or deal_closed_lost (the loss reason read from the opportunity)."""
        obj, record_id, _ = where
        attrs: dict[str, Any] = {"stage": stage}
        if outcome == "won":
            opp = self._opp_rows.get(deal)
            self.amount(row if row.get("amount") or opp is None else opp, attrs, "amount")
        else:
            field = self.mapping.loss_reason.field
            opp = self._opp_rows.get(deal)
            reason = opp.get(normalise(field)) if field and opp is not None else ""
            attrs["reason"] = reason or None
            attrs["reason_category"] = self.mapping.cause(reason) if reason else None
        self.out.event(
            obj,
            record_id,
            _CLOSE_WORDS[outcome],
            ts,
            actor,
            row=source_row or row,
            suffix=suffix,
            rep=self.seller(deal, ts),
            deal=deal,
            attrs=attrs,
            actor_role=self.role_of(actor),
        )

    def opportunity_history(self) -> None:
        self._opp_rows = {deal: row for row in self.rows("Opportunity") if (deal := self.sfid(row, "id"))}
        by_deal: dict[str, list[tuple[int, str, Row]]] = defaultdict(list)
        for row in self.rows("OpportunityHistory"):
            self.out.read("OpportunityHistory")
            try:
                if self.deleted("OpportunityHistory", row):
                    continue
                deal = self.sfid(row, "opportunityid")
                rid = self.sfid(row, "id", "opportunityhistorykey")
                ts = self.cells.instant(row, "createddate")
                if not deal or not rid or ts is None:
                    raise BadRecord("needs Id, OpportunityId and CreatedDate")
            except BadRecord as exc:
                self.out.problem(row, f"OpportunityHistory: {exc}")
                continue
            by_deal[deal].append((parse_timestamp(ts), rid, row))
            self.history_deals.add(deal)
        for deal, entries in by_deal.items():
            entries.sort(key=lambda e: (e[0], e[1]))
            previous: Row | None = None
            for _, rid, row in entries:
                try:
                    self.history_row(deal, rid, row, previous)
                except BadRecord as exc:
                    self.out.problem(row, f"OpportunityHistory: {exc}")
                previous = row

    def history_row(self, deal: str, rid: str, row: Row, previous: Row | None) -> None:
        obj = "OpportunityHistory"
        ts = self.cells.instant(row, "createddate")
        assert ts is not None
        actor = self.person(obj, row, "createdbyid")
        if actor is None:
            self.out.skip(obj, "history rows with no CreatedById")
            return
        stage = row.get("stagename")
        before = previous.get("stagename") if previous is not None else row.get("fromopportunitystagename")
        made = 0
        if stage and before and stage.casefold() != before.casefold():
            outcome = self.mapping.stage_outcome(stage)
            if outcome == "open":
                attrs = {"from": before, "to": stage, "probability": self.cells.number(row, "probability")}
                made += self.out.event(
                    obj,
                    rid,
                    "deal_stage_changed",
                    ts,
                    actor,
                    row=row,
                    suffix="stage",
                    rep=self.seller(deal, ts),
                    deal=deal,
                    attrs=attrs,
                    actor_role=self.role_of(actor),
                )
            else:
                self.close((obj, rid, row), outcome, ts, actor, deal, row, stage, suffix="closed")
                made += 1
        elif stage and previous is None and not before and self.mapping.stage_outcome(stage) != "open":
            # created already closed (an import of old deals): the closing is this first row
            self.close((obj, rid, row), self.mapping.stage_outcome(stage), ts, actor, deal, row, stage)
            made += 1
        new_date = self.cells.date(row, "closedate")
        old_date = self.cells.date(row, "prevclosedate")
        if old_date is None and previous is not None:
            old_date = self.cells.date(previous, "closedate")
        if new_date and old_date and new_date > old_date:
            made += self.out.event(
                obj,
                rid,
                "close_date_pushed",
                ts,
                actor,
                row=row,
                suffix="closedate",
                rep=self.seller(deal, ts),
                deal=deal,
                attrs={"from": old_date, "to": new_date},
                actor_role=self.role_of(actor),
            )
        if not made:
            if new_date and old_date and new_date < old_date:
                self.out.skip(obj, "rows that only move the close date earlier (not a push)")
            elif previous is None:
                self.out.skip(obj, "first history rows of a deal (its state when created)")
            else:
                self.out.skip(obj, "rows that change neither stage nor close date")

    # ------------------------------------------------------------ field changes

    def changes(self) -> list[_Change]:
        """Owner, stage and close-date changes from field history, feed tracking and Fivetran versions."""
        found: list[_Change] = []
        for row in self.rows("OpportunityFieldHistory"):
            self.out.read("OpportunityFieldHistory")
            try:
                if self.deleted("OpportunityFieldHistory", row):
                    continue
                change = self.field_change(
                    "OpportunityFieldHistory",
                    row,
                    row.get("field"),
                    self.sfid(row, "opportunityid"),
                    self.person("OpportunityFieldHistory", row, "createdbyid"),
                    self.cells.instant(row, "createddate"),
                )
            except BadRecord as exc:
                self.out.problem(row, f"OpportunityFieldHistory: {exc}")
                continue
            if change is not None:
                found.append(change)
        seen = {(c.deal, c.field, c.old, c.new, c.ts) for c in found}
        items = {rid: row for row in self.rows("FeedItem") if (rid := self.sfid(row, "id"))}
        for row in self.rows("FeedTrackedChange"):
            self.out.read("FeedTrackedChange")
            item = items.get(self.sfid(row, "feeditemid") or "")
            if item is None:
                self.out.skip("FeedTrackedChange", "tracked changes whose FeedItem is not in the export")
                continue
            field = row.get("fieldname").rpartition(".")[2]
            try:
                change = self.field_change(
                    "FeedTrackedChange",
                    row,
                    field,
                    self.sfid(item, "parentid"),
                    self.person("FeedTrackedChange", item, "createdbyid"),
                    self.cells.instant(item, "createddate"),
                )
            except BadRecord as exc:
                self.out.problem(row, f"FeedTrackedChange: {exc}")
                continue
            if change is None:
                continue
            if (change.deal, change.field, change.old, change.new, change.ts) in seen:
                self.out.skip("FeedTrackedChange", "changes already in OpportunityFieldHistory")
                continue
            found.append(change)
        found += self.versions()
        for change in found:
            if change.field == "owner":
                self.owner_changes[change.deal].append((parse_timestamp(change.ts), change.old, change.new))
        return found

    def field_change(
        self, obj: str, row: Row, field: str, deal: str | None, actor: str | None, ts: str | None
    ) -> _Change | None:
        rid = self.sfid(row, "id")
        if not rid or not deal or ts is None:
            raise BadRecord("needs Id, the opportunity and CreatedDate")
        if not deal.startswith(_OPPORTUNITY_PREFIX):
            self.out.skip(obj, "changes of records that are not opportunities")
            return None
        name = normalise(field)
        kind = {"owner": "owner", "ownerid": "owner", "stagename": "stage", "closedate": "closedate"}.get(name)
        if kind is None:
            self.out.skip(obj, "changes of fields the rules do not read")
            return None
        old, new = row.get("oldvalue"), row.get("newvalue")
        if kind == "owner":
            old_id, new_id = salesforce_id(old), salesforce_id(new)
            if not (old_id and new_id and old_id.startswith(_USER_PREFIX) and new_id.startswith(_USER_PREFIX)):
                self.out.skip(
                    obj, "owner changes written as names (Salesforce writes each one twice; the id row is used)"
                )
                return None
            old, new = old_id, new_id
            self.out.person(obj, old)
            self.out.person(obj, new)
        if actor is None:
            self.out.skip(obj, "changes with no CreatedById")
            return None
        return _Change(obj, rid, row, deal, kind, old, new, actor, ts)

    def versions(self) -> list[_Change]:
        """Changes between consecutive versions of each deal in a Fivetran history-mode table."""
        obj = "Opportunity"
        by_deal: dict[str, list[tuple[int, Row, str]]] = defaultdict(list)
        for row in self.rows("OpportunityVersions"):
            self.out.read("Opportunity (history mode)")
            try:
                deal = self.sfid(row, "id")
                start = self.cells.instant(row, "fivetranstart")
                if not deal or start is None:
                    raise BadRecord("needs id and _fivetran_start")
            except BadRecord as exc:
                self.out.problem(row, f"Opportunity (history mode): {exc}")
                continue
            by_deal[deal].append((parse_timestamp(start), row, start))
            self._versioned_deals.add(deal)
        found: list[_Change] = []
        for deal, versions in by_deal.items():
            versions.sort(key=lambda v: v[0])
            self.out.skip("Opportunity (history mode)", "first versions of a deal (its state when first synced)")
            for (_, before, _), (_, after, start) in zip(versions, versions[1:]):
                actor = self.sfid(after, "lastmodifiedbyid") or self.sfid(after, "ownerid")
                made = 0
                for kind, column in (("owner", "ownerid"), ("stage", "stagename"), ("closedate", "closedate")):
                    old, new = before.get(column), after.get(column)
                    if kind == "owner":
                        old, new = salesforce_id(old) or "", salesforce_id(new) or ""
                    elif kind == "closedate":
                        try:
                            old = self.cells.date(before, column) or ""
                            new = self.cells.date(after, column) or ""
                        except BadRecord as exc:
                            self.out.problem(after, f"Opportunity (history mode): {exc}")
                            continue
                    if old and new and old != new and actor:
                        found.append(_Change(obj, deal, after, deal, kind, old, new, actor, start))
                        made += 1
                if not made:
                    self.out.skip(
                        "Opportunity (history mode)", "versions that change neither owner, stage nor close date"
                    )
        return found

    def apply_changes(self, changes: list[_Change]) -> None:
        for change in changes:
            obj, deal, ts, actor = change.obj, change.deal, change.ts, change.actor
            assert actor is not None
            suffix = None if change.obj != "Opportunity" else f"{parse_timestamp(ts)}:{change.field}"
            role = self.role_of(actor)
            if change.field == "owner":
                attrs = {"from": change.old, "to": change.new, "to_role": self.role(change.new)}
                self.out.event(
                    obj,
                    change.record_id,
                    "deal_owner_changed",
                    ts,
                    actor,
                    row=change.row,
                    suffix=suffix,
                    rep=change.old if self.role(change.old) == "rep" else self.seller(deal, ts),
                    deal=deal,
                    attrs=attrs,
                    actor_role=role,
                )
                continue
            if deal in self.history_deals and change.obj != "Opportunity":
                self.out.skip(obj, "stage and close-date changes already in OpportunityHistory")
                continue
            if change.field == "stage":
                outcome = self.mapping.stage_outcome(change.new)
                if outcome == "open":
                    self.out.event(
                        obj,
                        change.record_id,
                        "deal_stage_changed",
                        ts,
                        actor,
                        row=change.row,
                        suffix=suffix,
                        rep=self.seller(deal, ts),
                        deal=deal,
                        attrs={"from": change.old, "to": change.new},
                        actor_role=role,
                    )
                else:
                    self.close(
                        (obj, change.record_id, change.row),
                        outcome,
                        ts,
                        actor,
                        deal,
                        self._opp_rows.get(deal, change.row),
                        change.new,
                        source_row=change.row,
                        suffix=suffix or "closed",
                    )
                continue
            try:
                old = self.cells.date(change.row, "oldvalue") if change.obj != "Opportunity" else change.old
                new = self.cells.date(change.row, "newvalue") if change.obj != "Opportunity" else change.new
            except BadRecord as exc:
                self.out.problem(change.row, f"{obj}: {exc}")
                continue
            if old and new and new > old:
                self.out.event(
                    obj,
                    change.record_id,
                    "close_date_pushed",
                    ts,
                    actor,
                    row=change.row,
                    suffix=suffix,
                    rep=self.seller(deal, ts),
                    deal=deal,
                    attrs={"from": old, "to": new},
                    actor_role=role,
                )
            else:
                self.out.skip(obj, "close dates moved earlier or cleared (not a push)")

    # ------------------------------------------------------------ activities

    def tasks(self) -> None:
        for row in self.rows("Task"):
            self.guarded("Task", row, lambda row=row: self.task(row))

    def task(self, row: Row) -> None:
        obj = "Task"
        rid = self.sfid(row, "id")
        if not rid:
            raise BadRecord("no Id")
        calls = self.mapping.calls
        subtype = row.get("tasksubtype")
        kind = row.get("type")
        if subtype.casefold() == "listemail":
            self.out.skip(obj, "list e-mails (mass mailings, not a seller's e-mail)")
            return
        owner = self.person(obj, row, "ownerid")
        ts = self.cells.instant(row, "activitydate", "completeddatetime", "createddate")
        if owner is None or ts is None:
            self.out.skip(obj, "tasks with no owner or date")
            return
        what = self.sfid(row, "whatid")
        deal = what if what and what.startswith(_OPPORTUNITY_PREFIX) else None
        role = self.role_of(owner)
        rep = owner  # the seller who called or wrote (the deal's owner may be someone else)
        if subtype.casefold() == "email" or kind.casefold() == "email":
            self.out.event(obj, rid, "email_sent", ts, owner, row=row, deal=deal, rep=rep, actor_role=role)
            return
        is_call = (
            subtype.casefold() in {s.casefold() for s in calls.task_subtypes}
            or kind.casefold() in {t.casefold() for t in calls.task_types}
            or bool(row.get("calltype"))
        )
        if not is_call:
            self.out.skip(obj, "tasks that are neither calls nor e-mails (to-dos)")
            return
        duration = self.cells.number(row, "calldurationinseconds")
        if calls.require_duration and not (duration and duration > 0):
            self.out.skip(obj, "call tasks with no duration (a planned call, or a CallDurationInSeconds of 0)")
            return
        disposition = row.get("calldisposition")
        outcome = next((o for d, o in calls.outcomes.items() if d.casefold() == disposition.casefold()), None)
        attrs = {"duration_s": duration, "outcome": outcome}
        self.out.event(obj, rid, "call_logged", ts, owner, row=row, deal=deal, rep=rep, attrs=attrs, actor_role=role)

    def calendar(self) -> None:
        invitees: dict[str, set[str]] = defaultdict(set)
        customers: set[str] = set()
        for row in self.rows("EventRelation"):
            self.out.read("EventRelation")
            event_id, relation = self.sfid(row, "eventid"), self.sfid(row, "relationid")
            if not event_id or not relation:
                self.out.problem(row, "EventRelation: needs EventId and RelationId")
                continue
            if relation.startswith(_USER_PREFIX):
                invitees[event_id].add(relation)
                self.out.person("EventRelation", relation)
            elif relation.startswith(_CUSTOMER_PREFIXES):
                customers.add(event_id)
            self.out.skip("EventRelation", "invitations (read with their Event)")
        for row in self.rows("Event"):
            self.guarded("Event", row, lambda row=row: self.calendar_entry(row, invitees, customers))

    def calendar_entry(self, row: Row, invitees: dict[str, set[str]], customers: set[str]) -> None:
        obj = "Event"
        rid = self.sfid(row, "id")
        if not rid:
            raise BadRecord("no Id")
        owner = self.person(obj, row, "ownerid")
        ts = self.cells.instant(row, "startdatetime", "activitydatetime", "activitydate")
        if owner is None or ts is None:
            self.out.skip(obj, "calendar entries with no owner or start")
            return
        minutes = self.cells.number(row, "durationinminutes")
        subject = row.get("subject")
        what = self.sfid(row, "whatid")
        deal = what if what and what.startswith(_OPPORTUNITY_PREFIX) else None
        who = self.sfid(row, "whoid") or ""
        people = sorted(invitees.get(rid, set()) - {owner})
        role = self.role_of(owner)
        method = self.mapping.calendar_type(subject) if subject else None
        if method is not None:
            attrs: dict[str, Any] = {}
            if method.type == "one_on_one_held":
                attrs["duration_min"] = minutes
            if method.focus:
                attrs["focus"] = method.focus
            if method.topic:
                attrs["topic"] = method.topic
            if method.type in ("team_meeting", "deal_review") or not people:
                self.out.event(obj, rid, method.type, ts, owner, row=row, deal=deal, attrs=attrs, actor_role=role)
                return
            for person in people:
                self.out.event(
                    obj,
                    rid,
                    method.type,
                    ts,
                    owner,
                    row=row,
                    suffix=person,
                    rep=person,
                    deal=deal,
                    attrs=attrs,
                    actor_role=role,
                )
            return
        if row.get("type").casefold() in {t.casefold() for t in self.mapping.calls.task_types}:
            attrs = {"duration_s": minutes * 60 if minutes else None}
            self.out.event(obj, rid, "call_logged", ts, owner, row=row, deal=deal, attrs=attrs, actor_role=role)
            return
        with_customer = who.startswith(_CUSTOMER_PREFIXES) or rid in customers
        attrs = {"with_customer": with_customer, "participants": sorted({owner, *people})}
        self.out.event(
            obj,
            rid,
            "meeting_held",
            ts,
            owner,
            row=row,
            deal=deal,
            rep=self.seller(deal, ts) if deal else None,
            attrs=attrs,
            actor_role=role,
        )

    # ------------------------------------------------------------ admin and direction

    def splits(self) -> None:
        for row in self.rows("OpportunitySplit"):
            self.guarded("OpportunitySplit", row, lambda row=row: self.split(row))

    def split(self, row: Row) -> None:
        obj = "OpportunitySplit"
        rid, deal = self.sfid(row, "id"), self.sfid(row, "opportunityid")
        actor = self.person(obj, row, "lastmodifiedbyid", "createdbyid")
        holder = self.person(obj, row, "splitownerid")
        ts = self.cells.instant(row, "lastmodifieddate", "createddate")
        if not rid or actor is None or ts is None:
            raise BadRecord("needs Id, CreatedById and CreatedDate")
        attrs = {"split": self.cells.number(row, "splitpercentage")}
        self.out.event(
            obj,
            rid,
            "commission_split_adjusted",
            ts,
            actor,
            row=row,
            rep=holder,
            deal=deal,
            attrs=attrs,
            actor_role=self.role_of(actor),
        )

    def quotas(self) -> None:
        for row in self.rows("ForecastingQuota"):
            self.guarded("ForecastingQuota", row, lambda row=row: self.quota(row))

    def quota(self, row: Row) -> None:
        obj = "ForecastingQuota"
        rid = self.sfid(row, "id")
        actor = self.person(obj, row, "createdbyid")
        holder = self.person(obj, row, "quotaownerid")
        ts = self.cells.instant(row, "createddate")
        if not rid or actor is None or ts is None:
            raise BadRecord("needs Id, CreatedById and CreatedDate")
        attrs: dict[str, Any] = {"period": self.cells.date(row, "startdate")}
        self.amount(row, attrs, "quotaamount")
        self.out.event(
            obj,
            rid,
            "target_assigned",
            ts,
            actor,
            row=row,
            rep=holder,
            attrs=attrs,
            actor_role=self.role_of(actor),
        )

    def posts(self) -> None:
        for row in self.rows("FeedItem"):
            self.guarded("FeedItem", row, lambda row=row: self.post(row))

    def post(self, row: Row) -> None:
        obj = "FeedItem"
        kind = row.get("type")
        if kind and kind.casefold() == "trackedchange":
            self.out.skip(obj, "tracked changes (read through FeedTrackedChange)")
            return
        if kind and kind.casefold() != "textpost":
            self.out.skip(obj, "posts that are not text posts")
            return
        rid = self.sfid(row, "id")
        actor = self.person(obj, row, "createdbyid")
        parent = self.sfid(row, "parentid") or ""
        ts = self.cells.instant(row, "createddate")
        if not rid or actor is None or ts is None:
            raise BadRecord("needs Id, CreatedById and CreatedDate")
        text = html.unescape(_TAG.sub(" ", row.get("body"))).strip() or None
        role = self.role_of(actor)
        messages = self.mapping.messages
        relayed = {salesforce_id(c) or c for c in messages.relayed}
        team = {salesforce_id(c) or c for c in messages.team}
        if parent in relayed:
            self.out.event(obj, rid, "message_relayed", ts, actor, row=row, attrs={"text": text}, actor_role=role)
        elif parent in team:
            self.out.event(
                obj, rid, "message_sent", ts, actor, row=row, attrs={"audience": "team", "text": text}, actor_role=role
            )
        elif parent.startswith(_USER_PREFIX) and parent != actor:
            self.out.person(obj, parent)
            self.out.event(
                obj,
                rid,
                "message_sent",
                ts,
                actor,
                row=row,
                rep=parent,
                attrs={"audience": "rep", "text": text},
                actor_role=role,
            )
        else:
            self.out.skip(obj, "posts on records or in channels the mapping does not name")


def import_salesforce(path: str, mapping: Mapping) -> Imported:
    """Every event of a Salesforce export (folder, zip or one CSV) and the import report."""
    return _Salesforce(path, mapping).run()
