"""The load activities' pure parts: configuration, the snapshot marker, the lineage document, the trigger's scope."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from activities.common.context import load_context
from activities.common.errors import ActivityConfigError
from activities.load.config import LoadConfig
from activities.load.lineage import build_lineage
from activities.load.storage_io import marker_tables
from factory_deploy.env_config import factory_overrides, load_config

PROPERTIES = {
    "snapshotDate": "2026-11-24", "runId": "load-1", "snapshotMarker": "curated/_snapshots/snapshot_date=2026-11-24/_SUCCESS",
    "stagingFolder": "_staging/run_id=load-1", "servingContainer": "serving", "storageLinkedService": "Ls_Blob_Storage",
}


def _config(tmp_path: Path, **changes: str) -> LoadConfig:
    activity = {"name": "Check serving schemas", "type": "Custom",
                "typeProperties": {"command": "python -m activities.load.check", "extendedProperties": {**PROPERTIES, **changes}}}
    (tmp_path / "activity.json").write_text(json.dumps(activity))
    return LoadConfig.from_context(load_context(tmp_path))


def test_when_the_extended_properties_are_complete_then_the_config_names_marker_and_staging(tmp_path: Path) -> None:
    config = _config(tmp_path)

    assert (config.marker_container, config.marker_path) == ("curated", "_snapshots/snapshot_date=2026-11-24/_SUCCESS")
    assert config.staging_blob == "serving/_staging/run_id=load-1"
    assert (config.view_schema, config.view_data_source) == ("spotify", "spotify_serving")


def test_when_the_snapshot_date_is_not_a_date_then_the_error_says_where_it_comes_from(tmp_path: Path) -> None:
    with pytest.raises(ActivityConfigError, match=r"`snapshotDate` is 'curated/_snapshots'; it must be YYYY-MM-DD"):
        _config(tmp_path, snapshotDate="curated/_snapshots")


def test_when_the_marker_lists_tables_as_a_mapping_or_a_list_then_both_are_read() -> None:
    assert marker_tables({"tables": {"tracks": {"rows": 3}}}) == {"tracks": {"rows": 3}}
    assert marker_tables({"tables": [{"table": "tracks", "rows": 3}, "albums"]}) == {
        "tracks": {"table": "tracks", "rows": 3}, "albums": {}}
    assert marker_tables({}) == {}


def test_when_building_lineage_then_inputs_and_outputs_carry_rows_from_the_data_flow_and_the_check(tmp_path: Path) -> None:
    config = _config(tmp_path)
    marker = {"run_id": "transform-1", "manifest": "raw/m.json", "tables": {"track_artists": {"rows": 5}}}
    metrics = {"ServingTrackArtists": {"rowsWritten": 4, "sources": {"CuratedTrackArtists": {"rowsRead": 5}}}}
    published = {"track_artists": {"rows": 4, "files": ["serving/track_artists/snapshot_date=2026-11-24/part-00000.parquet"],
                                   "schema": "serving/_schemas/track_artists/2026-11-24.json", "classification": "new"}}

    document = build_lineage(
        config, pipeline={"name": "PL_Load_Spotify", "run_id": "load-1"}, marker=marker,
        input_files={"track_artists": ["curated/track_artists/snapshot_date=2026-11-24/part-00000.parquet"]},
        metrics=metrics, published=published,
        views=[{"table": "track_artists", "view": "spotify.track_artists"}], recorded_at=datetime(2026, 11, 24, tzinfo=UTC),
    )

    assert document["upstream"] == {"snapshot_marker": config.marker_blob, "run_id": "transform-1", "manifest": "raw/m.json"}
    assert document["inputs"][0]["rows_read"] == 5 and document["inputs"][0]["rows_in_marker"] == 5
    assert document["outputs"][0] | {} == {
        "table": "track_artists", "location": "serving/track_artists/snapshot_date=2026-11-24/",
        "files": published["track_artists"]["files"], "rows": 4, "rows_written": 4,
        "schema": "serving/_schemas/track_artists/2026-11-24.json", "classification": "new", "view": "spotify.track_artists"}
    assert (document["views"], document["recorded_at"]) == (["spotify.track_artists"], "2026-11-24T00:00:00Z")


def test_when_the_prod_config_is_applied_then_the_curated_trigger_watches_the_prod_account() -> None:
    assert "stspotifyprod" in factory_overrides(load_config("prod"))["TR_Curated_Landed"]["typeProperties.scope"]
