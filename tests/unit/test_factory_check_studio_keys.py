"""The factory check accepts the keys ADF Studio writes and the models lack, each from a Microsoft source
(factory_deploy.sdk_models.STUDIO_KEYS), and still reports a misspelt key in the same places."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from factory_deploy.sdk_models import check_factory
from tests.gallery_style import GALLERY, copy_gallery


def _edited(tmp_path: Path, relative: str, edit: Any) -> Path:
    factory = copy_gallery(tmp_path)
    path = factory / relative
    document = json.loads(path.read_text(encoding="utf-8"))
    edit(document["properties"])
    path.write_text(json.dumps(document), encoding="utf-8")
    return factory


def _problems(factory: Path) -> list[str]:
    return [f"{p.where}: {p.message}" for p in check_factory(factory)]


def test_when_studio_keys_are_present_then_the_check_reports_nothing() -> None:
    # PL_Keyed_Rows_First_Format: lastPublishTime and policy.cancelAfter; Df_Keyed_Rows_First_Format: `script` on its
    # source, transformation and sink.
    assert _problems(GALLERY) == []


def test_when_a_studio_key_is_misspelt_then_it_is_still_reported(tmp_path: Path) -> None:
    def misspell(props: dict[str, Any]) -> None:
        props["typeProperties"]["transformations"][0]["scirpt"] = props["typeProperties"]["transformations"][0].pop("script")
        props["typeProperties"]["sinks"][0]["Script"] = props["typeProperties"]["sinks"][0].pop("script")  # case only

    factory = _edited(tmp_path, "dataflow/Df_Keyed_Rows_First_Format.json", misspell)

    assert _problems(factory) == ["properties.typeProperties.transformations[0]: key `scirpt` is unknown to Transformation"]


def test_when_a_pipeline_policy_key_is_not_one_studio_writes_then_it_is_reported(tmp_path: Path) -> None:
    def misspell(props: dict[str, Any]) -> None:
        props["policy"]["cancelAftr"] = props["policy"].pop("cancelAfter")

    factory = _edited(tmp_path, "pipeline/PL_Keyed_Rows_First_Format.json", misspell)

    assert _problems(factory) == ["properties.policy: key `cancelAftr` is unknown to PipelinePolicy"]


def test_when_a_control_activity_policy_holds_retry_then_the_check_says_adf_ignores_it(tmp_path: Path) -> None:
    def add_retry(props: dict[str, Any]) -> None:
        props["activities"][0]["policy"].update({"retry": 2, "timeout": "0.01:00:00"})

    factory = _edited(tmp_path, "pipeline/PL_Reseller_Sales.json", add_retry)  # activities[0] is a SetVariable

    assert _problems(factory) == [
        f"activities[0] `Mark the start`.policy: key `{key}` is unknown to SecureInputOutputPolicy (ADF applies `{key}` "
        "to execution activities only; on a control activity it is ignored: remove it)"
        for key in ("retry", "timeout")
    ]
