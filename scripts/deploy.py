"""Publish the code, the Batch pool, the Purview definitions, the factory and the Synapse SQL to one environment.

    python scripts/deploy.py --env prod --dry-run   # read what Azure holds and print the plan; write nothing
    python scripts/deploy.py --env prod             # check, plan, confirm, apply (needs `az login` or a managed identity)
    python scripts/deploy.py --env prod --prune     # also delete what the repo no longer has

See README.md, "Deploying", for the prerequisites and every option.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from factory_deploy.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
