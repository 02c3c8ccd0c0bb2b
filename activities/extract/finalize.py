"""``python -m activities.extract.finalize``: the "Write manifest" Custom activity.

Runs after every shard of the ForEach succeeded; writes the run manifest from the progress blobs of the
discovery step and the shards (the same as ``python -m activities.extract`` with ``mode`` ``manifest``).
"""

from __future__ import annotations

from typing import Any

from activities.common.context import ActivityContext
from activities.common.entrypoint import run_activity


def main(context: ActivityContext) -> dict[str, Any]:
    from activities.common.secrets import open_secret_store
    from activities.common.storage import open_storage
    from activities.extract.config import ExtractConfig
    from activities.extract.run import finalize

    config = ExtractConfig.from_context(context)
    secrets = open_secret_store(context.linked_service(config.key_vault_linked_service))
    storage = open_storage(context.linked_service(config.storage_linked_service), secrets)
    return finalize(config, storage).to_outputs()


if __name__ == "__main__":
    run_activity("extract-manifest", main)
