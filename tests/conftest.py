"""The `integration` marker follows the folder: every test under tests/integration/ has it, no test elsewhere.

tests/unit/ holds what runs in one process with nothing real around it; a test that starts a server, a
subprocess, Azurite or .NET's reference engine belongs in tests/integration/ (`pytest -m "not integration"`
then runs the fast set).
"""

from __future__ import annotations

from pathlib import Path

import pytest

_INTEGRATION = Path(__file__).resolve().parent / "integration"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _INTEGRATION in item.path.resolve().parents:
            item.add_marker(pytest.mark.integration)
