"""File datasets (offline/adf_runner/datasets): location, file selection and formats, each rule with its Learn page.

Pages: connector-azure-blob-storage / connector-azure-data-lake-storage ("Dataset properties", "Copy activity
properties", "Folder and file filter examples"), format-json, format-delimited-text, format-parquet."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from activities.common.storage import LocalFolderStorage
from offline.adf_runner.datasets import (
    DatasetAccessError,
    FileLocation,
    ReadSettings,
    Rows,
    UnsupportedDatasetError,
    as_blob_linked_service,
    check_file_dataset,
    child_items,
    file_format,
    resolve_file_dataset,
    select_files,
)
from offline.adf_runner.expressions import EvaluationState
from offline.adf_runner.factory import Dataset, Factory, LinkedService, Reference


def _factory(*datasets: Dataset, lake_type: str = "AzureBlobStorage") -> Factory:
    lake = LinkedService("Ls_Lake", lake_type, {"serviceEndpoint": "file:///tmp"})
    sql = LinkedService("Ls_Sql", "AzureSqlDatabase", {})
    return Factory(Path("factory"), {}, {d.name: d for d in datasets}, {"Ls_Lake": lake, "Ls_Sql": sql}, {}, {})


def _dataset(kind: str = "Json", location: dict | None = None, parameters: dict | None = None, **properties) -> Dataset:
    location = location or {"type": "AzureBlobStorageLocation", "container": "lake", "folderPath": "in"}
    return Dataset("Ds_Files", kind, Reference("Ls_Lake", "LinkedServiceReference"), parameters or {},
                   {"location": location, **properties})


# --- location ---------------------------------------------------------------------------------------------


def test_when_a_dataset_has_parameters_then_its_location_is_evaluated_with_them() -> None:
    dataset = _dataset(location={
        "type": "AzureBlobFSLocation", "fileSystem": "lake",
        "folderPath": {"value": "@concat('in/', dataset().day)", "type": "Expression"},
        "fileName": "@{dataset().name}.json",
    }, parameters={"day": {"type": "string"}, "name": {"type": "string", "defaultValue": "rows"}})

    resolved = resolve_file_dataset(dataset, {"day": "2026-11-20"}, EvaluationState())

    assert resolved.location == FileLocation("Ls_Lake", "AzureBlobFSLocation", "lake", "in/2026-11-20", "rows.json")


def test_when_a_dataset_parameter_has_no_value_then_the_run_names_it() -> None:
    dataset = _dataset(parameters={"day": {"type": "string"}})

    with pytest.raises(DatasetAccessError, match="parameter `day` has no value"):
        resolve_file_dataset(dataset, {}, EvaluationState())
    with pytest.raises(DatasetAccessError, match="no parameter `dya`"):
        resolve_file_dataset(dataset, {"dya": "x"}, EvaluationState())


@pytest.mark.parametrize(("dataset", "lake_type", "named"), [
    (_dataset("AzureSqlTable"), "AzureBlobStorage", "type `AzureSqlTable`"),
    (_dataset("Avro"), "AzureBlobStorage", "type `Avro`"),
    (_dataset(location={"type": "AmazonS3Location", "bucketName": "b"}), "AzureBlobStorage", "location type `AmazonS3Location`"),
    (_dataset(location={"type": "AzureBlobFSLocation", "fileSystem": "f"}), "AzureBlobStorage", "`AzureBlobStorage`"),
    (_dataset(), "AzureFileStorage", "`AzureFileStorage`"),
])
def test_when_a_dataset_type_has_no_stand_in_then_it_is_refused_by_name(dataset: Dataset, lake_type: str, named: str) -> None:
    with pytest.raises(UnsupportedDatasetError, match=named):
        check_file_dataset(dataset, _factory(dataset, lake_type=lake_type), "Copy rows", "PL_Copy")


def test_when_an_adls_linked_service_points_at_azurite_or_a_folder_then_it_opens_as_the_blob_endpoint() -> None:
    azurite = LinkedService("Ls_Adls", "AzureBlobFS", {"url": "http://127.0.0.1:10000/devstoreaccount1",
                                                       "accountKey": {"type": "SecureString", "value": "a2V5"}})
    cloud = LinkedService("Ls_Adls", "AzureBlobFS", {"url": "https://stlake.dfs.core.windows.net/"})

    assert as_blob_linked_service(azurite).type_properties == {"connectionString": (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
        "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;")}
    assert as_blob_linked_service(cloud).type_properties == {"serviceEndpoint": "https://stlake.blob.core.windows.net/"}
    assert as_blob_linked_service(LinkedService("L", "AzureBlobFS", {"url": "file:///x"})).type == "AzureBlobStorage"


# --- file selection (Learn: "Folder and file filter examples") ---------------------------------------------


@pytest.fixture()
def lake(tmp_path: Path) -> LocalFolderStorage:
    storage = LocalFolderStorage(tmp_path)
    for path in ("FolderA/File1.csv", "FolderA/File2.json", "FolderA/Subfolder1/File3.csv", "FolderA/Subfolder1/File4.json",
                 "FolderA/Subfolder1/File5.csv", "AnotherFolderB/File6.csv", "Folder*/Odd.csv"):
        storage.write_bytes("container", path, b"x")
    return storage


def _selected(storage: LocalFolderStorage, location: FileLocation, **settings) -> list[str]:
    return [f.path for f in select_files(storage, location, ReadSettings(**settings))]


@pytest.mark.parametrize(("file_pattern", "recursive", "expected"), [
    (None, False, ["FolderA/File1.csv", "FolderA/File2.json"]),
    (None, True, ["FolderA/File1.csv", "FolderA/File2.json", "FolderA/Subfolder1/File3.csv",
                  "FolderA/Subfolder1/File4.json", "FolderA/Subfolder1/File5.csv"]),
    ("*.csv", False, ["FolderA/File1.csv"]),
    ("*.csv", True, ["FolderA/File1.csv", "FolderA/Subfolder1/File3.csv", "FolderA/Subfolder1/File5.csv"]),
])
def test_when_a_wildcard_folder_and_file_filter_then_the_files_are_those_of_learns_table(
    lake: LocalFolderStorage, file_pattern: str | None, recursive: bool, expected: list[str]
) -> None:
    location = FileLocation("Ls_Lake", "AzureBlobStorageLocation", "container")

    chosen = _selected(lake, location, wildcard_folder="Folder?", wildcard_file=file_pattern, recursive=recursive)

    assert [p for p in chosen if not p.startswith("Folder*")] == expected  # `?` is zero or one character


def test_when_a_wildcard_is_escaped_then_it_matches_itself(lake: LocalFolderStorage) -> None:
    location = FileLocation("Ls_Lake", "AzureBlobStorageLocation", "container")

    assert _selected(lake, location, wildcard_folder="Folder^*", wildcard_file="*") == ["Folder*/Odd.csv"]


def test_when_a_folder_is_read_then_recursive_decides_on_subfolders_and_relative_paths_keep_the_hierarchy(
    lake: LocalFolderStorage,
) -> None:
    location = FileLocation("Ls_Lake", "AzureBlobStorageLocation", "container", "FolderA")

    flat = select_files(lake, location, ReadSettings(recursive=False))
    deep = select_files(lake, location, ReadSettings())

    assert [f.relative for f in flat] == ["File1.csv", "File2.json"]
    assert [f.relative for f in deep][-1] == "Subfolder1/File5.csv"


def test_when_the_named_file_or_folder_is_missing_then_the_required_blob_is_missing(lake: LocalFolderStorage) -> None:
    with pytest.raises(DatasetAccessError, match="required Blob is missing: container/FolderA/Nope.csv"):
        _selected(lake, FileLocation("L", "AzureBlobStorageLocation", "container", "FolderA", "Nope.csv"))
    with pytest.raises(DatasetAccessError, match="no blob under container/Empty"):
        _selected(lake, FileLocation("L", "AzureBlobStorageLocation", "container", "Empty"))


def test_when_a_prefix_or_a_modified_window_filters_then_only_those_blobs_are_read(lake: LocalFolderStorage) -> None:
    location = FileLocation("L", "AzureBlobStorageLocation", "container")
    future = datetime(2999, 1, 1, tzinfo=UTC)

    assert _selected(lake, location, prefix="FolderA/Sub") == [
        "FolderA/Subfolder1/File3.csv", "FolderA/Subfolder1/File4.json", "FolderA/Subfolder1/File5.csv"]
    assert _selected(lake, location, prefix="FolderA/", modified_start=future) == []
    assert len(_selected(lake, location, prefix="FolderA/", modified_end=future)) == 5


def test_when_a_folder_is_listed_then_child_items_are_its_files_and_folders(lake: LocalFolderStorage) -> None:
    items = child_items(lake.list_blobs("container", "FolderA/"), "FolderA")

    assert [(i.name, i.type) for i in items] == [("File1.csv", "File"), ("File2.json", "File"), ("Subfolder1", "Folder")]


# --- formats (Learn: format-json, format-delimited-text, format-parquet) ------------------------------------


@pytest.mark.parametrize("text", [
    '{"id": 1, "n": "a"}\n{"id": 2, "n": "b"}\n',  # JSON Lines
    '{"id": 1,\n "n": "a"}{"id": 2, "n": "b"}',  # concatenated objects
    '[{"id": 1, "n": "a"}, {"id": 2, "n": "b"}]',  # arrayOfObjects
])
def test_when_json_holds_any_documented_pattern_then_it_reads_as_the_same_rows(text: str) -> None:
    rows = file_format("Json", {}, None, "Ds").read(text.encode(), "f.json")

    assert rows.records == ({"id": 1, "n": "a"}, {"id": 2, "n": "b"})


def test_when_json_is_written_then_set_of_objects_is_json_lines_and_array_of_objects_one_array() -> None:
    rows = Rows(("id",), ({"id": 1}, {"id": 2}))

    lines = file_format("Json", {}, None, "Ds").write(rows, "o")
    array = file_format("Json", {"compression": {"type": "gzip"}}, {"filePattern": "arrayOfObjects"}, "Ds").write(rows, "o")

    assert lines == b'{"id":1}\n{"id":2}\n'
    assert json.loads(gzip.decompress(array)) == [{"id": 1}, {"id": 2}]


def test_when_json_holds_a_scalar_document_then_reading_names_it() -> None:
    with pytest.raises(DatasetAccessError, match="document 1 is int"):
        file_format("Json", {}, None, "Ds").read(b'{"a": 1}\n2', "f.json")


def test_when_delimited_text_has_quotes_escapes_and_nulls_then_values_read_as_strings() -> None:
    text = 'skip me\nid,name,note\r\n1,"a, b","say \\"hi\\""\n2,,x\n'
    csv_format = file_format("DelimitedText", {"firstRowAsHeader": True}, {"skipLineCount": 1}, "Ds")

    rows = csv_format.read(text.encode(), "f.csv")

    assert rows.columns == ("id", "name", "note")
    assert rows.records == ({"id": "1", "name": "a, b", "note": 'say "hi"'}, {"id": "2", "name": None, "note": "x"})


def test_when_delimited_text_has_no_header_then_columns_are_prop_n_and_encoding_is_honoured() -> None:
    csv_format = file_format("DelimitedText", {"columnDelimiter": ";", "encodingName": "windows-1252"}, None, "Ds")

    rows = csv_format.read("é;1\n".encode("cp1252"), "f.csv")

    assert rows.records == ({"Prop_0": "é", "Prop_1": "1"},)


def test_when_delimited_text_is_written_then_copy_writes_crlf_quotes_when_needed_and_the_header() -> None:
    csv_format = file_format("DelimitedText", {"firstRowAsHeader": True, "escapeChar": '"'}, None, "Ds")

    data = csv_format.write(Rows(("id", "text"), ({"id": 1, "text": 'a,"b"'}, {"id": None, "text": True})), "o")

    assert data == b'id,text\r\n1,"a,""b"""\r\n,True\r\n'


