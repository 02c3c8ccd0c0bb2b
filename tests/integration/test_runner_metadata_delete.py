"""GetMetadata and Delete in the local runner, on the gallery-style factory (tests/fixtures/adf_gallery_style), against
both local stand-ins of Blob Storage / ADLS Gen2: a folder and Azurite (started by the session fixture).

Rules: Learn "Get Metadata activity" (https://learn.microsoft.com/azure/data-factory/control-flow-get-metadata-activity:
the field list, which fields apply to files and to folders, `exists`, no wildcards, `created` not supported for Blob
and ADLS Gen2, structure not for JSON/Binary) and Learn "Delete Activity in Azure Data Factory"
(https://learn.microsoft.com/azure/data-factory/delete-activity: recursive default false, wildcards, the output and the
log file's columns Name, Category, Status, Error)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from activities.common.context import SecureString
from activities.common.storage import AzureBlobStorage, LocalFolderStorage, Storage
from offline.adf_runner import LocalFactoryRunner, RunnerOptions, load_factory
from offline.adf_runner.datasets import UnsupportedDatasetError
from offline.adf_runner.errors import ActivityDefinitionError, UnsupportedActivityFeatureError
from offline.adf_runner.monitor import ActivityRun, PipelineRun
from offline.adf_runner.services import StorageOpener, default_storage_opener
from offline.synapse_duckdb import LocalServerlessPool
from tests.azurite import azurite_connection_string, unique_container  # noqa: F401 - fixture
from tests.gallery_style import GALLERY, copy_gallery, edit_gallery

LANDED = {
    "incoming/plays-1.csv": b"track_id,ms_played\r\nt1,1000\r\nt2,2000\r\n",
    "incoming/plays-2.csv": b"track_id,ms_played,context\r\nt3,3000,album\r\n",
    "incoming/archive/plays-0.csv": b"track_id,ms_played\r\nt0,10\r\n",
    "incoming/notes.txt": b"landed by the export job\n",
}


@dataclass
class Lake:
    """One stand-in account: the storage the tests arrange and inspect, and the linked-service overrides that point the
    factory's Ls_Lake (Blob) and Ls_Lake_Gen2 (ADLS Gen2) at it."""

    storage: Storage
    overrides: dict[str, dict[str, Any]]
    landing: str
    logs: str
    curated: str
    opener: StorageOpener = default_storage_opener


@pytest.fixture(params=["folder", "azurite"])
def lake(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Lake]:
    if request.param == "folder":
        root = tmp_path / "storage"
        root.mkdir()
        overrides = {"Ls_Lake": {"typeProperties.serviceEndpoint": root.as_uri()},
                     "Ls_Lake_Gen2": {"typeProperties.url": root.as_uri()}}
        yield Lake(LocalFolderStorage(root), overrides, "landing", "logs", "curated")
        return
    connection = request.getfixturevalue("azurite_connection_string")
    endpoint = dict(part.split("=", 1) for part in connection.split(";") if "=" in part)["BlobEndpoint"].rstrip("/")
    storage = AzureBlobStorage.from_connection_string(SecureString(connection), retry_total=1)
    # Both linked services reach Azurite's one account (Gen2 through its blob endpoint, datasets/stores.py); the
    # committed JSON holds no connection string to override, so the opener hands the runner Azurite.
    yield Lake(storage, {"Ls_Lake": {"typeProperties.serviceEndpoint": endpoint}}, unique_container("landing"),
               unique_container("logs"), unique_container("curated"), lambda linked_service, factory: storage)


def _runner(tmp_path: Path, lake: Lake, factory_dir: Path = GALLERY) -> LocalFactoryRunner:
    factory = load_factory(factory_dir, overrides=lake.overrides)
    return LocalFactoryRunner(factory, lake.storage, tmp_path / "work", storage_opener=lake.opener, options=RunnerOptions(),
                              watched_containers=())


def _land(lake: Lake) -> None:
    for path, data in LANDED.items():
        lake.storage.write_bytes(lake.landing, path, data)


