"""activities.common.entrypoint.run_activity: context in, outputs.json out, exit code."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from activities.common import ActivityConfigError, ActivityContext, register_secret, run_activity


def run(main: Callable[[ActivityContext], Mapping[str, Any]]) -> int:
    with pytest.raises(SystemExit) as exited:
        run_activity("demo", main)
    return int(exited.value.code or 0)


@pytest.fixture()
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "activity.json").write_text(json.dumps(
        {"name": "Demo", "typeProperties": {"command": "x", "extendedProperties": {"n": 2}}}))
    (tmp_path / "linkedServices.json").write_text("[]")
    (tmp_path / "datasets.json").write_text("[]")
    monkeypatch.setenv("AZ_BATCH_TASK_WORKING_DIR", str(tmp_path))
    return tmp_path


def test_when_main_succeeds_then_outputs_json_has_its_result_and_duration_and_exit_is_0(workdir: Path) -> None:
    # Act
    code = run(lambda context: {"doubled": context.get_int("n") * 2})

    # Assert
    outputs = json.loads((workdir / "outputs.json").read_text())
    assert code == 0
    assert outputs["doubled"] == 4
    assert isinstance(outputs["durationSeconds"], float)


def test_when_main_raises_an_activity_error_then_one_error_line_and_exit_1(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange
    register_secret("entrypoint-secret-7")

    def main(context: ActivityContext) -> Mapping[str, Any]:
        raise ActivityConfigError("bad thing\nwith entrypoint-secret-7 inside")

    # Act
    code = run(main)

    # Assert
    err = capsys.readouterr().err
    assert code == 1
    assert err == "ERROR demo: bad thing | with *** inside\n"
    # Only the reason, for the pipeline's Fail activity (ADF itself shows 2500), with the secret redacted.
    assert json.loads((workdir / "outputs.json").read_text()) == {
        "error": {"message": "demo: bad thing | with *** inside", "type": "ActivityConfigError"}
    }


def test_when_main_has_a_bug_then_the_traceback_is_printed_and_exit_1(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange
    def main(context: ActivityContext) -> Mapping[str, Any]:
        return {"x": 1 // 0}

    # Act
    code = run(main)

    # Assert
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback (most recent call last)" in err and "ZeroDivisionError" in err


def test_when_the_context_files_are_missing_then_the_error_line_names_activity_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange
    monkeypatch.setenv("AZ_BATCH_TASK_WORKING_DIR", str(tmp_path))

    # Act
    code = run(lambda context: {})

    # Assert
    assert code == 1
    assert capsys.readouterr().err.startswith("ERROR demo: activity.json not found in")
