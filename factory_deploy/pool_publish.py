"""Publish the Azure Batch pool the custom activities run on, through the Batch management API (azure-mgmt-batch).

The pool is managed through ARM rather than the Batch data-plane client because only ARM can give a pool a
user-assigned managed identity (Microsoft Learn, "Configure managed identities in Batch pools"), which the
activities use for Key Vault and storage. It is created when missing and patched only where the repo's
settings differ; vmSize, the image and taskSlotsPerNode cannot change on an existing pool, so a change there is
refused with the fix. The start task installs Python 3.11 and the package's pinned requirements system-wide;
autoscale (Microsoft Learn, "Create a formula to automatically scale compute nodes in a Batch pool") sizes the
pool to the pending tasks' slots up to `batch.maxNodes` and to zero when idle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from factory_deploy.env_config import EnvironmentConfig
from factory_deploy.errors import DeployError, azure_reason
from factory_deploy.plan import CREATE, UNCHANGED, UPDATE, Change

PART = "pool"
Log = Callable[[str], None]
IMMUTABLE = ("vmSize", "deploymentConfiguration", "taskSlotsPerNode")
EVALUATION_INTERVAL = "PT5M"  # Batch's default and minimum sensible interval for this workload
IMAGE = {
    "imageReference": {"publisher": "canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"},
    "nodeAgentSkuId": "batch.node.ubuntu 24.04",
}


def identity_id(config: EnvironmentConfig) -> str:
    return (f"/subscriptions/{config.factory.subscription_id}/resourceGroups/{config.factory.resource_group}"
            f"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{config.batch.identity}")


def autoscale_formula(slots_per_node: int, max_nodes: int) -> str:
    """Nodes for the pending tasks' slots, at most `max_nodes`, zero when nothing is pending."""
    return "\n".join([
        "$samples = $PendingTasks.GetSamplePercent(TimeInterval_Minute * 5);",
        "$pending = $samples < 70 ? max(0, $PendingTasks.GetSample(1)) : "
        "max($PendingTasks.GetSample(1), avg($PendingTasks.GetSample(TimeInterval_Minute * 5)));",
        f"$wanted = $pending > 0 ? ($pending + {slots_per_node - 1}) / {slots_per_node} : 0;",
        f"$TargetDedicatedNodes = max(0, min($wanted, {max_nodes}));",
        "$NodeDeallocationOption = taskcompletion;",
    ])


def desired_pool(config: EnvironmentConfig, requirements_url: str) -> dict[str, Any]:
    """The pool's REST body (Microsoft.Batch pools PUT) as this repo wants it."""
    identity = identity_id(config)
    install = " && ".join([
        "set -e",
        "export DEBIAN_FRONTEND=noninteractive",
        "add-apt-repository -y ppa:deadsnakes/ppa",
        "apt-get update",
        "apt-get install -y python3.11 python3.11-venv",
        "python3.11 -m ensurepip --upgrade",
        "python3.11 -m pip install --no-cache-dir --break-system-packages -r $AZ_BATCH_NODE_STARTUP_DIR/wd/requirements.txt",
        "ln -sf /usr/bin/python3.11 /usr/local/bin/python3",  # tasks run `python3 activities.pyz ...`
    ])
    return {
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity: {}}},
        "properties": {
            "vmSize": config.batch.vm_size,
            "deploymentConfiguration": {"virtualMachineConfiguration": IMAGE},
            "taskSlotsPerNode": config.batch.task_slots_per_node,
            "taskSchedulingPolicy": {"nodeFillType": "Pack"},
            "scaleSettings": {"autoScale": {"formula": autoscale_formula(config.batch.task_slots_per_node, config.batch.max_nodes),
                                            "evaluationInterval": EVALUATION_INTERVAL}},
            "startTask": {
                "commandLine": f"/bin/bash -c '{install}'",
                "resourceFiles": [{"httpUrl": requirements_url, "filePath": "requirements.txt",
                                   "identityReference": {"resourceId": identity}}],
                "userIdentity": {"autoUser": {"scope": "Pool", "elevationLevel": "Admin"}},
                "maxTaskRetryCount": 2,
                "waitForSuccess": True,
            },
        },
    }


@dataclass(frozen=True)
class PoolPlan:
    changes: list[Change]
    create: dict[str, Any] | None
    patch: dict[str, Any] | None


def read_pool(client: Any, config: EnvironmentConfig) -> dict[str, Any] | None:
    from azure.core.exceptions import AzureError, ResourceNotFoundError

    try:
        return dict(client.pool.get(config.factory.resource_group, config.batch.account, config.batch.pool))
    except ResourceNotFoundError:
        return None
    except AzureError as exc:
        raise DeployError(f"pool: reading Batch pool `{config.batch.pool}` of account `{config.batch.account}` failed: "
                          f"{azure_reason(exc)}") from exc


def plan_pool(name: str, current: dict[str, Any] | None, desired: dict[str, Any]) -> PoolPlan:
    if current is None:
        return PoolPlan([Change(PART, CREATE, f"pools/{name}")], desired, None)
    have = _plain(current.get("properties", {}))
    differing = [k for k, v in desired["properties"].items() if not _contains(have.get(k), v)]
    frozen = [k for k in differing if k in IMMUTABLE]
    if frozen:
        raise DeployError(
            f"pool `{name}`: {', '.join(frozen)} differ from the repo's and cannot change on an existing Batch pool: "
            "delete the pool (no task running) or set batch.pool to a new name in config/<env>.json"
        )
    patch: dict[str, Any] = {"properties": {k: desired["properties"][k] for k in differing}}
    if not _same_identity(current.get("identity"), desired["identity"]):
        patch["identity"] = desired["identity"]
        differing.append("identity")
    if not differing:
        return PoolPlan([Change(PART, UNCHANGED, f"pools/{name}")], None, None)
    return PoolPlan([Change(PART, UPDATE, f"pools/{name}", "differs: " + ", ".join(differing))], None, patch)


def apply_pool(client: Any, config: EnvironmentConfig, plan: PoolPlan, log: Log) -> None:
    from azure.core.exceptions import AzureError

    args = (config.factory.resource_group, config.batch.account, config.batch.pool)
    try:
        if plan.create is not None:
            client.pool.create(*args, parameters=plan.create)
            log(f"pool: created pools/{config.batch.pool}")
        elif plan.patch is not None:
            client.pool.update(*args, parameters=plan.patch)
            log(f"pool: updated pools/{config.batch.pool}")
    except AzureError as exc:
        raise DeployError(f"pool: writing Batch pool `{config.batch.pool}` failed: {azure_reason(exc)}") from exc


def _contains(current: Any, wanted: Any) -> bool:
    """`wanted` is in `current`: every key the repo sets has its value (Batch adds defaults and read-only fields)."""
    if isinstance(wanted, dict):
        return isinstance(current, dict) and all(_contains(current.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(current, list) and len(current) == len(wanted) and all(map(_contains, current, wanted))
    return bool(current == wanted)


def _same_identity(current: Any, wanted: dict[str, Any]) -> bool:
    current = _plain(current or {})
    return bool(current.get("type") == wanted["type"]
                and {k.lower() for k in current.get("userAssignedIdentities", {})} == {k.lower() for k in wanted["userAssignedIdentities"]})


def _plain(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=dict))
