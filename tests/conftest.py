"""The `integration` marker follows the folder: every test under tests/integration/ or tests/chaos/ (kill -9 of whole
local runs) has it, no test elsewhere.

tests/unit/ holds what runs in one process with nothing real around it; a test that starts a server, a
subprocess, Azurite or .NET's reference engine belongs in tests/integration/ (`pytest -m "not integration"`
then runs the fast set).
"""

from __future__ import annotations

from pathlib import Path

import pytest

_INTEGRATION_FOLDERS = tuple(Path(__file__).resolve().parent / folder for folder in ("integration", "chaos"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(folder in item.path.resolve().parents for folder in _INTEGRATION_FOLDERS):
            item.add_marker(pytest.mark.integration)