@pytest.mark.parametrize(("properties", "named"), [
    ({"columnDelimiter": "||"}, "columnDelimiter"),
    ({"columnDelimiter": ""}, "empty columnDelimiter"),
    ({"escapeChar": ""}, "empty escapeChar"),
    ({"encodingName": "KLINGON"}, "encodingName 'KLINGON'"),
    ({"compressionCodec": "snappy"}, "compression `snappy`"),
])
def test_when_delimited_text_settings_are_copy_unsupported_then_they_are_refused_by_name(properties: dict, named: str) -> None:
    with pytest.raises(DatasetAccessError, match=named):
        file_format("DelimitedText", properties, None, "Ds")


def test_when_parquet_round_trips_then_types_stay_and_rows_from_json_get_one_schema() -> None:
    parquet = file_format("Parquet", {"compressionCodec": "gzip"}, None, "Ds")
    table = pa.table({"id": pa.array([1, 2], pa.int32()), "at": pa.array([datetime(2026, 11, 20, tzinfo=UTC)] * 2)})

    typed = parquet.read(parquet.write(Rows(tuple(table.column_names), tuple(table.to_pylist()), table), "o"), "f")
    inferred = parquet.read(parquet.write(Rows(("id", "n"), ({"id": 1, "n": None}, {"id": 2, "n": None})), "o"), "f")

    assert typed.arrow.schema == table.schema
    assert inferred.arrow.schema.field("n").type == pa.string()
    with pytest.raises(DatasetAccessError, match="not a Parquet file"):
        parquet.read(b"nope", "f.parquet")


