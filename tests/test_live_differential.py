"""The differential test of live mode: ``watch`` over a stream emits exactly the findings ``check`` emits over the file.

Compared as sets of (rule, manager, rep, deal, window, metrics, evidence), on
cases of the rule fixtures (fixtures/rules, loaded with engine.rulecases; a
firing, a handover and a quiet case of every rule, or all of them) and on a
simulated org run through the ``watch`` command itself.
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from live_support import check_findings, identity, in_time_order, lines_of, watch_events

from engine.api import prepare_rules
from engine.live.durable import durable_available
from engine.rulecases import Case, _compiled, find_case_files, load_cases

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(durable_available() is not None, reason="durable-rules cannot be imported here")


def _cases() -> list[Case]:
    """Per rule: its first firing case, its first firing handover case and its first quiet case.

    About 80 of the 321 cases, so the suite stays within CI's time; every kind
    of rule, both handover sides and a look-alike of each are in it.
    ``SALESMIRROR_LIVE_ALL_CASES=1`` runs every case (about 10 minutes on two cores).
    """
    every = [case for path in find_case_files([str(ROOT / "fixtures" / "rules")]) for case in load_cases(path)]
    if os.environ.get("SALESMIRROR_LIVE_ALL_CASES") == "1":
        return every
    chosen: dict[tuple[str, str], Case] = {}
    for case in every:
        kind = "quiet" if not case.expect else ("handover" if "handover" in case.name else "firing")
        chosen.setdefault((case.rule, kind), case)
    return sorted(chosen.values(), key=lambda c: c.id)


CASES = _cases()


@pytest.fixture(scope="module")
def ruleset():  # type: ignore[no-untyped-def]
    return prepare_rules()[0]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fixture_case_watch_equals_check(case: Case, ruleset) -> None:  # type: ignore[no-untyped-def]
    params = json.dumps({case.rule: case.params} if case.params else {}, sort_keys=True, default=str)
    chosen = [c for c in _compiled(None, params) if c.id == case.rule]
    want = check_findings(case.events, chosen)
    # ticks every 60 days keep the cases affordable; tests/test_live.py ticks daily on longer logs
    got = watch_events(lines_of(in_time_order(case.events)), chosen, ruleset, every=timedelta(days=60))
    assert got.identities == want
    assert not got.refused
    assert not [w for w in got.warnings if "not among the findings" in w]


def test_a_simulated_org_through_the_command(tmp_path: Path) -> None:
    """A simulated org streamed in time order through ``watch``: its lines are check's findings, once each."""
    from engine.live import watch_command
    from simulator import simulate

    sim = simulate(managers=4, days=120, seed=7, start=date(2026, 1, 5))
    events = in_time_order(sim.events)
    stream = tmp_path / "org.jsonl"
    stream.write_bytes(b"".join(line + b"\n" for line in lines_of(events)))
    _, compiled = prepare_rules()
    want = check_findings(events, compiled)
    assert want, "the simulated org should show some traits"
    result = CliRunner().invoke(watch_command, [str(stream), "--every", "30d", "--no-config"])
    assert result.exit_code == 1, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    got = [identity(line) for line in lines]
    assert len(got) == len(set(got)), "a finding was emitted twice"
    assert sorted(got) == want