def _tidy(runner: LocalFactoryRunner, lake: Lake) -> PipelineRun:
    parameters = {"landingContainer": lake.landing, "logContainer": lake.logs}
    (run,) = runner.run_pipeline("PL_Tidy_Landing", parameters).runs
    return run


def _by_name(runner: LocalFactoryRunner, run: PipelineRun, name: str) -> list[ActivityRun]:
    return [a for a in runner.monitor.activity_runs(run.runId) if a.activityName == name]


def _md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode("ascii")  # noqa: S324 - what Content-MD5 holds


def test_when_files_landed_then_get_metadata_lists_and_describes_them_and_delete_removes_the_csv_files(
    tmp_path: Path, lake: Lake
) -> None:
    # Arrange
    _land(lake)
    before = datetime.now(UTC).replace(microsecond=0)
    runner = _runner(tmp_path, lake)

    # Act
    run = _tidy(runner, lake)

    # Assert
    assert run.status == "Succeeded", run.message
    (folder,) = _by_name(runner, run, "Check landing folder")
    assert folder.output == {
        "exists": True, "itemName": "incoming", "itemType": "Folder",
        "childItems": [{"name": "archive", "type": "Folder"}, {"name": "notes.txt", "type": "File"},
                       {"name": "plays-1.csv", "type": "File"}, {"name": "plays-2.csv", "type": "File"}],
    }
    described = {a.output["itemName"]: a.output for a in _by_name(runner, run, "Describe landed file")}
    assert set(described) == {"notes.txt", "plays-1.csv", "plays-2.csv"}
    second = described["plays-2.csv"]
    assert list(second) == ["itemName", "itemType", "size", "lastModified", "contentMD5", "structure", "columnCount"]
    assert second["itemType"] == "File" and second["size"] == len(LANDED["incoming/plays-2.csv"])
    assert second["contentMD5"] == _md5(LANDED["incoming/plays-2.csv"])
    assert second["structure"] == [{"name": "track_id", "type": "String"}, {"name": "ms_played", "type": "String"},
                                   {"name": "context", "type": "String"}]
    assert second["columnCount"] == 3
    assert datetime.fromisoformat(second["lastModified"].replace("Z", "+00:00")) >= before.replace(second=0)
    assert second["lastModified"].endswith("Z")

    (deleted,) = _by_name(runner, run, "Delete landed CSV files")
    output = deleted.output
    assert {k: output[k] for k in ("datasetName", "type", "container", "folderPath", "recursive", "isWildcardUsed",
                                   "maxConcurrentConnections", "filesDeleted")} == {
        "datasetName": "LandingFiles", "type": "DelimitedText", "container": lake.landing, "folderPath": "incoming",
        "recursive": True, "isWildcardUsed": True, "maxConcurrentConnections": 4, "filesDeleted": 3}
    assert output["logPath"].endswith(f"{lake.logs}/delete-logs/{deleted.activityRunId}")
    remaining = [b.path for b in lake.storage.list_blobs(lake.landing)]
    assert remaining == ["incoming/notes.txt"]

    log_blob = f"delete-logs/{deleted.activityRunId}/{deleted.activityRunId}.csv"
    rows = list(csv.reader(io.StringIO(lake.storage.read_bytes(lake.logs, log_blob).decode("utf-8"))))
    assert rows[0] == ["Name", "Category", "Status", "Error"]
    assert sorted(rows[1:]) == [[path, "File", "Deleted", ""] for path in
                                ("incoming/archive/plays-0.csv", "incoming/plays-1.csv", "incoming/plays-2.csv")]
    (left,) = _by_name(runner, run, "Check what is left")
    assert left.output == {"exists": True, "childItems": [{"name": "notes.txt", "type": "File"}]}


