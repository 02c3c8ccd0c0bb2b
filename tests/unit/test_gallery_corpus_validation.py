"""Issue 16, "What it must show", over the whole gallery-style corpus (tests/fixtures/adf_gallery_style): no pipeline
is refused for a reason ADF would not refuse, and every refusal names what the local runner lacks (activity type or
feature, linked service, dataset type, data flow transformation or construct). The refusals come from the
validation the runner does before the first activity runs, over the pipeline and every pipeline it calls."""

from __future__ import annotations

import pytest

from activities.common.storage import LocalFolderStorage
from offline.adf_runner import LocalFactoryRunner, RunnerOptions, load_factory
from offline.adf_runner.datasets.errors import UnsupportedDatasetError
from offline.adf_runner.errors import (
    NonLoopbackUrlError,
    RunnerError,
    UnsupportedActivityFeatureError,
    UnsupportedActivityTypeError,
    UnsupportedDataFlowFeatureError,
    UnsupportedLinkedServiceError,
)
from tests.gallery_style import GALLERY

# The errors that refuse a pipeline for something ADF runs but this machine does not, naming it.
BY_NAME = (UnsupportedActivityTypeError, UnsupportedActivityFeatureError, UnsupportedLinkedServiceError,
           UnsupportedDatasetError, UnsupportedDataFlowFeatureError, NonLoopbackUrlError)
# Pipeline -> (error, what it names). PL_Call_Sales_Copy runs nothing unsupported itself: its ExecutePipeline child
# PL_Copy_Sales copies from an Azure SQL table, so the call graph refuses it.
REFUSED = {
    "PL_Copy_Sales": (UnsupportedDatasetError, "type `AzureSqlTable`"),
    "PL_Call_Sales_Copy": (UnsupportedDatasetError, "type `AzureSqlTable`"),
    "PL_Reseller_Sales": (UnsupportedDataFlowFeatureError, "transformation `join` (Join)"),
}


@pytest.fixture(scope="module")
def refusals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RunnerError]:
    """Each corpus pipeline the runner's validation refuses, with the error (validation runs nothing)."""
    tmp_path = tmp_path_factory.mktemp("corpus")
    factory = load_factory(GALLERY)
    runner = LocalFactoryRunner(factory, LocalFolderStorage(tmp_path), tmp_path / "work", options=RunnerOptions(),
                                watched_containers=())
    refusals: dict[str, RunnerError] = {}
    for name, pipeline in sorted(factory.pipelines.items()):
        try:
            runner.engine.validate(pipeline)
        except RunnerError as exc:
            refusals[name] = exc
    return refusals


def test_when_every_corpus_pipeline_is_validated_then_each_refusal_names_what_the_runner_lacks(
    refusals: dict[str, RunnerError],
) -> None:
    not_by_name = {name: f"{type(exc).__name__}: {exc}" for name, exc in refusals.items() if not isinstance(exc, BY_NAME)}
    assert not_by_name == {}  # e.g. a parse error or an unknown reference for something ADF accepts


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_when_a_corpus_pipeline_uses_what_the_runner_lacks_then_validation_names_it(
    name: str, refusals: dict[str, RunnerError]
) -> None:
    error, named = REFUSED[name]

    refusal = refusals.get(name)

    assert isinstance(refusal, error) and named in str(refusal), refusal
