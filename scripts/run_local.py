"""Run the whole pipeline offline: see `python scripts/run_local.py --help`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from offline.run_local.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