def test_ticks_over_slices_of_a_long_log_settle_what_check_finds(tmp_path: Path) -> None:
    """A log longer than the rules' reach: ticks read slices of the store, and still emit check's findings.

    A finding that reaches back past its slice is found again over a wider
    slice, not the whole store. The whole log's record of when each family
    is logged, kept up tick by tick for the slices, is also what the setup
    says over the whole store.
    """
    from engine.live.evaluator import StoreBackend, settle_margin
    from engine.live.store import Store
    from simulator import simulate

    sim = simulate(managers=5, days=330, seed=3, start=date(2025, 1, 6))
    events = in_time_order(sim.events)
    ruleset, compiled = prepare_rules()
    want = check_findings(events, compiled)
    assert want, "the simulated org should show some traits"
    state = str(tmp_path / "state")
    got = watch_events(lines_of(events), compiled, ruleset, every=timedelta(days=45), batch=5000, state=state)
    assert got.counts.sliced > 0, "no tick read a slice: the log is too short to test them"
    assert got.identities == want
    windowed = [rule for rule in compiled if settle_margin(rule, 14.0) is not None]
    assert got.counts.again > 0, "no finding reached back past its slice: the widening is not tested"
    assert got.counts.whole <= len(windowed), "after the first tick, a rule read the whole store"
    assert [line for line in got.lines if line["settled"] != "end of input"], "nothing was settled early"
    assert not [w for w in got.warnings if "not among the findings" in w]

    store = Store(state)
    try:
        cut = datetime(1970, 1, 1) + timedelta(microseconds=int(store.get("acc_cut")))
        kept = {
            "sm_logged": "SELECT CASE WHEN whole THEN NULL ELSE manager END, family, l_start, l_end, events, early "
            "FROM acc_logged",
            "sm_logged_r": "SELECT rep, family, l_start FROM acc_logged_r",
            "sm_types": "SELECT type, events FROM acc_types",
        }
        record = {name: sorted(store.con.execute(sql).fetchall(), key=repr) for name, sql in kept.items()}
        runner = StoreBackend(store.con, cut, 14.0)
        try:
            columns = {
                "sm_logged": "manager, family, l_start, l_end, events, early",
                "sm_logged_r": "rep, family, l_start",
            }
            for name, listed in columns.items():
                setup = store.con.execute(f"SELECT {listed} FROM {name}").fetchall()
                assert record[name] == sorted(setup, key=repr), name
            roster = ("team_member_added", "team_member_removed")
            types = [r for r in store.con.execute("SELECT type, events FROM sm_types").fetchall() if r[0] not in roster]
            assert record["sm_types"] == sorted(types, key=repr)
        finally:
            runner.close()
    finally:
        store.close()


def test_a_roster_file_in_place_of_roster_events(tmp_path: Path) -> None:
    """Team membership from ``--roster`` instead of events: ``watch`` and ``check`` read it alike.

    The org's membership changes are taken out of the stream and written as
    roster rows (each add with the removal that ends it, if any), and the
    reps' own events lose their ``manager``: every team is known only from
    the file, and ``check`` without it finds something else.
    """
    import cli
    from engine.events.timestamps import parse_timestamp
    from engine.live import watch_command
    from simulator import simulate

    events = in_time_order(simulate(managers=4, days=150, seed=5, start=date(2026, 1, 5)).events)
    changes = [e for e in events if e["type"] in ("team_member_added", "team_member_removed")]
    rows = ["rep,manager,start,end"]
    for added in (e for e in changes if e["type"] == "team_member_added" and e.get("rep")):
        begins = parse_timestamp(str(added["ts"]))
        ends = sorted(
            str(e["ts"])
            for e in changes
            if e["type"] == "team_member_removed" and (e.get("rep"), e.get("manager")) == (added["rep"], added["manager"])
            and parse_timestamp(str(e["ts"])) > begins
        )  # fmt: skip
        rows.append(f"{added['rep']},{added['manager']},{added['ts']},{ends[0] if ends else ''}")
    assert len(rows) > 10, "the simulated org should have a roster"
    roster = tmp_path / "roster.csv"
    roster.write_text("\n".join(rows) + "\n", encoding="utf-8")
    stream = tmp_path / "org.jsonl"
    unplaced = [
        {k: v for k, v in e.items() if k != "manager" or e.get("actor_role") != "rep"}
        for e in events
        if e not in changes
    ]
    stream.write_bytes(b"".join(line + b"\n" for line in lines_of(unplaced)))

    def checked(*options: str) -> list[str]:
        result = CliRunner().invoke(cli.main, ["check", str(stream), *options, "--format", "json", "--no-config"])
        assert result.exit_code == 1, result.output
        return sorted(identity(f) for f in json.loads(result.stdout)["findings"])

    want = checked("--roster", str(roster))
    assert want, "the simulated org should show some traits"
    assert want != checked(), "the roster should change what check finds"
    watched = CliRunner().invoke(watch_command, [str(stream), "--roster", str(roster), "--every", "30d", "--no-config"])
    assert watched.exit_code == 1, watched.output
    got = [identity(json.loads(line)) for line in watched.stdout.splitlines() if line.strip()]
    assert len(got) == len(set(got)), "a finding was emitted twice"
    assert sorted(got) == want
