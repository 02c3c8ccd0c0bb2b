"""What ships to Azure Batch (activities/) must not depend on what exists only for local runs."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ACTIVITIES = Path(__file__).resolve().parents[2] / "activities"
FORBIDDEN = {"offline", "factory_deploy", "duckdb"}


def test_when_activities_sources_are_parsed_then_none_imports_a_local_only_package() -> None:
    # Arrange
    offenders: list[str] = []

    # Act
    for source in sorted(ACTIVITIES.rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(), filename=str(source))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{source.relative_to(ACTIVITIES.parent)}: {name}" for name in names
                          if name.split(".")[0] in FORBIDDEN]

    # Assert
    assert offenders == []


def test_when_activities_common_is_imported_then_the_azure_sdk_is_not_loaded() -> None:
    # Act: a fresh interpreter, so modules other tests imported do not count
    result = subprocess.run(
        [sys.executable, "-c",
         "import sys, activities.common, activities.extract.run; "
         "print(sorted({m.split('.')[0] for m in sys.modules} & {'azure', 'pandas', 'pyarrow'}))"],
        cwd=ACTIVITIES.parent, capture_output=True, text=True, check=True,
    )

    # Assert
    assert result.stdout.strip() == "[]"
