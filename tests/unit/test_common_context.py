"""activities.common.context: the three files of a Batch task working directory, parsed once."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from activities.common import ActivityConfigError, SecureString, load_context


def write_context(
    directory: Path,
    extended: dict[str, Any] | None = None,
    *,
    activity: Any = None,
    linked_services: Any = None,
    datasets: Any = None,
) -> Path:
    """Write activity.json / linkedServices.json / datasets.json as ADF would (None: a sensible default)."""
    if activity is None:
        activity = {
            "name": "Extract Spotify",
            "type": "Custom",
            "typeProperties": {
                "command": "python -m activities.extract",
                "folderPath": "batch-code/activities",
                "extendedProperties": extended or {},
                "referenceObjects": {"linkedServices": [], "datasets": []},
            },
        }
    if linked_services is None:
        linked_services = [
            {"name": "Ls_Storage", "properties": {"type": "AzureBlobStorage",
                                                  "typeProperties": {"serviceEndpoint": "file:///tmp/x"}}},
            {"name": "Ls_KeyVault", "properties": {"type": "AzureKeyVault", "typeProperties": {"baseUrl": "env:"}}},
        ]
    if datasets is None:
        datasets = [
            {"name": "Ds_Raw_Manifest", "properties": {
                "type": "Json",
                "linkedServiceName": {"referenceName": "Ls_Storage", "type": "LinkedServiceReference"},
                "parameters": {"folder": {"type": "string"}},
                "typeProperties": {"location": {"type": "AzureBlobStorageLocation", "container": "raw"}},
            }},
        ]
    for name, content in (("activity.json", activity), ("linkedServices.json", linked_services),
                          ("datasets.json", datasets)):
        if content is not _ABSENT:
            (directory / name).write_text(content if isinstance(content, str) else json.dumps(content))
    return directory


_ABSENT = object()


def test_when_the_files_are_good_then_every_part_is_parsed(tmp_path: Path) -> None:
    # Arrange
    write_context(tmp_path, {
        "ingestDate": "2026-11-24", "newReleasesLimit": 50, "limitAsText": "7",
        "markets": ["US", "GB"], "marketsAsText": "[\"SE\"]",
        "apiKey": {"type": "SecureString", "value": "hunter2"},
    })

    # Act
    context = load_context(tmp_path)

    # Assert
    assert context.working_dir == tmp_path
    assert context.activity_name == "Extract Spotify"
    assert context.command == "python -m activities.extract"
    assert context.get_str("ingestDate") == "2026-11-24"
    assert context.get_int("newReleasesLimit") == 50
    assert context.get_int("limitAsText") == 7
    assert context.get_list("markets") == ["US", "GB"]
    assert context.get_list("marketsAsText") == ["SE"]
    assert context.get_secure("apiKey").reveal() == "hunter2"
    assert context.get_str("absent", "fallback") == "fallback"
    assert context.linked_service("Ls_KeyVault").type_properties["baseUrl"] == "env:"
    dataset = context.dataset("Ds_Raw_Manifest")
    assert (dataset.type, dataset.linked_service_name) == ("Json", "Ls_Storage")
    assert dataset.parameters["folder"] == {"type": "string"}


def test_when_no_directory_is_given_then_the_batch_working_dir_variable_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange
    write_context(tmp_path, {"runId": "r1"})
    monkeypatch.setenv("AZ_BATCH_TASK_WORKING_DIR", str(tmp_path))

    # Act
    context = load_context()

    # Assert
    assert context.working_dir == tmp_path
    assert context.get_str("runId") == "r1"


def test_when_the_context_is_built_then_it_cannot_be_changed(tmp_path: Path) -> None:
    # Arrange
    context = load_context(write_context(tmp_path, {"runId": "r1"}))

    # Act / Assert
    with pytest.raises(AttributeError):
        context.activity_name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        context.extended_properties["runId"] = "r2"  # type: ignore[index]


def test_when_a_linked_service_holds_a_secure_string_then_it_is_wrapped(tmp_path: Path) -> None:
    # Arrange
    write_context(tmp_path, linked_services=[{"name": "Ls_Storage", "properties": {
        "type": "AzureBlobStorage",
        "typeProperties": {"connectionString": {"type": "SecureString", "value": "AccountKey=abc"}},
    }}])

    # Act
    value = load_context(tmp_path).linked_service("Ls_Storage").type_properties["connectionString"]

    # Assert
    assert isinstance(value, SecureString)
    assert value.reveal() == "AccountKey=abc"


def test_when_activity_json_is_missing_then_the_error_names_the_file_and_the_fix(tmp_path: Path) -> None:
    # Act / Assert
    with pytest.raises(ActivityConfigError, match=r"activity\.json not found in .*working directory as cwd"):
        load_context(tmp_path)


def test_when_activity_json_is_not_json_then_the_error_names_the_file_and_line(tmp_path: Path) -> None:
    # Arrange
    write_context(tmp_path, activity="{\n  \"name\": oops\n}")

    # Act / Assert
    with pytest.raises(ActivityConfigError, match=r"activity\.json is not valid JSON: .* line 2"):
        load_context(tmp_path)


def test_when_linked_services_json_is_not_json_then_the_error_names_that_file(tmp_path: Path) -> None:
    # Arrange
    write_context(tmp_path, linked_services="[{")

    # Act / Assert
    with pytest.raises(ActivityConfigError, match=r"linkedServices\.json is not valid JSON"):
        load_context(tmp_path)


def test_when_the_activity_has_no_name_then_the_error_names_the_property(tmp_path: Path) -> None:
    # Arrange
    write_context(tmp_path, activity={"typeProperties": {}})

    # Act / Assert
    with pytest.raises(ActivityConfigError, match=r"property `name` is missing from activity\.json"):
        load_context(tmp_path)


def test_when_extended_properties_is_not_an_object_then_the_error_names_it(tmp_path: Path) -> None:
    # Arrange
    write_context(tmp_path, activity={"name": "A", "typeProperties": {"extendedProperties": ["x"]}})

    # Act / Assert
    with pytest.raises(ActivityConfigError, match=r"`typeProperties.extendedProperties` in activity\.json must be a JSON object"):
        load_context(tmp_path)


def test_when_a_linked_service_lacks_its_type_then_the_error_names_service_and_property(tmp_path: Path) -> None:
    # Arrange
    write_context(tmp_path, linked_services=[{"name": "Ls_Broken", "properties": {"typeProperties": {}}}])

    # Act / Assert
    with pytest.raises(ActivityConfigError, match=r"`properties.type` is missing from linked service `Ls_Broken`"):
        load_context(tmp_path)


def test_when_linked_services_json_is_not_an_array_then_the_error_says_so(tmp_path: Path) -> None:
    # Arrange
    write_context(tmp_path, linked_services={"name": "x"})

    # Act / Assert
    with pytest.raises(ActivityConfigError, match=r"linkedServices\.json must be a JSON array"):
        load_context(tmp_path)


def test_when_a_dataset_lacks_its_linked_service_then_the_error_names_dataset_and_property(tmp_path: Path) -> None:
    # Arrange
    write_context(tmp_path, datasets=[{"name": "Ds_X", "properties": {"type": "Json"}}])

    # Act / Assert
    with pytest.raises(ActivityConfigError, match=r"`properties.linkedServiceName` of dataset `Ds_X`"):
        load_context(tmp_path)


@pytest.mark.parametrize(
    ("extended", "call", "message"),
    [
        ({}, lambda c: c.get_list("markets"),
         r"extended property `markets` is missing from activity\.json; set it in the pipeline's extendedProperties"),
        ({"runId": 5}, lambda c: c.get_str("runId"), r"`runId` in activity\.json must be a string, got a number"),
        ({"limit": "many"}, lambda c: c.get_int("limit"), r"`limit` in activity\.json must be an integer, got 'many'"),
        ({"limit": True}, lambda c: c.get_int("limit"), r"`limit` .* must be an integer, got a boolean"),
        ({"markets": "US"}, lambda c: c.get_list("markets"), r"`markets` in activity\.json is a string but not a JSON array"),
        ({"markets": {"a": 1}}, lambda c: c.get_list("markets"), r"`markets` .* must be a JSON array, got an object"),
        ({"key": {"type": "SecureString", "value": "v"}}, lambda c: c.get_str("key"), r"`key` .* is a SecureString"),
        ({"key": 3}, lambda c: c.get_secure("key"), r"`key` .* must be a SecureString, got a number"),
    ],
    ids=["missing", "str-wrong-type", "int-not-a-number", "int-boolean", "list-bad-text", "list-object",
         "str-is-secure", "secure-wrong-type"],
)
def test_when_an_extended_property_is_missing_or_mistyped_then_the_error_names_it(
    tmp_path: Path, extended: dict[str, Any], call: Any, message: str
) -> None:
    # Arrange
    context = load_context(write_context(tmp_path, extended))

    # Act / Assert
    with pytest.raises(ActivityConfigError, match=message):
        call(context)


def test_when_a_linked_service_is_not_referenced_then_the_error_lists_what_is_there(tmp_path: Path) -> None:
    # Arrange
    context = load_context(write_context(tmp_path))

    # Act / Assert
    expected = r"`Ls_Other` is not in linkedServices\.json \(it has: Ls_KeyVault, Ls_Storage\); add it to .*referenceObjects"
    with pytest.raises(ActivityConfigError, match=expected):
        context.linked_service("Ls_Other")


def test_when_linked_services_json_is_absent_then_a_lookup_says_the_file_is_missing(tmp_path: Path) -> None:
    # Arrange
    write_context(tmp_path, linked_services=_ABSENT, datasets=_ABSENT)
    context = load_context(tmp_path)

    # Act / Assert
    with pytest.raises(ActivityConfigError, match=r"linkedServices\.json does not exist in"):
        context.linked_service("Ls_Storage")
    with pytest.raises(ActivityConfigError, match=r"datasets\.json does not exist in"):
        context.dataset("Ds_X")


def test_when_a_secure_string_is_shown_then_only_stars_appear() -> None:
    # Arrange
    secret = SecureString("hunter2")

    # Act
    shown = [repr(secret), str(secret), f"{secret}", f"{secret!r}", repr({"k": secret}), repr([secret])]

    # Assert
    assert all("hunter2" not in text for text in shown)
    assert shown[0] == "***"
    assert secret.reveal() == "hunter2"
    assert secret == SecureString("hunter2")
    assert copy.deepcopy(secret).reveal() == "hunter2"


def test_when_a_secure_string_is_pickled_then_it_is_refused() -> None:
    # Arrange
    import pickle

    # Act / Assert
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(SecureString("hunter2"))
