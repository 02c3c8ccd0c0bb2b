"""Deploy and the local runner read the factory through one model: the same bodies for every environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from factory_deploy.env_config import ENVIRONMENTS, factory_overrides, global_parameters, load_config
from factory_deploy.graph import load_resources, publish_order
from factory_deploy.render import OverrideError, apply_overrides, render_resources
from offline.adf_runner import load_factory

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_when_deploy_and_the_runner_load_the_factory_then_every_resource_body_is_identical(environment: str) -> None:
    config = load_config(environment)
    deployed = {(r.folder, r.name): r.body for r in render_resources(publish_order(load_resources(REPO / "adf")), config)}

    factory = load_factory(REPO / "adf", factory_overrides(config), global_parameters(config))

    loaded = {("pipelines", n): p.raw for n, p in factory.pipelines.items()}
    loaded |= {("datasets", n): d.raw for n, d in factory.datasets.items()}
    loaded |= {("linkedServices", n): ls.raw for n, ls in factory.linked_services.items()}
    loaded |= {("triggers", n): t.raw for n, t in factory.triggers.items()}
    loaded |= {("dataflows", n): d.raw for n, d in factory.dataflows.items()}
    assert loaded == deployed


def test_when_an_override_names_an_unknown_resource_or_key_then_both_refuse_it_the_same_way(tmp_path: Path) -> None:
    bodies = {("linkedServices", "Ls_A"): {"name": "Ls_A", "properties": {"typeProperties": {"url": "x", "list": [1, 2]}}}}

    assert apply_overrides(bodies, {"Ls_A": {"typeProperties.list.1": 3}})[("linkedServices", "Ls_A")]["properties"] == {
        "typeProperties": {"url": "x", "list": [1, 3]}}
    with pytest.raises(OverrideError, match="override `typeProperties.uri` of `Ls_A`: `uri` does not exist"):
        apply_overrides(bodies, {"Ls_A": {"typeProperties.uri": "y"}})
    with pytest.raises(OverrideError, match="`Ls_B`: no resource of that name"):
        apply_overrides(bodies, {"Ls_B": {"typeProperties.url": "y"}})
    with pytest.raises(OverrideError, match="`5` is not an index of a list of 2"):
        apply_overrides(bodies, {"Ls_A": {"typeProperties.list.5": 0}})
