"""Azurite for integration tests: test modules import the fixture they use
(``from tests.azurite import azurite_connection_string``). ``make test`` installs Azurite."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from offline.run_local.azurite import Azurite, AzuriteError


def unique_container(prefix: str = "test") -> str:
    """A fresh valid container name, so tests sharing one Azurite never see each other's blobs."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def azurite_connection_string() -> Iterator[str]:
    """Start Azurite blob-only for the test session; yield its connection string; stop it."""
    try:
        azurite = Azurite().start()
    except AzuriteError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield azurite.connection_string
    finally:
        azurite.stop()