def test_when_nothing_landed_then_exists_is_false_and_delete_fails_as_adf_does(tmp_path: Path, lake: Lake) -> None:
    runner = _runner(tmp_path, lake)

    run = _tidy(runner, lake)

    (folder,) = _by_name(runner, run, "Check landing folder")
    assert folder.status == "Succeeded" and folder.output == {"exists": False}
    assert _by_name(runner, run, "Describe landed file") == []  # the If took its (empty) false branch
    (deleted,) = _by_name(runner, run, "Delete landed CSV files")
    assert deleted.status == "Failed" and deleted.error is not None
    assert deleted.error.errorCode == "UserErrorSourceBlobNotExist"
    assert "the required Blob is missing" in deleted.error.message
    assert run.status == "Failed"


def test_when_delete_is_not_recursive_then_only_the_folders_own_files_go(tmp_path: Path, lake: Lake) -> None:
    _land(lake)
    factory = copy_gallery(tmp_path)
    edit_gallery(factory, "pipeline/PL_Tidy_Landing.json", '"recursive": true, "wildcardFileName": "*.csv", "maxConcurrentConnections": 4',
          '"wildcardFileName": "*.csv"')  # Learn: recursive defaults to false, maxConcurrentConnections to 1

    run = _tidy(_runner(tmp_path, lake, factory), lake)

    assert run.status == "Succeeded", run.message
    assert [b.path for b in lake.storage.list_blobs(lake.landing)] == ["incoming/archive/plays-0.csv", "incoming/notes.txt"]


def test_when_a_parquet_file_on_adls_gen2_is_inspected_then_structure_has_interim_types(tmp_path: Path, lake: Lake) -> None:
    sink = io.BytesIO()
    pq.write_table(pa.table({"track_id": ["t1"], "ms_played": pa.array([1000], pa.int64()), "explicit": [False],
                             "energy": [0.5], "played_at": pa.array([datetime(2026, 12, 1, tzinfo=UTC)], pa.timestamp("ms"))}),
                   sink)
    lake.storage.write_bytes(lake.curated, "tracks/part-00000.parquet", sink.getvalue())
    runner = _runner(tmp_path, lake)

    (run,) = runner.run_pipeline("PL_Inspect_Curated_File", {"fileSystem": lake.curated}).runs

    assert run.status == "Succeeded", run.message
    (inspected,) = _by_name(runner, run, "Inspect curated file")
    assert inspected.output["structure"] == [
        {"name": "track_id", "type": "String"}, {"name": "ms_played", "type": "Int64"}, {"name": "explicit", "type": "Boolean"},
        {"name": "energy", "type": "Double"}, {"name": "played_at", "type": "DateTime"}]
    assert (inspected.output["columnCount"], inspected.output["itemType"], inspected.output["size"]) == (
        5, "File", len(sink.getvalue()))

    (missing,) = runner.run_pipeline("PL_Inspect_Curated_File", {"fileSystem": lake.curated, "file": "part-9.parquet"}).runs
    assert _by_name(runner, missing, "Inspect curated file")[0].output == {"exists": False}


@pytest.mark.parametrize(("old", "new", "code", "message"), [
    ('"fieldList": ["exists", "itemName"', '"fieldList": ["itemName"', "UserErrorSourceBlobNotExist", "The required Blob is missing"),
    ('"fieldList": ["exists", "itemName"', '"fieldList": ["created", "itemName"', "InvalidActivityDefinition",
     "`created` is not supported for ADLS Gen2"),
    ('"fieldList": ["exists", "itemName"', '"fieldList": ["exists", "owner"', "InvalidActivityDefinition",
     "'owner' is not a Get Metadata field"),
    ('"recursive": true, "enablePartitionDiscovery"', '"wildcardFileName": "*.parquet", "enablePartitionDiscovery"',
     "InvalidActivityDefinition", "Wildcard filter on folders/files is not supported"),
])
def test_when_get_metadata_asks_what_adf_does_not_give_then_the_activity_fails_naming_it(
    tmp_path: Path, lake: Lake, old: str, new: str, code: str, message: str
) -> None:
    factory = copy_gallery(tmp_path)
    edit_gallery(factory, "pipeline/PL_Inspect_Curated_File.json", old, new)
    runner = _runner(tmp_path, lake, factory)

    (run,) = runner.run_pipeline("PL_Inspect_Curated_File", {"fileSystem": lake.curated, "file": "absent.parquet"}).runs

    (inspected,) = _by_name(runner, run, "Inspect curated file")
    assert inspected.status == "Failed" and inspected.error is not None
    assert inspected.error.errorCode == code
    assert message in inspected.error.message


