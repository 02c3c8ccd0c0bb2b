"""Copy and Lookup on the gallery-style corpus (tests/fixtures/adf_gallery_style), against the folder storage and
Azurite alike: Blob and ADLS Gen2 (AzureBlobFS) datasets, Json/DelimitedText/Parquet/Binary, wildcards, copyBehavior,
schema mapping, the local Synapse, ADF's documented outputs and limits, and refusals by name.

Learn pages: control-flow-lookup-activity (output shape, 5,000 rows, 4 MB), copy-activity-monitoring (counters),
connector-azure-blob-storage / connector-azure-data-lake-storage (storeSettings, copyBehavior), format-* pages,
copy-activity-schema-and-type-mapping (translator)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from activities.common.storage import AzureBlobStorage, LocalFolderStorage, Storage
from offline.adf_runner import LocalFactoryRunner, RunnerError, RunnerOptions, load_factory
from offline.adf_runner.datasets import UnsupportedDatasetError
from offline.run_local.azurite import ACCOUNT_KEY
from offline.synapse_duckdb import LocalServerlessPool
from tests.azurite import azurite_connection_string  # noqa: F401 - fixture
from tests.gallery_style import GALLERY, copy_gallery, edit_gallery

CONTAINERS = ("config", "landing", "curated", "exports", "archive")
ALBUMS_1 = b'id,name\r\n1,"Blue, Train"\r\n2,Kind of Blue\r\n'
ALBUMS_2 = b"id,name\n3,Giant Steps\n"
TRACKS = b"id,name\n10,So What\n"


class Lake:
    """The gallery factory wired to one storage kind, with the runner and its storage."""

    def __init__(self, tmp_path: Path, kind: str, connection_string: str | None, factory_dir: Path = GALLERY) -> None:
        if kind == "folder":
            root = tmp_path / "storage"
            root.mkdir(exist_ok=True)
            self.storage: Storage = LocalFolderStorage(root)
            overrides: dict[str, Any] = {"Ls_Lake": {"typeProperties.serviceEndpoint": root.as_uri()},
                                         "Ls_Adls_Lake": {"typeProperties.url": root.as_uri()}}
        else:
            assert connection_string is not None
            self.storage = AzureBlobStorage.from_connection_string(connection_string)
            endpoint = dict(p.split("=", 1) for p in connection_string.split(";") if "=" in p)["BlobEndpoint"]
            secure = {"type": "SecureString", "value": connection_string}  # as Learn's account-key example writes it
            overrides = {"Ls_Lake": {"typeProperties": {"connectionString": secure}},
                         "Ls_Adls_Lake": {"typeProperties": {"url": endpoint.rstrip("/"),
                                                             "accountKey": {"type": "SecureString", "value": ACCOUNT_KEY}}}}
            for container in CONTAINERS:  # one Azurite serves the session: start from empty containers
                for blob in list(self.storage.list_blobs(container)):
                    self.storage.delete(container, blob.path)
        self.pool = LocalServerlessPool(tmp_path / "sql", {"ds": "data"})
        factory = load_factory(factory_dir, overrides=overrides)
        self.runner = LocalFactoryRunner(factory, self.storage, tmp_path / "work", sql_opener=lambda ls, f: self.pool,
                                         options=RunnerOptions(), watched_containers=())

    def put(self, container: str, path: str, data: bytes) -> None:
        self.storage.write_bytes(container, path, data)

    def get(self, container: str, path: str) -> bytes:
        return self.storage.read_bytes(container, path)

    def run(self, pipeline: str, parameters: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        (run,) = self.runner.run_pipeline(pipeline, parameters).runs
        activities = {a.activityName: a for a in self.runner.monitor.activity_runs(run.runId)}
        return run, activities


@pytest.fixture(params=["folder", "azurite"])
def lake(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Lake]:
    connection = request.getfixturevalue("azurite_connection_string") if request.param == "azurite" else None
    yield Lake(tmp_path, request.param, connection)


def _seed_tables(lake: Lake) -> None:
    lake.put("config", "tables.json", json.dumps([{"table": "albums", "folder": "albums"},
                                                  {"table": "tracks", "folder": "tracks"}]).encode())
    lake.put("landing", "albums/part-1.csv", ALBUMS_1)
    lake.put("landing", "albums/2026/part-2.csv", ALBUMS_2)
    lake.put("landing", "albums/notes.txt", b"not a csv: the wildcard skips it")
    lake.put("landing", "tracks/part-1.csv", TRACKS)


def test_when_lookup_feeds_a_foreach_of_copies_then_each_table_lands_as_one_typed_parquet_file(lake: Lake) -> None:
    _seed_tables(lake)

    run, activities = lake.run("PL_Bulk_Copy_Tables")

    assert run.status == "Succeeded", run.message
    lookup = activities["Look up tables"].output
    assert (lookup["count"], lookup["value"]) == (2, [{"table": "albums", "folder": "albums"}, {"table": "tracks", "folder": "tracks"}])
    albums = pq.read_table(pa.BufferReader(lake.get("curated", "albums/albums.parquet")))
    assert albums.schema.field("id").type == pa.int64()  # the mapping's sink type Int64 converted the text
    # Files are read in name order (albums/2026/part-2.csv before albums/part-1.csv), as the service lists blobs.
    assert albums.to_pylist() == [{"id": 3, "title": "Giant Steps"}, {"id": 1, "title": "Blue, Train"}, {"id": 2, "title": "Kind of Blue"}]
    copies = [a for a in lake.runner.monitor.activity_runs(run.runId) if a.activityName == "Copy table to curated"]
    first = copies[0].output  # albums, the first item
    assert {k: first[k] for k in ("filesRead", "filesWritten", "rowsRead", "rowsCopied")} == {
        "filesRead": 2, "filesWritten": 1, "rowsRead": 3, "rowsCopied": 3}
    assert first["dataRead"] == len(ALBUMS_1) + len(ALBUMS_2)
    assert first["dataWritten"] == len(lake.get("curated", "albums/albums.parquet"))
    assert {"copyDuration", "throughput", "effectiveIntegrationRuntime", "executionDetails"} <= set(first)
    assert first["executionDetails"][0]["sink"]["type"] == "AzureBlobFS"
    assert activities["Count tables"].status == "Succeeded"


def test_when_parquet_is_exported_as_json_then_a_lookup_reads_its_first_row(lake: Lake) -> None:
    table = pa.table({"id": pa.array([7, 8], pa.int64()), "title": ["Naima", "Alabama"]})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    lake.put("curated", "albums/albums.parquet", sink.getvalue().to_pybytes())

    run, activities = lake.run("PL_Export_Json")

    assert run.status == "Succeeded", run.message
    assert json.loads(lake.get("exports", "tables/albums.json")) == [{"id": 7, "title": "Naima"}, {"id": 8, "title": "Alabama"}]
    assert activities["Read the export"].output == {"firstRow": {"id": 7, "title": "Naima"},
                                                    "effectiveIntegrationRuntime": "local (offline ADF runner)"}
    assert activities["Keep the first title"].status == "Succeeded"


def test_when_binary_files_are_archived_and_csv_merged_then_bytes_and_rows_arrive_as_configured(lake: Lake) -> None:
    _seed_tables(lake)
    lake.put("landing", "raw/2026/a.bin", b"\x00\x01\x02")
    lake.put("landing", "raw/b.txt", b"hello")

    run, activities = lake.run("PL_Archive_Landing")

    assert run.status == "Succeeded", run.message
    assert gzip.decompress(lake.get("archive", "raw/2026/a.bin")) == b"\x00\x01\x02"  # the sink dataset compresses
    archived = activities["Archive raw files"].output
    assert (archived["filesRead"], archived["filesWritten"], archived["dataRead"]) == (2, 2, 8)
    assert "rowsRead" not in archived and "rowsCopied" not in archived  # not applicable to a binary copy
    merged = lake.get("exports", "merged/all.csv").decode()
    assert merged.splitlines() == ['"id";"name"', '"3";"Giant Steps"', '"1";"Blue, Train"', '"2";"Kind of Blue"', '"10";"So What"']
    assert activities["Merge every CSV"].output["filesWritten"] == 1


def test_when_lookups_query_the_local_synapse_then_rows_come_back_as_adf_shows_them(tmp_path: Path) -> None:
    lake = Lake(tmp_path, "folder", None)
    folder = tmp_path / "sql" / "data" / "tables"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"name": ["albums", "tracks"], "n": [1, 2]}), folder / "part-0.parquet")
    lake.pool.execute_script("CREATE VIEW dbo.tables AS SELECT r.name, r.n FROM OPENROWSET(BULK 'tables/*.parquet', "
                             "DATA_SOURCE = 'ds', FORMAT = 'PARQUET') WITH (name varchar(50), n bigint) AS r")

    run, activities = lake.run("PL_Lookup_Synapse")

    assert run.status == "Succeeded", run.message
    every = activities["Look up every table"].output
    assert (every["count"], every["value"]) == (2, [{"name": "albums", "n": 1}, {"name": "tracks", "n": 2}])
    assert activities["Look up the largest"].output["firstRow"] == {"name": "tracks"}


# --- Lookup limits (Learn, Lookup activity: "up to 5000 rows ... the first 5000 rows will be returned"; "up to 4 MB
# in size, activity will fail if the size exceeds the limit") ------------------------------------------------------


@pytest.fixture()
def folder_lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path, "folder", None)


def test_when_a_lookup_finds_more_than_5000_rows_then_the_first_5000_are_returned(folder_lake: Lake) -> None:
    folder_lake.put("config", "many.json", "".join(json.dumps({"i": i}) + "\n" for i in range(5003)).encode())

    run, activities = folder_lake.run("PL_Lookup_File", {"fileName": "many.json"})

    output = activities["Look up the file"].output
    assert run.status == "Succeeded", run.message
    assert output["count"] == 5000 and output["value"][-1] == {"i": 4999}


def test_when_a_lookup_result_exceeds_4_mb_then_the_activity_fails_naming_the_limit(folder_lake: Lake) -> None:
    wide = "x" * 1000
    folder_lake.put("config", "wide.json", "".join(json.dumps({"i": i, "text": wide}) + "\n" for i in range(4500)).encode())

    run, activities = folder_lake.run("PL_Lookup_File", {"fileName": "wide.json"})

    failed = activities["Look up the file"]
    assert (run.status, failed.status) == ("Failed", "Failed")
    assert failed.error is not None and failed.error.errorCode == "2100"
    assert "exceeds the limitation 4194304" in failed.error.message


def test_when_first_row_only_finds_no_row_then_the_output_has_no_first_row(folder_lake: Lake) -> None:
    folder_lake.put("config", "empty.json", b"[]")
    folder_lake.put("config", "two.json", b'{"a": 1}{"a": 2}')

    _, empty = folder_lake.run("PL_Lookup_File", {"fileName": "empty.json", "firstRowOnly": True})
    _, two = folder_lake.run("PL_Lookup_File", {"fileName": "two.json", "firstRowOnly": True})

    assert "firstRow" not in empty["Look up the file"].output
    assert two["Look up the file"].output["firstRow"] == {"a": 1}


def test_when_a_source_file_is_missing_then_the_lookup_fails_with_the_missing_blob(folder_lake: Lake) -> None:
    run, activities = folder_lake.run("PL_Lookup_File", {"fileName": "nope.json"})

    error = activities["Look up the file"].error
    assert run.status == "Failed" and error is not None
    assert "required Blob is missing: config/nope.json" in error.message and "\n" not in error.message


# --- refusals by name, before anything runs -----------------------------------------------------------------


def _edited(tmp_path: Path, relative: str, old: str, new: str) -> Path:
    factory = copy_gallery(tmp_path)
    edit_gallery(factory, relative, old, new)
    return factory


@pytest.mark.parametrize(("relative", "old", "new", "named"), [
    ("pipeline/PL_Archive_Landing.json", '"enableStaging": false', '"enableStaging": true', "enableStaging (staging)"),
    ("pipeline/PL_Archive_Landing.json", '"recursive": true', '"fileListPath": "list.txt"',
     "source.storeSettings.fileListPath is not supported"),
    ("pipeline/PL_Archive_Landing.json", '"copyBehavior": "PreserveHierarchy"', '"copyBehavior": "KeepAll"',
     "copyBehavior 'KeepAll'"),
    ("pipeline/PL_Export_Json.json", '"filePattern": "arrayOfObjects"', '"filePattern": "arrayOfObjects", "maxRowsPerFile": 10',
     "sink.formatSettings.maxRowsPerFile"),
    ("pipeline/PL_Lookup_File.json", '"type": "JsonSource"', '"type": "ParquetSource"', "needs `JsonSource`"),
    ("dataset/BinaryArchive.json", '"type": "Binary"', '"type": "Avro"', "type `Avro` is not supported"),
    ("pipeline/PL_Bulk_Copy_Tables.json", '"type": "Int64"', '"type": "Byte[]"', "sink.type `Byte[]`"),
])
def test_when_a_setting_has_no_local_stand_in_then_the_pipeline_is_refused_naming_it(
    tmp_path: Path, relative: str, old: str, new: str, named: str
) -> None:
    lake = Lake(tmp_path, "folder", None, _edited(tmp_path, relative, old, new))
    pipeline = Path(relative).stem if relative.startswith("pipeline") else "PL_Archive_Landing"

    with pytest.raises(RunnerError, match=named.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("]", r"\]")):
        lake.runner.run_pipeline(pipeline, {"fileName": "x.json"} if pipeline == "PL_Lookup_File" else None)
    assert lake.runner.monitor.pipeline_runs() == []


def test_when_a_copy_reads_a_sql_table_then_the_dataset_type_is_refused_by_name(folder_lake: Lake) -> None:
    with pytest.raises(UnsupportedDatasetError, match="dataset `SalesTable`.*type `AzureSqlTable`"):
        folder_lake.runner.run_pipeline("PL_Copy_Sales")


def test_when_landed_parquet_and_csv_are_looked_up_then_values_keep_each_format_s_types(lake: Lake) -> None:
    _seed_tables(lake)
    copied, _ = lake.run("PL_Bulk_Copy_Tables")
    assert copied.status == "Succeeded", copied.message

    run, activities = lake.run("PL_Check_Landed")

    assert run.status == "Succeeded", run.message
    table = activities["Read landed table"].output
    assert table["count"] == 3 and table["value"][0] == {"id": 3, "title": "Giant Steps"}  # Parquet keeps int64
    assert activities["Read first landing row"].output["firstRow"] == {"id": "10", "name": "So What"}  # text is text
    assert activities["Stop when empty"].status == "Succeeded" and "Fail on an empty table" not in activities


def test_when_the_looked_up_table_is_empty_then_the_fail_activity_fails_the_run(lake: Lake) -> None:
    _seed_tables(lake)
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"id": pa.array([], pa.int64())}), sink)
    lake.put("curated", "empty/empty.parquet", sink.getvalue().to_pybytes())

    run, activities = lake.run("PL_Check_Landed", {"table": "empty"})

    assert run.status == "Failed" and "table empty is empty" in run.message
    assert activities["Read landed table"].output["count"] == 0
