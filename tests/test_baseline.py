"""Fingerprints that stay put, and baselines that report only what is new.

The log of ``tests.ci_support.own_events`` gives m1 three findings, one per kind of window:
``ci/rep-sessions`` over the whole time led (about rep r1), ``ci/deal-pushes`` in a sliding
window (about deal D-1) and ``ci/monthly-calls`` in March. Each stability test changes the log
in one way a nightly export or a re-import does and checks the fingerprints did not move.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path
from typing import Any

import pytest

import engine
from engine.report.fingerprint import Mark, compare, fingerprint, mark, period
from tests.ci_support import cli, own_events, own_log, own_rules
from tests.helpers import D, ev


def _prints(folder: Path, *logs: Path) -> dict[str, str]:
    report = engine.check([str(log) for log in logs], rules=[str(folder / "rules")])
    return {f.rule: fingerprint(f) for f in report.findings}


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    own_rules(tmp_path)
    own_log(tmp_path)
    return tmp_path


@pytest.fixture()
def prints(folder: Path) -> dict[str, str]:
    found = _prints(folder, folder / "events.jsonl")
    assert set(found) == {"ci/rep-sessions", "ci/deal-pushes", "ci/monthly-calls"}
    assert len(set(found.values())) == 3
    return found


# ---------------------------------------------------------------------------------------------
# fingerprints


def test_a_fingerprint_names_rule_people_and_period_never_evidence(folder: Path) -> None:
    report = engine.check([str(folder / "events.jsonl")], rules=[str(folder / "rules")])
    periods = {f.rule: period(f) for f in report.findings}
    assert periods == {
        "ci/rep-sessions": "led",  # the whole time led: its start moves with the log's
        "ci/deal-pushes": "from:2026-02-02",  # the day of the first qualifying event
        "ci/monthly-calls": "month:2026-03-01",  # the calendar period the finding starts in
    }
    finding = next(f for f in report.findings if f.rule == "ci/deal-pushes")
    assert finding.fingerprint == fingerprint(finding)  # set by evaluate
    changed = [
        {"manager": "m2"},
        {"deal": "D-2"},
        {"rep": "r1"},
        {"rule": "ci/other"},
        {"window_start": D("2026-02-03")},
        {"group": {"attrs.period": "2026-Q1"}},
    ]
    seen = {fingerprint(finding)}
    for change in changed:
        other = engine.Finding(**{**vars(finding), "fingerprint": "", **change})
        seen.add(fingerprint(other))
    assert len(seen) == len(changed) + 1
    same = engine.Finding(**{**vars(finding), "fingerprint": "", "evidence": ["x"], "origins": {}, "sources": {}})
    same.window_end = D("2026-03-30")  # a window that ran on
    assert fingerprint(same) == fingerprint(finding)


def test_unrelated_events_do_not_change_fingerprints(folder: Path, prints: dict[str, str]) -> None:
    noise = [
        ev("n1", "2026-01-15", "email_sent", "r1", manager="m1", rep="r1"),
        ev("n2", "2026-02-05", "coaching_session", "m3", manager="m3", rep="r7"),
        ev("n3", "2026-02-20", "call_listened", "m3", manager="m3", rep="r7"),
        ev("n4", "2026-03-10", "forecast_updated", "ops"),
        ev("n5", "2026-02-03", "close_date_pushed", "r2", manager="m1", rep="r2", deal="D-9"),
    ]
    log = own_log(folder, own_events() + noise, name="noisy.jsonl")
    assert _prints(folder, log) == prints


def test_reordering_the_log_does_not_change_fingerprints(folder: Path, prints: dict[str, str]) -> None:
    events = own_events()
    for seed in (1, 2, 3):
        random.Random(seed).shuffle(events)
        assert _prints(folder, own_log(folder, events, name=f"shuffled-{seed}.jsonl")) == prints


def test_re_importing_the_same_export_does_not_change_fingerprints(folder: Path, prints: dict[str, str]) -> None:
    text = (folder / "events.jsonl").read_bytes()
    renamed = folder / "export-2026-04-01.jsonl"
    renamed.write_bytes(text)
    packed = folder / "export.jsonl.gz"
    packed.write_bytes(gzip.compress(text))
    assert _prints(folder, renamed) == prints
    assert _prints(folder, packed) == prints
    assert _prints(folder, folder / "events.jsonl", renamed) == prints  # imported twice: kept once


def test_new_event_ids_do_not_change_fingerprints(folder: Path, prints: dict[str, str]) -> None:
    events = [{**e, "id": f"crm-{index:05d}"} for index, e in enumerate(reversed(own_events()))]
    assert _prints(folder, own_log(folder, events, name="new-ids.jsonl")) == prints


def test_a_log_that_grows_keeps_its_fingerprints(folder: Path, prints: dict[str, str]) -> None:
    later = [
        ev("span-c", "2026-04-30 23:00", "forecast_updated", "ops"),
        ev("p3", "2026-02-12", "close_date_pushed", "r1", manager="m1", rep="r1", deal="D-1"),  # the burst goes on
        ev("c4", "2026-04-02", "call_listened", "m1", manager="m1", rep="r1"),
        ev("c5", "2026-04-03", "call_listened", "m1", manager="m1", rep="r1"),
        ev("c6", "2026-04-06", "call_listened", "m1", manager="m1", rep="r2"),  # April fires too
        ev("s4", "2026-04-20", "coaching_session", "m1", manager="m1", rep="r1"),
    ]
    log = own_log(folder, own_events() + later, name="grown.jsonl")
    report = engine.check([str(log)], rules=[str(folder / "rules")])
    windows = {f.rule: (f.window_start, f.window_end) for f in report.findings}
    assert windows["ci/monthly-calls"] == (D("2026-03-01"), D("2026-05-01"))  # one finding over two months
    assert windows["ci/deal-pushes"] == (D("2026-02-02"), D("2026-02-12"))
    assert {f.rule: fingerprint(f) for f in report.findings} == prints


def test_a_log_that_starts_earlier_keeps_its_fingerprints(folder: Path, prints: dict[str, str]) -> None:
    earlier = [
        ev("old-1", "2025-11-03", "forecast_updated", "ops"),
        ev("old-2", "2025-12-01", "email_sent", "m1", manager="m1", rep="r1"),
        ev("old-3", "2025-12-15", "call_listened", "m1", manager="m1", rep="r1"),  # December stays quiet
    ]
    log = own_log(folder, earlier + own_events(), name="older.jsonl")
    report = engine.check([str(log)], rules=[str(folder / "rules")])
    whole = next(f for f in report.findings if f.rule == "ci/rep-sessions")
    assert whole.window_start == D("2025-11-03")  # the whole-window finding now starts with the log
    assert {f.rule: fingerprint(f) for f in report.findings} == prints


def test_a_finding_whose_period_moved_is_still_matched(folder: Path) -> None:
    """February fires too once more calls are logged: the finding starts a month earlier, same pattern."""
    before = engine.check([str(folder / "events.jsonl")], rules=[str(folder / "rules")])
    february = [ev(f"f{i}", f"2026-02-{10 + i:02d}", "call_listened", "m1", manager="m1", rep="r1") for i in range(3)]
    log = own_log(folder, own_events() + february, name="more.jsonl")
    after = engine.check([str(log)], rules=[str(folder / "rules")])
    old = next(f for f in before.findings if f.rule == "ci/monthly-calls")
    new = next(f for f in after.findings if f.rule == "ci/monthly-calls")
    assert (period(old), period(new)) == ("month:2026-03-01", "month:2026-02-01")
    assert fingerprint(old) != fingerprint(new)
    result = compare(before.findings, after.findings)
    assert result.new == [] and result.gone == []
    assert [(b.rule, a.rule) for b, a in result.moved] == [("ci/monthly-calls", "ci/monthly-calls")]
    assert len(result.persisting) == 3


# ---------------------------------------------------------------------------------------------
# compare


def _mark(fp: str, start: str, end: str, **kw: Any) -> Mark:
    fields: dict[str, Any] = {
        "fingerprint": fp,
        "rule": "t/r",
        "manager": "m1",
        "rep": None,
        "deal": None,
        "group": (),
        "period": "led",
        "window_start": D(start),
        "window_end": D(end),
        "severity": "low",
    }
    fields.update(kw)
    return Mark(**fields)


def test_compare_pairs_duplicates_in_window_order_and_ignores_list_order() -> None:
    a1, a2 = _mark("a" * 32, "2026-01-01", "2026-01-10"), _mark("a" * 32, "2026-03-01", "2026-03-10")
    b = _mark("b" * 32, "2026-01-01", "2026-01-05", manager="m2")
    moved = _mark("c" * 32, "2026-02-01", "2026-02-20", rule="t/moved")
    before = [a1, a2, b, _mark("d" * 32, "2026-02-10", "2026-03-01", rule="t/moved")]
    now = [_mark("a" * 32, "2026-03-01", "2026-03-12"), _mark("e" * 32, "2026-01-01", "2026-01-02"), moved]
    for seed in range(4):
        random.Random(seed).shuffle(before)
        random.Random(seed + 10).shuffle(now)
        result = compare(before, now)
        assert [(x.fingerprint, x.window_start) for x, _ in result.persisting if x.fingerprint == "a" * 32] == [
            ("a" * 32, D("2026-01-01"))
        ]
        assert sorted(m.fingerprint for m in result.gone) == ["a" * 32, "b" * 32]
        assert [m.fingerprint for m in result.new] == ["e" * 32]
        assert [(x.fingerprint, y.fingerprint) for x, y in result.moved] == [("d" * 32, "c" * 32)]


def test_compare_does_not_match_a_later_episode_by_identity() -> None:
    old = _mark("a" * 32, "2026-01-01", "2026-01-10", period="from:2026-01-01")
    later = _mark("b" * 32, "2026-02-01", "2026-02-03", period="from:2026-02-01")
    result = compare([old], [later])
    assert result.new == [later] and result.gone == [old] and result.persisting == []


# ---------------------------------------------------------------------------------------------
# baselines through the CLI


def _check(folder: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = cli(folder, "check", "events.jsonl", "--no-config", "--rules", "rules", "--format", "json", *extra)
    return code, json.loads(out) if out else {}, err


def _create(folder: Path, *extra: str, log: str = "events.jsonl") -> str:
    code, _, err = cli(folder, "baseline", "create", log, "--no-config", "--rules", "rules", *extra)
    assert code == 0, err
    return err


def test_a_baseline_of_today_reports_nothing_new(folder: Path) -> None:
    err = _create(folder, "-o", "b.json")
    assert err == "salesmirror: baseline of 3 finding(s) written to b.json\n"
    document = json.loads((folder / "b.json").read_text(encoding="utf-8"))
    assert document["salesmirror_baseline"] == 1 and document["fingerprints"] == "salesmirror-finding/1"
    assert [e["rule"] for e in document["findings"]] == ["ci/deal-pushes", "ci/monthly-calls", "ci/rep-sessions"]
    assert "evidence" not in document["findings"][0] and "s1" not in (folder / "b.json").read_text(encoding="utf-8")
    code, data, _ = _check(folder, "--baseline", "b.json")
    assert code == 0
    assert data["findings"] == []
    assert data["summary"]["baseline"] == {"new": 0, "unchanged": 3, "gone": 0}
    code, text, _ = cli(folder, "check", "events.jsonl", "--no-config", "--rules", "rules", "--baseline", "b.json")
    assert code == 0 and "Baseline b.json: 0 new, 3 unchanged (not listed), 0 gone." in text


def test_only_new_findings_are_reported_and_fail_the_check(folder: Path) -> None:
    _create(folder, "-o", "b.json")
    events = [e for e in own_events() if e["id"] not in ("p1", "p2")]  # D-1's pushes: gone
    events.append(ev("q3", "2026-01-22", "coaching_session", "m2", manager="m2", rep="r9"))  # m2: new
    own_log(folder, events)
    code, data, _ = _check(folder, "--baseline", "b.json")
    assert code == 1
    assert [(f["rule"], f["manager"], f["rep"]) for f in data["findings"]] == [("ci/rep-sessions", "m2", "r9")]
    assert data["summary"]["baseline"] == {"new": 1, "unchanged": 2, "gone": 1}
    assert data["summary"]["findings"] == 1
    code, text, _ = cli(
        folder, "check", "events.jsonl", "--no-config", "--rules", "rules", "--baseline", "b.json", "-v"
    )
    assert "In the baseline but no longer found:\n  m1  MEDIUM ci/deal-pushes  from:2026-02-02  deal D-1\n" in text
    assert "1 gone." in text


def test_the_exit_code_counts_only_new_findings_at_or_above_fail_on(folder: Path) -> None:
    _create(folder, "-o", "b.json")
    events = own_events() + [ev("q3", "2026-01-22", "coaching_session", "m2", manager="m2", rep="r9")]
    own_log(folder, events)
    assert _check(folder, "--baseline", "b.json", "--fail-on", "medium")[0] == 1  # m2's is medium
    assert _check(folder, "--baseline", "b.json", "--fail-on", "high")[0] == 0
    assert _check(folder, "--fail-on", "low")[0] == 1  # without the baseline, all four count


def test_a_finding_more_severe_than_its_baseline_entry_counts_as_new(folder: Path) -> None:
    _create(folder, "-o", "b.json")
    (folder / "salesmirror.yaml").write_text("severity:\n  ci/monthly-calls: medium\n", encoding="utf-8")
    code, out, err = cli(
        folder, "check", "events.jsonl", "--rules", "rules", "--format", "json", "--baseline", "b.json"
    )
    assert code == 1, err
    data = json.loads(out)
    (finding,) = data["findings"]
    assert (finding["rule"], finding["severity"]) == ("ci/monthly-calls", "medium")
    assert "counted as new: the baseline holds it as low, and it is medium now" in finding["notes"]
    assert data["summary"]["baseline"] == {"new": 1, "unchanged": 2, "gone": 0}


def test_write_baseline_matches_baseline_create_and_can_update_in_place(folder: Path) -> None:
    _create(folder, "-o", "created.json")
    code, _, err = _check(folder, "--write-baseline", "written.json")
    assert code == 1 and "baseline of 3 finding(s) written to written.json" in err
    assert (folder / "written.json").read_bytes() == (folder / "created.json").read_bytes()
    own_log(folder, own_events() + [ev("q3", "2026-01-22", "coaching_session", "m2", manager="m2", rep="r9")])
    code, data, _ = _check(folder, "--baseline", "written.json", "--write-baseline", "written.json")
    assert code == 1 and data["summary"]["baseline"]["new"] == 1  # judged against the old file
    code, data, _ = _check(folder, "--baseline", "written.json")
    assert code == 0 and data["summary"]["baseline"] == {"new": 0, "unchanged": 4, "gone": 0}


def test_a_baseline_is_the_same_file_whatever_the_order_of_the_log(folder: Path) -> None:
    _create(folder, "-o", "one.json")
    events = own_events()
    random.Random(7).shuffle(events)
    own_log(folder, events, name="shuffled.jsonl")
    _create(folder, "-o", "two.json", log="shuffled.jsonl")
    assert (folder / "one.json").read_bytes() == (folder / "two.json").read_bytes()


def test_suppressed_findings_stay_out_of_a_baseline(folder: Path) -> None:
    (folder / "quiet.yaml").write_text(
        "suppressions:\n  - rule: ci/monthly-calls\n    manager: m1\n    reason: Agreed with HR\n"
        "    approved_by: hr-lead\n    expires: 2026-06-30\n",
        encoding="utf-8",
    )
    err = _create(folder, "-o", "b.json", "--suppressions", "quiet.yaml", "--today", "2026-04-01")
    assert "baseline of 2 finding(s) written to b.json (1 suppressed, left out)" in err
    rules = [e["rule"] for e in json.loads((folder / "b.json").read_text(encoding="utf-8"))["findings"]]
    assert rules == ["ci/deal-pushes", "ci/rep-sessions"]
    # when the suppression has expired, the finding is new again: the baseline never accepted it
    code, data, _ = _check(folder, "--baseline", "b.json", "--suppressions", "quiet.yaml", "--today", "2026-07-01")
    assert code == 1 and [f["rule"] for f in data["findings"]] == ["ci/monthly-calls"]
    code, data, _ = _check(folder, "--baseline", "b.json", "--suppressions", "quiet.yaml", "--today", "2026-06-30")
    assert code == 0 and data["summary"]["suppressed"] == 1 and data["summary"]["baseline"]["gone"] == 0


def test_a_redacted_baseline_names_no_one_and_still_matches(folder: Path) -> None:
    _create(folder, "-o", "plain.json")
    _create(folder, "-o", "hidden.json", "--redact")
    text = (folder / "hidden.json").read_text(encoding="utf-8")
    assert '"m1"' not in text and '"r1"' not in text and '"manager-' in text
    plain = json.loads((folder / "plain.json").read_text(encoding="utf-8"))["findings"]
    hidden = json.loads(text)["findings"]
    assert sorted(e["fingerprint"] for e in hidden) == sorted(e["fingerprint"] for e in plain)
    code, data, _ = _check(folder, "--baseline", "hidden.json")
    assert code == 0 and data["summary"]["baseline"] == {"new": 0, "unchanged": 3, "gone": 0}
    own_log(folder, [e for e in own_events() if e["id"] not in ("c1", "c2", "c3")])
    code, out, _ = cli(
        folder, "check", "events.jsonl", "--no-config", "--rules", "rules", "--baseline", "plain.json", "-v", "--redact"
    )
    gone = out.split("In the baseline but no longer found:\n", 1)[1].splitlines()[0]
    assert gone.startswith("  manager-") and "ci/monthly-calls" in gone and " m1 " not in out


def test_invalid_baselines_are_reported_at_their_place(folder: Path) -> None:
    (folder / "broken.json").write_text('{"salesmirror_baseline": 1,\n  "findings": [\n', encoding="utf-8")
    code, _, err = _check(folder, "--baseline", "broken.json")
    assert code == 2 and err.startswith("broken.json:3:1: invalid baseline: ")
    (folder / "other.json").write_text('{"findings": []}\n', encoding="utf-8")
    code, _, err = _check(folder, "--baseline", "other.json")
    assert code == 2 and "other.json:1:1: invalid baseline: not a salesmirror baseline" in err
    _create(folder, "-o", "b.json")
    document = json.loads((folder / "b.json").read_text(encoding="utf-8"))
    del document["findings"][0]["fingerprint"]
    document["findings"][1]["severity"] = "severe"
    document["findings"][2]["window"] = {"start": "yesterday", "end": "2026-01-01T00:00:00Z"}
    (folder / "b.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    (folder / "quiet.yaml").write_text("suppressions:\n  - rule: ci/monthly-calls\n", encoding="utf-8")
    code, _, err = _check(folder, "--baseline", "b.json", "--suppressions", "quiet.yaml")
    lines = err.splitlines()
    assert code == 2
    assert lines[-1] == "salesmirror: 7 problems found"
    text = (folder / "b.json").read_text(encoding="utf-8").splitlines()
    entry_line = next(n for n, line in enumerate(text, 1) if line.strip() == "{" and n > 3)
    assert f"b.json:{entry_line}:5: invalid baseline entry 1: 'fingerprint' is missing" in lines
    severe = next(n for n, line in enumerate(text, 1) if '"severe"' in line)
    assert f"b.json:{severe}:19: invalid baseline entry 2: severity: must be one of low, medium, high" in lines
    assert any(line.startswith("b.json:") and "entry 3: window: give a UTC time" in line for line in lines)
    assert (
        "quiet.yaml:2:5: invalid suppression 1: 'manager' is missing: name the manager whose finding it accepts"
        in lines
    )


def test_a_missing_baseline_is_an_error_not_an_empty_one(folder: Path) -> None:
    code, _, err = _check(folder, "--baseline", "nowhere.json")
    assert code == 2 and "nowhere.json: cannot read baseline: No such file or directory" in err


def test_marks_round_trip_through_a_baseline_file(folder: Path, tmp_path: Path) -> None:
    from engine.report.baseline import read_baseline, write_baseline

    report = engine.check([str(folder / "events.jsonl")], rules=[str(folder / "rules")])
    target = tmp_path / "marks.json"
    write_baseline(str(target), report.findings)
    marks = read_baseline(str(target))
    assert sorted(marks, key=lambda m: m.rule) == sorted((mark(f) for f in report.findings), key=lambda m: m.rule)


def test_a_baseline_of_thousands_of_findings_is_read(tmp_path: Path) -> None:
    """The node limit of the YAML reader follows the file's size: a big baseline is not 'hostile'."""
    from engine.report.baseline import baseline_text, read_baseline

    marks = [_mark(f"{i:032x}", "2026-01-01", "2026-01-10", manager=f"m{i}") for i in range(1000)]  # some 14,000 nodes
    target = tmp_path / "big.json"
    target.write_text(baseline_text(marks), encoding="utf-8")
    assert len(read_baseline(str(target))) == 1000