TIDY, INSPECT = "PL_Tidy_Landing", "PL_Inspect_Curated_File"


@pytest.mark.parametrize(("pipeline", "old", "new", "error", "message"), [
    (TIDY, '"path": {"value": "@{pipeline().parameters.logContainer}/delete-logs", "type": "Expression"}', '"logLevel": "Info"',
     UnsupportedActivityFeatureError, "logging without logStorageSettings.path"),
    (TIDY, '"maxConcurrentConnections": 4', '"maxConcurrentConnections": 0', ActivityDefinitionError, "at least 1"),
    (TIDY, '"linkedServiceName": {"referenceName": "Ls_Lake", "type": "LinkedServiceReference"},\n            "path"',
     '"linkedServiceName": {"referenceName": "Ls_Vault", "type": "LinkedServiceReference"},\n            "path"',
     ActivityDefinitionError, "`Ls_Vault` is of type `AzureKeyVault`"),
    (TIDY, '"maxConcurrentConnections": 4, "enablePartitionDiscovery": false', '"maxConcurrentConnections": 4, '
     '"enablePartitionDiscovery": true', UnsupportedDatasetError, "partition discovery is not supported"),
    (INSPECT, '"type": "AzureBlobFSReadSettings"', '"type": "AzureBlobStorageReadSettings"', UnsupportedDatasetError,
     "needs `AzureBlobFSReadSettings`"),
    (INSPECT, '"type": "ParquetReadSettings"', '"type": "ParquetReadSettings", "skipLineCount": 1', UnsupportedDatasetError,
     "formatSettings.skipLineCount is not supported"),
])
def test_when_settings_cannot_run_then_validation_names_them_before_anything_runs(
    tmp_path: Path, pipeline: str, old: str, new: str, error: type[Exception], message: str
) -> None:
    factory = copy_gallery(tmp_path)
    edit_gallery(factory, f"pipeline/{pipeline}.json", old, new)
    root = tmp_path / "storage"
    lake = Lake(LocalFolderStorage(root), {"Ls_Lake": {"typeProperties.serviceEndpoint": root.as_uri()}}, "landing", "logs", "c")
    runner = _runner(tmp_path, lake, factory)

    with pytest.raises(error, match=message):
        runner.run_pipeline(pipeline)
    assert runner.monitor.activity_runs() == []


def test_when_a_modified_window_is_set_then_child_items_hold_only_the_files_within_it(tmp_path: Path, lake: Lake) -> None:
    _land(lake)
    factory = copy_gallery(tmp_path)
    edit_gallery(factory, "pipeline/PL_Tidy_Landing.json",
          '"fieldList": ["exists", "itemName", "itemType", "childItems"],\n          "storeSettings": {"type": '
          '"AzureBlobStorageReadSettings", ',
          '"fieldList": ["exists", "itemName", "itemType", "childItems"],\n          "storeSettings": {"type": '
          '"AzureBlobStorageReadSettings", "modifiedDatetimeStart": "2000-01-01T00:00:00Z", ')
    runner = _runner(tmp_path, lake, factory)

    run = _tidy(runner, lake)

    (folder,) = _by_name(runner, run, "Check landing folder")
    # Learn: with the filter, childItems holds the files modified within the window, not folders.
    assert folder.output["childItems"] == [{"name": "notes.txt", "type": "File"}, {"name": "plays-1.csv", "type": "File"},
                                           {"name": "plays-2.csv", "type": "File"}]