@pytest.mark.parametrize(("codec", "rows", "named"), [
    ("zstd", Rows(("id",), ({"id": 1},)), "compressionCodec `zstd`"),
    ("lzo", Rows(("id",), ({"id": 1},)), "compressionCodec `lzo`"),
    ("snappy", Rows(("my id",), ({"my id": 1},)), "column `my id` has white space"),
    ("snappy", Rows(("album",), ({"album": {"id": 1}},)), "column `album` is struct"),
])
def test_when_copy_would_write_what_parquet_in_adf_does_not_then_the_write_names_it(codec: str, rows: Rows, named: str) -> None:
    # Learn, format-parquet: codecs none/gzip/snappy (Copy does not support LZO), no white space in column names,
    # complex types only in data flows.
    with pytest.raises(DatasetAccessError, match=named):
        file_format("Parquet", {"compressionCodec": codec}, None, "Ds").write(rows, "out.parquet")


@pytest.mark.parametrize("properties", [{}, {"escapeChar": '"'}, {"quoteChar": "", "escapeChar": "\\"}])
def test_when_values_hold_backslashes_quotes_and_delimiters_then_delimited_text_round_trips(properties: dict) -> None:
    # Learn, format-delimited-text: escapeChar escapes quotes inside a quoted value (a backslash elsewhere is text);
    # with an empty quoteChar it escapes the delimiter and itself.
    csv_format = file_format("DelimitedText", {**properties, "firstRowAsHeader": True}, None, "Ds")
    text = "x,y" if properties.get("quoteChar") == "" else 'say "hi", ok'
    rows = Rows(("path", "text"), ({"path": "C:\\dir\\", "text": text}, {"path": None, "text": "end"}))

    data = csv_format.write(rows, "o")

    assert csv_format.read(data, "i").records == rows.records
    if not properties:
        assert data == b'path,text\r\nC:\\dir\\,"say \\"hi\\", ok"\r\n,end\r\n'


def test_when_a_blob_connection_string_is_a_secure_string_object_then_its_value_is_handed_on() -> None:
    secure = {"type": "SecureString", "value": "UseDevelopmentStorage=true"}
    linked = LinkedService("Ls_Blob", "AzureBlobStorage", {"connectionString": secure})

    assert as_blob_linked_service(linked).type_properties == {"connectionString": "UseDevelopmentStorage=true"}
