"""activities.common.outputs: outputs.json, atomic, never carrying a secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from activities.common import OutputsError, SecureString, register_secret, write_outputs


def test_when_outputs_are_plain_json_then_outputs_json_holds_them(tmp_path: Path) -> None:
    # Act
    path = write_outputs(tmp_path, {"runId": "r1", "counts": {"albums": 3}, "parts": 2})

    # Assert
    assert path == tmp_path / "outputs.json"
    assert json.loads(path.read_text()) == {"runId": "r1", "counts": {"albums": 3}, "parts": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outputs.json"]  # no temp file left


def test_when_an_output_is_a_secure_string_then_it_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    # Act / Assert
    with pytest.raises(OutputsError, match=r"`outputs.nested\[0\].key` is a SecureString"):
        write_outputs(tmp_path, {"nested": [{"key": SecureString("hunter2")}]})
    assert not (tmp_path / "outputs.json").exists()


def test_when_an_output_contains_a_registered_secret_then_it_is_refused(tmp_path: Path) -> None:
    # Arrange
    register_secret("outputs-test-secret-value")

    # Act / Assert
    with pytest.raises(OutputsError, match="would contain a secret"):
        write_outputs(tmp_path, {"error": "login with outputs-test-secret-value failed"})
    assert not (tmp_path / "outputs.json").exists()


def test_when_an_output_is_not_json_then_the_error_says_so(tmp_path: Path) -> None:
    # Act / Assert
    with pytest.raises(OutputsError, match="not be valid JSON"):
        write_outputs(tmp_path, {"when": object()})


def test_when_outputs_json_exists_then_it_is_replaced_whole(tmp_path: Path) -> None:
    # Arrange
    write_outputs(tmp_path, {"a": "x" * 1000})

    # Act
    write_outputs(tmp_path, {"b": 1})

    # Assert
    assert json.loads((tmp_path / "outputs.json").read_text()) == {"b": 1}