def test_when_no_file_is_older_than_the_window_end_then_delete_removes_nothing_and_logs_only_the_header(
    tmp_path: Path, lake: Lake
) -> None:
    _land(lake)
    factory = copy_gallery(tmp_path)
    edit_gallery(factory, "pipeline/PL_Tidy_Landing.json", '"wildcardFileName": "*.csv",',
          '"wildcardFileName": "*.csv", "modifiedDatetimeEnd": "2000-01-01T00:00:00Z",')
    runner = _runner(tmp_path, lake, factory)

    run = _tidy(runner, lake)

    assert run.status == "Succeeded", run.message
    (deleted,) = _by_name(runner, run, "Delete landed CSV files")
    assert deleted.output["filesDeleted"] == 0
    assert len(list(lake.storage.list_blobs(lake.landing))) == len(LANDED)
    log_blob = f"delete-logs/{deleted.activityRunId}/{deleted.activityRunId}.csv"
    assert lake.storage.read_bytes(lake.logs, log_blob) == b"Name,Category,Status,Error\r\n"


def _synapse(tmp_path: Path, factory_dir: Path = GALLERY) -> tuple[LocalFactoryRunner, LocalServerlessPool]:
    folder = tmp_path / "sql" / "data" / "tables"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"name": ["albums"], "n": pa.array([1], pa.int64())}), folder / "part-0.parquet")
    pool = LocalServerlessPool(tmp_path / "sql", {"ds": "data"})
    root = tmp_path / "storage"
    factory = load_factory(factory_dir, overrides={"Ls_Lake": {"typeProperties.serviceEndpoint": root.as_uri()}})
    runner = LocalFactoryRunner(factory, LocalFolderStorage(root), tmp_path / "work", sql_opener=lambda ls, f: pool,
                                options=RunnerOptions(retry_interval_cap_seconds=0), watched_containers=())
    return runner, pool


def test_when_a_synapse_table_is_described_then_structure_and_exists_come_from_the_local_synapse(tmp_path: Path) -> None:
    runner, pool = _synapse(tmp_path)
    pool.execute_script("CREATE VIEW dbo.tables AS SELECT r.name, r.n FROM OPENROWSET(BULK 'tables/*.parquet', "
                        "DATA_SOURCE = 'ds', FORMAT = 'PARQUET') WITH (name varchar(50), n bigint) AS r")

    (run,) = runner.run_pipeline("PL_Check_Serving_Table").runs
    (wrong,) = runner.run_pipeline("PL_Check_Serving_Table", {"expectedColumns": 3}).runs

    assert run.status == "Succeeded", run.message
    (described,) = _by_name(runner, run, "Describe serving table")
    assert described.output == {"exists": True, "structure": [{"name": "name", "type": "String"},
                                                              {"name": "n", "type": "Int64"}], "columnCount": 2}
    assert wrong.status == "Failed" and "instead of 3 columns" in wrong.message


def test_when_the_synapse_table_is_missing_then_exists_is_false_or_the_activity_fails_naming_it(tmp_path: Path) -> None:
    factory = copy_gallery(tmp_path)
    runner, _ = _synapse(tmp_path, factory)

    (run,) = runner.run_pipeline("PL_Check_Serving_Table").runs

    assert _by_name(runner, run, "Describe serving table")[0].output == {"exists": False}
    assert run.status == "Failed"  # the If's false branch: the Fail activity

    edit_gallery(factory, "pipeline/PL_Check_Serving_Table.json", '"fieldList": ["exists", ', '"fieldList": [')
    runner, _ = _synapse(tmp_path / "without-exists", factory)
    (run,) = runner.run_pipeline("PL_Check_Serving_Table").runs
    error = _by_name(runner, run, "Describe serving table")[-1].error
    assert error is not None and error.errorCode == "SqlOperationFailed"
    assert "Invalid object name 'dbo.tables'" in error.message

    edit_gallery(factory, "pipeline/PL_Check_Serving_Table.json", '"fieldList": ["structure", "columnCount"]',
                 '"fieldList": ["structure", "columnCount", "size"]')
    runner, _ = _synapse(tmp_path / "with-size", factory)
    (run,) = runner.run_pipeline("PL_Check_Serving_Table").runs
    error = _by_name(runner, run, "Describe serving table")[-1].error
    assert error is not None and "metadata `size` does not apply to a table" in error.message
