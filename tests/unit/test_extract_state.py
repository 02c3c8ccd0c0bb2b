"""activities.extract.state: the incremental state of an ingest date, read back by later dates only."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from activities.common import LocalFolderStorage
from activities.extract.state import RunState, StateUpdate, read_prior_state, write_state


def test_when_states_of_several_dates_exist_then_a_run_reads_the_latest_strictly_before_its_date(
        tmp_path: Path) -> None:
    # Arrange
    storage = LocalFolderStorage(tmp_path)
    for day in ("2026-11-22", "2026-11-24", "2026-11-25"):
        write_state(storage, "raw", RunState(as_of=day), date.fromisoformat(day))

    # Act / Assert: a rerun of the 24th starts from the 22nd, as the first run of the 24th did
    assert read_prior_state(storage, "raw", date(2026, 11, 24)).as_of == "2026-11-22"
    assert read_prior_state(storage, "raw", date(2026, 11, 26)).as_of == "2026-11-25"
    assert read_prior_state(storage, "raw", date(2026, 11, 22)).as_of == ""


def test_when_a_run_is_merged_then_marks_rise_fetched_ids_get_its_date_and_gone_ids_leave(tmp_path: Path) -> None:
    # Arrange
    state = RunState(as_of="2026-11-23", entities={"albums": {"a1": "2026-11-01", "a2": "2026-11-20"},
                                                   "artists": {}, "tracks": {}})
    update = StateUpdate()
    update.set_mark("u1", "recently_played", played_at="2026-11-24T10:00:00.000Z")
    update.add_fetched("albums", ["a1", "a3"])
    update.gone["albums"] = {"a2"}

    # Act
    state.merge(StateUpdate.from_json(update.to_json()), date(2026, 11, 24))
    storage = LocalFolderStorage(tmp_path)
    write_state(storage, "raw", state, date(2026, 11, 24))
    back = read_prior_state(storage, "raw", date(2026, 11, 25))

    # Assert
    assert back.entities["albums"] == {"a1": "2026-11-24", "a3": "2026-11-24"}
    assert back.mark("u1", "recently_played") == {"played_at": "2026-11-24T10:00:00.000Z"}
