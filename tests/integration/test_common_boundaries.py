"""What ships to Azure Batch stays light: importing the activities' common code loads no Azure SDK, pandas or
pyarrow (the import boundaries themselves: test_import_boundaries.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ACTIVITIES = Path(__file__).resolve().parents[2] / "activities"


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
