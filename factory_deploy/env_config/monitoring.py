"""The `monitoring` section of `config/<env>.json`: where the factory's run logs go and who is told of failures.

Optional: without it (or with an empty `workspaceResourceId`, as `config/local.json`) deploy manages no
diagnostic setting, alert or saved query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from factory_deploy.env_config.errors import ConfigError

# model.MAY_BE_EMPTY (a key that may be ""; the loader refuses empty strings elsewhere), repeated: model imports this module.
_MAY_BE_EMPTY = "may_be_empty"
WORKSPACE_ID = re.compile(
    r"^/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<group>[^/]+)"
    r"/providers/Microsoft\.OperationalInsights/workspaces/(?P<name>[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9])$",
    re.IGNORECASE,
)
# Action group short names are at most 12 characters (actionGroups_API.json 2023-01-01: groupShortName maxLength 12).
SHORT_NAME_MAX = 12
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class EmailReceiver:
    name: str
    email_address: str

    def __post_init__(self) -> None:
        # A `replace-with-...` placeholder passes here; deploy refuses to publish it (factory_deploy.preflight).
        if not self.email_address.startswith("replace-with-") and not _EMAIL.match(self.email_address):
            raise ConfigError(f"key `monitoring.emailReceivers` entry `{self.name}`: {self.email_address!r} is not an email "
                              "address")


@dataclass(frozen=True)
class MonitoringConfig:
    # The Log Analytics workspace that receives the factory's pipeline, activity and trigger runs (ADF keeps them
    # 45 days); "" = monitoring is not deployed.
    workspace_resource_id: str = field(default="", metadata={_MAY_BE_EMPTY: "no workspace: monitoring is not deployed"})
    action_group: str = ""  # the action group alerts notify (created in the factory's resource group)
    action_group_short_name: str = ""
    email_receivers: tuple[EmailReceiver, ...] = ()
    # Hours without a published curated snapshot before the freshness alert fires (the extraction runs daily).
    freshness_hours: int = 24

    def __post_init__(self) -> None:
        if not self.workspace_resource_id:
            return
        if not WORKSPACE_ID.match(self.workspace_resource_id):
            raise ConfigError(
                f"key `monitoring.workspaceResourceId` is {self.workspace_resource_id!r}: give the workspace's resource id, "
                "/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.OperationalInsights/workspaces/<name>, "
                "or \"\" to deploy no monitoring"
            )
        if not self.action_group or not 1 <= len(self.action_group_short_name) <= SHORT_NAME_MAX:
            raise ConfigError(f"keys `monitoring.actionGroup` and `monitoring.actionGroupShortName` (1-{SHORT_NAME_MAX} "
                              "characters, shown in SMS and email subjects) are needed when a workspace is set")
        if not self.email_receivers:
            raise ConfigError("key `monitoring.emailReceivers` is empty: the alerts would notify nobody; add at least one "
                              '{"name": ..., "emailAddress": ...}')
        if not 1 <= self.freshness_hours <= 48:
            # A log search alert looks back at most two days (windowSize up to P2D).
            raise ConfigError(f"key `monitoring.freshnessHours` must be between 1 and 48, got {self.freshness_hours}")

    @property
    def enabled(self) -> bool:
        return bool(self.workspace_resource_id)

    def workspace(self) -> tuple[str, str, str]:
        """(subscription, resource group, name) of the workspace."""
        match = WORKSPACE_ID.match(self.workspace_resource_id)
        assert match is not None  # checked in __post_init__
        return match["subscription"], match["group"], match["name"]
