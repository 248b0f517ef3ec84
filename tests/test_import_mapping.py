"""The mapping file and the cell values every importer shares."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.importers import SOURCES, MappingError, default_mapping_text, load_mapping
from engine.importers.values import as_bool, as_date, as_instant, as_number

UTC = ZoneInfo("UTC")


@pytest.mark.parametrize("source", SOURCES)
def test_every_shipped_default_loads_and_is_commented(source: str) -> None:
    mapping = load_mapping(source)
    assert mapping.source == source
    assert default_mapping_text(source).lstrip().startswith("#")


def test_a_user_section_replaces_the_default_section_only(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("stages:\n  won: [Gewonnen]\n  lost: [Verloren]\n")
    mapping = load_mapping("salesforce", str(path))
    assert mapping.stage_outcome("gewonnen ") == "won" and mapping.stage_outcome("Closed Won") == "open"
    assert mapping.calendar_type("1:1 Anna") is not None  # the default calendar is kept


def test_mapping_for_another_source_and_bad_values(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("source: gong\n")
    with pytest.raises(MappingError, match="it is for gong, not salesforce"):
        load_mapping("salesforce", str(path))
    path.write_text("encoding: klingon\nrates: {EUR: -1}\nloss_reason: {values: {Price: cheap}}\n")
    with pytest.raises(MappingError) as caught:
        load_mapping("salesforce", str(path))
    where = {(p.line, p.col) for p in caught.value.problems}
    assert {(1, 11), (2, 8)} <= where and any(p.line == 3 for p in caught.value.problems)
    path.write_text("timezone: !!python/object/apply:os.system [echo]\n")
    with pytest.raises(MappingError, match="tags are not allowed"):
        load_mapping("salesforce", str(path))
    path.write_text("calendar: [{pattern: x, type: one_on_one_held, focus: skills}]\n")
    with pytest.raises(MappingError, match="focus goes with type team_meeting only"):
        load_mapping("salesforce", str(path))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-10-28 20:45:25", "2023-10-28T20:45:25Z"),  # Data Export: no zone, UTC
        ("2024-01-22T16:14:25.000+0000", "2024-01-22T16:14:25Z"),  # offset without a colon
        ("2020-12-30 3:15:52", "2020-12-30T03:15:52Z"),  # one-digit hour (Fivetran)
        ("2023-06-08 23:22:38.519000 UTC", "2023-06-08T23:22:38.519000Z"),
        ("2023-04-11T14:37:55.717888+03:00", "2023-04-11T11:37:55.717888Z"),
        ("02/23/26 08:55 PM", "2026-02-23T20:55:00Z"),  # report export
        ("1743685132529", "2025-04-03T12:58:52.529000Z"),  # epoch milliseconds
        ("2026-01-05", "2026-01-05T00:00:00Z"),
    ],
)
def test_instants(text: str, expected: str) -> None:
    assert as_instant(text, UTC) == expected


def test_zones_dates_booleans_numbers() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert as_instant("2026-01-05", berlin) == "2026-01-04T23:00:00Z"
    assert as_instant("05/01/2026", UTC, day_first=True) == "2026-01-05T00:00:00Z"
    with pytest.raises(ValueError, match="DST gap"):
        as_instant("2026-03-29 02:30:00", berlin)
    assert as_date("2023-09-06 00:00:00", UTC) == "2023-09-06"
    assert as_date("2024-01-03T09:37:11.118Z", ZoneInfo("America/New_York")) == "2024-01-03"
    assert [as_bool(v) for v in ("TRUE", "false", "1", "0", "", " yes ")] == [True, False, True, False, None, True]
    with pytest.raises(ValueError):
        as_bool("maybe")
    assert [as_number(v) for v in ("15000", "1124741.15", "1,250.00", "")] == [15000, 1124741.15, 1250, None]
    with pytest.raises(ValueError):
        as_number("NaN")
    with pytest.raises(ValueError):
        as_instant("13/45/2026", UTC)


def test_the_mapping_knows_the_vocabulary_s_causes_and_outcomes() -> None:
    """The mapping's typed lists mirror the vocabulary's (pydantic needs them as Literals): they must not drift."""
    from typing import get_args

    from engine.importers.mapping import Cause, Outcome
    from engine.vocab import CAUSE_CATEGORIES, EVENT_TYPES

    assert get_args(Cause) == CAUSE_CATEGORIES
    assert get_args(Outcome) == EVENT_TYPES["call_logged"]["outcome"].values
