"""The extract activity's settings, read once from the activity's extended properties."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from activities.common.context import ActivityContext
from activities.common.errors import ActivityConfigError

# ADF run ids are GUIDs; anything that is safe as one blob path segment is accepted.
_RUN_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_MARKET_RE = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class ExtractConfig:
    ingest_date: date
    run_id: str
    api_base_url: str
    token_url: str
    client_id: str
    client_secret_name: str
    markets: tuple[str, ...]
    new_releases_limit: int
    storage_linked_service: str
    key_vault_linked_service: str
    raw_container: str
    # Optional tuning (not in every pipeline): retry budget of the HTTP client.
    http_max_attempts: int = 5
    http_backoff_seconds: float = 1.0
    http_max_wait_seconds: float = 120.0

    @property
    def market(self) -> str:
        """The market albums are requested for: the first configured one."""
        return self.markets[0]

    @classmethod
    def from_context(cls, context: ActivityContext) -> ExtractConfig:
        """Build and validate the config; every problem names the extended property and the fix."""
        ingest_text = context.get_str("ingestDate")
        try:
            ingest_date = date.fromisoformat(ingest_text)
            if len(ingest_text) != 10:
                raise ValueError(ingest_text)
        except ValueError:
            raise _bad("ingestDate", f"must be a date YYYY-MM-DD, got {ingest_text!r}") from None

        run_id = context.get_str("runId")
        if not _RUN_ID_RE.match(run_id):
            raise _bad("runId", f"must be letters, digits, '.', '_' or '-' (it names a folder), got {run_id!r}")

        api_base_url = context.get_str("apiBaseUrl").rstrip("/")
        token_url = context.get_str("tokenUrl")
        for name, url in (("apiBaseUrl", api_base_url), ("tokenUrl", token_url)):
            if not url.startswith(("https://", "http://")):
                raise _bad(name, f"must be an http(s) URL, got {url!r}")

        markets_raw = context.get_list("markets")
        markets = tuple(str(market).strip().upper() for market in markets_raw)
        if not markets or not all(_MARKET_RE.match(market) for market in markets):
            raise _bad("markets", f"must be a non-empty array of ISO 3166-1 alpha-2 codes, got {markets_raw!r}")

        limit = context.get_int("newReleasesLimit")
        if limit < 1:
            raise _bad("newReleasesLimit", f"must be at least 1, got {limit}")

        max_attempts = context.get_int("httpMaxAttempts", 5)
        if max_attempts < 1:
            raise _bad("httpMaxAttempts", f"must be at least 1, got {max_attempts}")
        backoff = context.get_float("httpBackoffSeconds", 1.0)
        max_wait = context.get_float("httpMaxWaitSeconds", 120.0)
        if backoff < 0 or max_wait < 0:
            raise _bad("httpBackoffSeconds", "and httpMaxWaitSeconds must not be negative")

        return cls(
            ingest_date=ingest_date,
            run_id=run_id,
            api_base_url=api_base_url,
            token_url=token_url,
            client_id=context.get_str("clientId"),
            client_secret_name=context.get_str("clientSecretName"),
            markets=markets,
            new_releases_limit=limit,
            storage_linked_service=context.get_str("storageLinkedService"),
            key_vault_linked_service=context.get_str("keyVaultLinkedService"),
            raw_container=context.get_str("rawContainer"),
            http_max_attempts=max_attempts,
            http_backoff_seconds=backoff,
            http_max_wait_seconds=max_wait,
        )


def _bad(name: str, problem: str) -> ActivityConfigError:
    return ActivityConfigError(
        f"extended property `{name}` in activity.json {problem}; fix it in the pipeline's extendedProperties"
    )


__all__ = ["ExtractConfig"]
