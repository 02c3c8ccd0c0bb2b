"""Copy between file datasets on the folder storage: copyBehavior, source settings, mappings and failures.

Learn: connector-azure-blob-storage ("Some recursive and copyBehavior examples", deleteFilesAfterCompletion),
copy-activity-schema-and-type-mapping (ordinal and path mappings), copy-activity-monitoring (counters)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from activities.common.storage import LocalFolderStorage
from offline.adf_runner import LocalFactoryRunner, RunnerOptions, load_factory

LAKE = {"referenceName": "Ls_Lake", "type": "LinkedServiceReference"}


def _dataset(name: str, kind: str, folder: str, file_name: str | None = None, **properties: Any) -> dict[str, Any]:
    location = {"type": "AzureBlobStorageLocation", "container": "lake", "folderPath": folder}
    if file_name:
        location["fileName"] = file_name
    return {"name": name, "properties": {"type": kind, "linkedServiceName": LAKE,
                                         "typeProperties": {"location": location, **properties}}}


def _copy(source: str, sink: str, kind: str, **type_properties: Any) -> dict[str, Any]:
    return {"name": "Copy files", "type": "Copy", "dependsOn": [],
            "typeProperties": {"source": {"type": f"{kind}Source"}, "sink": {"type": f"{kind}Sink"}, **type_properties},
            "inputs": [{"referenceName": source, "type": "DatasetReference"}],
            "outputs": [{"referenceName": sink, "type": "DatasetReference"}]}


def _run(
    tmp_path: Path, datasets: list[dict[str, Any]], activity: dict[str, Any], files: dict[str, bytes]
) -> tuple[Any, LocalFolderStorage]:
    root = tmp_path / "storage"
    storage = LocalFolderStorage(root)
    for path, data in files.items():
        storage.write_bytes("lake", path, data)
    factory = tmp_path / "factory"
    documents = [("linkedServices", {"name": "Ls_Lake", "properties": {"type": "AzureBlobStorage", "typeProperties": {
        "serviceEndpoint": root.as_uri()}}}), ("pipelines", {"name": "PL_Copy", "properties": {"activities": [activity]}})]
    documents += [("datasets", d) for d in datasets]
    for folder, document in documents:
        (factory / folder).mkdir(parents=True, exist_ok=True)
        (factory / folder / f"{document['name']}.json").write_text(json.dumps(document), encoding="utf-8")
    runner = LocalFactoryRunner(load_factory(factory), storage, tmp_path / "work", options=RunnerOptions(), watched_containers=())
    (run,) = runner.run_pipeline("PL_Copy").runs
    (copy,) = runner.monitor.activity_runs(run.runId)
    return copy, storage


def _paths(storage: LocalFolderStorage, prefix: str) -> list[str]:
    return [b.path for b in storage.list_blobs("lake", prefix)]


TREE = {"in/File1.json": b'{"id": 1}', "in/File2.json": b'{"id": 2}', "in/Sub/File3.json": b'{"id": 3}'}


def test_when_copy_behavior_is_flatten_then_every_file_lands_in_the_sink_folder_under_a_generated_name(tmp_path: Path) -> None:
    datasets = [_dataset("Ds_In", "Json", "in"), _dataset("Ds_Out", "Json", "out")]
    activity = _copy("Ds_In", "Ds_Out", "Json")
    activity["typeProperties"]["sink"]["storeSettings"] = {"type": "AzureBlobStorageWriteSettings", "copyBehavior": "FlattenHierarchy"}

    copy, storage = _run(tmp_path, datasets, activity, TREE)

    assert copy.status == "Succeeded", copy.error
    written = _paths(storage, "out/")
    assert len(written) == 3 and all(p.count("/") == 1 and p.endswith(".json") for p in written)
    assert sorted(json.loads(storage.read_bytes("lake", p))["id"] for p in written) == [1, 2, 3]


def test_when_copy_is_not_recursive_and_deletes_after_completion_then_only_top_files_move(tmp_path: Path) -> None:
    datasets = [_dataset("Ds_In", "Json", "in"), _dataset("Ds_Out", "Json", "out")]
    activity = _copy("Ds_In", "Ds_Out", "Json")
    activity["typeProperties"]["source"]["storeSettings"] = {"type": "AzureBlobStorageReadSettings", "recursive": False,
                                                             "deleteFilesAfterCompletion": True}

    copy, storage = _run(tmp_path, datasets, activity, TREE)

    assert copy.status == "Succeeded", copy.error
    assert _paths(storage, "out/") == ["out/File1.json", "out/File2.json"]
    assert _paths(storage, "in/") == ["in/Sub/File3.json"]  # the copied sources are deleted, the others stay
    assert (copy.output["filesRead"], copy.output["filesWritten"], copy.output["rowsCopied"]) == (2, 2, 2)


def test_when_one_source_file_is_malformed_then_the_copy_fails_on_the_source_side_and_writes_nothing(tmp_path: Path) -> None:
    datasets = [_dataset("Ds_In", "Json", "in"), _dataset("Ds_Out", "Json", "out")]

    copy, storage = _run(tmp_path, datasets, _copy("Ds_In", "Ds_Out", "Json"), {**TREE, "in/Sub/Zbad.json": b"{oops"})

    assert copy.status == "Failed" and copy.error is not None
    assert copy.error.errorCode == "2200"
    assert copy.error.message.startswith("Failure happened on 'Source' side. lake/in/Sub/Zbad.json: malformed JSON")
    assert _paths(storage, "out/") == []


def test_when_the_sink_names_one_file_but_several_are_read_then_the_copy_fails_naming_the_fix(tmp_path: Path) -> None:
    datasets = [_dataset("Ds_In", "Json", "in"), _dataset("Ds_Out", "Json", "out", "one.json")]

    copy, storage = _run(tmp_path, datasets, _copy("Ds_In", "Ds_Out", "Json"), TREE)

    assert copy.status == "Failed" and copy.error is not None
    assert "names one file (one.json)" in copy.error.message and "MergeFiles" in copy.error.message
    assert _paths(storage, "out/") == []


def test_when_headerless_text_maps_by_ordinal_and_json_by_path_then_the_sink_columns_are_the_mapped_names(tmp_path: Path) -> None:
    datasets = [_dataset("Ds_Csv", "DelimitedText", "csv", "rows.csv"), _dataset("Ds_Json", "Json", "nested", "rows.json"),
                _dataset("Ds_Out", "DelimitedText", "out", "rows.csv", firstRowAsHeader=True)]
    by_ordinal = _copy("Ds_Csv", "Ds_Out", "DelimitedText", translator={"type": "TabularTranslator", "mappings": [
        {"source": {"ordinal": 2}, "sink": {"name": "name"}}, {"source": {"ordinal": 1}, "sink": {"name": "id", "type": "Int32"}}]})
    files = {"csv/rows.csv": b"1,Blue\n2,Kind\n", "nested/rows.json": b'{"album": {"id": 5, "name": "Naima"}}'}

    copy, storage = _run(tmp_path, datasets, by_ordinal, files)

    assert copy.status == "Succeeded", copy.error
    assert storage.read_bytes("lake", "out/rows.csv") == b"name,id\r\nBlue,1\r\nKind,2\r\n"

    by_path = _copy("Ds_Json", "Ds_Out", "Json", translator={"type": "TabularTranslator", "mappings": [
        {"source": {"path": "$['album']['name']"}, "sink": {"name": "title"}}, {"source": {"path": "$.album.id"}, "sink": {"name": "id"}}]})
    by_path["typeProperties"]["sink"]["type"] = "DelimitedTextSink"
    copy, storage = _run(tmp_path / "again", datasets, by_path, files)

    assert copy.status == "Succeeded", copy.error
    assert storage.read_bytes("lake", "out/rows.csv") == b"title,id\r\nNaima,5\r\n"


def test_when_a_value_does_not_convert_to_the_mapped_type_then_the_copy_fails_naming_the_column(tmp_path: Path) -> None:
    datasets = [_dataset("Ds_Csv", "DelimitedText", "csv", "rows.csv"), _dataset("Ds_Out", "Parquet", "out")]
    activity = _copy("Ds_Csv", "Ds_Out", "DelimitedText", translator={"type": "TabularTranslator", "mappings": [
        {"source": {"ordinal": 1}, "sink": {"name": "id", "type": "Int64"}}]})
    activity["typeProperties"]["sink"]["type"] = "ParquetSink"

    copy, storage = _run(tmp_path, datasets, activity, {"csv/rows.csv": b"1\nseven\n"})

    assert copy.status == "Failed" and copy.error is not None
    assert "column `id`: cannot convert 'seven' to Int64" in copy.error.message
    assert _paths(storage, "out/") == []


@pytest.mark.parametrize("missing", ["in/nope.json", "nowhere"])
def test_when_the_source_is_missing_then_the_copy_fails_with_the_required_blob_missing(tmp_path: Path, missing: str) -> None:
    folder, _, name = missing.rpartition("/")
    datasets = [_dataset("Ds_In", "Json", folder or missing, name or None), _dataset("Ds_Out", "Json", "out")]

    copy, _ = _run(tmp_path, datasets, _copy("Ds_In", "Ds_Out", "Json"), TREE)

    assert copy.status == "Failed" and copy.error is not None
    assert "the required Blob is missing" in copy.error.message and missing in copy.error.message


def test_when_the_source_adds_columns_then_file_path_duplicates_and_expressions_reach_the_sink(tmp_path: Path) -> None:
    # Learn, copy-activity-overview "Add additional data columns during copy": $$FILEPATH, $$COLUMN:<name>, values.
    datasets = [_dataset("Ds_In", "Json", "in"), _dataset("Ds_Out", "Json", "out", "all.json")]
    activity = _copy("Ds_In", "Ds_Out", "Json")
    activity["typeProperties"]["source"]["additionalColumns"] = [
        {"name": "file", "value": "$$FILEPATH"}, {"name": "key", "value": "$$COLUMN:id"},
        {"name": "pipeline", "value": {"value": "@pipeline().Pipeline", "type": "Expression"}}, {"name": "zone", "value": "raw"}]
    activity["typeProperties"]["sink"]["storeSettings"] = {"type": "AzureBlobStorageWriteSettings", "copyBehavior": "MergeFiles"}

    copy, storage = _run(tmp_path, datasets, activity, TREE)

    assert copy.status == "Succeeded", copy.error
    rows = [json.loads(line) for line in storage.read_bytes("lake", "out/all.json").splitlines()]
    assert rows[-1] == {"id": 3, "file": "Sub/File3.json", "key": 3, "pipeline": "PL_Copy", "zone": "raw"}


def test_when_property_names_differ_in_case_then_copy_reads_them_as_adf_does(tmp_path: Path) -> None:
    # ADF reads JSON property names case-insensitively (factory_deploy/json_keys.py).
    datasets = [_dataset("Ds_In", "Json", "in"), _dataset("Ds_Out", "Json", "out")]
    datasets[0]["properties"]["parameters"] = {"unused": {"type": "string", "DefaultValue": "x"}}
    activity = _copy("Ds_In", "Ds_Out", "Json")
    activity["Inputs"], activity["Outputs"] = activity.pop("inputs"), activity.pop("outputs")

    copy, storage = _run(tmp_path, datasets, activity, TREE)

    assert copy.status == "Succeeded", copy.error
    assert _paths(storage, "out/") == ["out/File1.json", "out/File2.json", "out/Sub/File3.json"]


def test_when_the_storage_refuses_a_name_then_the_copy_fails_in_one_line_on_that_side(tmp_path: Path) -> None:
    # Azure's container rule (activities.common.storage): the storage error becomes the activity's error.
    datasets = [_dataset("Ds_In", "Json", "in"), _dataset("Ds_Out", "Json", "out")]
    datasets[1]["properties"]["typeProperties"]["location"]["container"] = "Bad_Container"

    copy, storage = _run(tmp_path, datasets, _copy("Ds_In", "Ds_Out", "Json"), TREE)

    assert copy.status == "Failed" and copy.error is not None
    assert copy.error.message.startswith("Failure happened on 'Sink' side. cannot write in container 'Bad_Container'")
    assert "\n" not in copy.error.message
