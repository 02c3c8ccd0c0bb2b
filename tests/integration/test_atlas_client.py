"""activities.common.atlas.AtlasClient against the fake Atlas server on 127.0.0.1: retries, tokens, clear failures.

Nothing sleeps: the client gets a ``sleep`` that records the delays it was asked for.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from activities.common.atlas import AtlasClient, AtlasRequest, create_typedefs, get_typedef, upsert_entities
from activities.common.errors import ActivityConfigError, AtlasAuthError, AtlasFatalError, AtlasRetriesExhaustedError
from activities.common.logs import redact
from tests.fake_atlas import FakeAtlas

ZONE = {"enumDefs": [{"name": "spotify_zone", "elementDefs": [{"value": "raw", "ordinal": 0}]}]}


@pytest.fixture
def atlas() -> Iterator[FakeAtlas]:
    with FakeAtlas() as fake:
        yield fake


@dataclass
class Sleeps:
    delays: list[float]

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@dataclass
class Token:
    token: str
    expires_on: int


class FakeCredential:
    """Mints tok-1, tok-2, ...; ``refuse`` makes it raise as DefaultAzureCredential does without a login."""

    def __init__(self, refuse: bool = False) -> None:
        self.issued = 0
        self.refuse = refuse

    def get_token(self, *scopes: str, **kwargs: Any) -> Token:
        from azure.core.exceptions import ClientAuthenticationError

        assert scopes == ("https://purview.azure.net/.default",)
        if self.refuse:
            raise ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token from the included credentials.")
        self.issued += 1
        return Token(f"tok-{self.issued}", 4_102_444_800)


def _client(atlas: FakeAtlas, sleeps: Sleeps, **kwargs: Any) -> AtlasClient:
    return AtlasClient(atlas.endpoint, credential=kwargs.pop("credential", None), sleep=sleeps, jitter=lambda: 1.0, **kwargs)


def test_when_atlas_answers_429_once_then_the_client_waits_retry_after_and_succeeds(atlas: FakeAtlas) -> None:
    sleeps = Sleeps([])
    atlas.fail("POST", "/types/typedefs", 429, retry_after="7")

    answer = _client(atlas, sleeps).send(create_typedefs(ZONE))

    assert answer["enumDefs"][0]["name"] == "spotify_zone"
    assert sleeps.delays == [7.0]
    assert [(r.method, r.status) for r in atlas.received] == [("POST", 429), ("POST", 200)]
    assert all(dict(r.params)["api-version"] == "2023-09-01" for r in atlas.received)


def test_when_atlas_answers_500_without_retry_after_then_the_client_backs_off_and_succeeds(atlas: FakeAtlas) -> None:
    sleeps = Sleeps([])
    atlas.fail("POST", "/types/typedefs", 500, times=2)

    _client(atlas, sleeps, backoff_seconds=0.5).send(create_typedefs(ZONE))

    assert sleeps.delays == [0.5, 1.0]  # doubling backoff (jitter pinned to its ceiling)
    assert "spotify_zone" in atlas.state.typedefs


def test_when_atlas_keeps_answering_500_then_the_error_names_account_request_status_and_attempts(atlas: FakeAtlas) -> None:
    sleeps = Sleeps([])
    atlas.fail("POST", "/entity/bulk", 500, times=10, retry_after="0")

    with pytest.raises(AtlasRetriesExhaustedError) as caught:
        _client(atlas, sleeps, max_attempts=3).send(upsert_entities([], "lineage of run r1"))

    message = str(caught.value)
    assert f"Purview {atlas.endpoint}: POST /datamap/api/atlas/v2/entity/bulk (upsert 0 entities (lineage of run r1))" in message
    assert "returned HTTP 500: ATLAS-500-00-000: injected fault (request id fake-request)" in message
    assert "gave up after 3 attempts" in message
    assert (caught.value.status, caught.value.path) == (500, "/entity/bulk")
    assert len(atlas.received) == 3


def test_when_retry_after_would_pass_the_wait_cap_then_the_client_gives_up_at_once(atlas: FakeAtlas) -> None:
    sleeps = Sleeps([])
    atlas.fail("GET", "/types/typedef", 429, retry_after="600")

    with pytest.raises(AtlasRetriesExhaustedError, match=r"waiting 600\.0 s more would pass the 120 s cap"):
        _client(atlas, sleeps).send(get_typedef("spotify_zone"))

    assert sleeps.delays == []


def test_when_atlas_refuses_with_403_then_it_is_not_retried_and_the_fix_is_named(atlas: FakeAtlas) -> None:
    sleeps = Sleeps([])
    atlas.fail("POST", "/types/typedefs", 403)

    with pytest.raises(AtlasFatalError, match=r"HTTP 403.*Data Curator role on the Purview account's root collection"):
        _client(atlas, sleeps).send(create_typedefs(ZONE))

    assert len(atlas.received) == 1 and sleeps.delays == []


def test_when_an_entity_type_is_unknown_then_the_error_quotes_atlas_and_says_to_publish_the_types(atlas: FakeAtlas) -> None:
    entity = {"typeName": "spotify_table", "attributes": {"qualifiedName": "spotify://a/curated/tracks", "name": "tracks"}}

    with pytest.raises(AtlasFatalError) as caught:
        _client(atlas, Sleeps([])).send(upsert_entities([entity], "tables"))

    assert "HTTP 400: ATLAS-400-00-014: Type ENTITY with name spotify_table does not exist" in str(caught.value)
    assert "publish purview/typedefs.json first: python scripts/deploy.py --env <env> --only purview" in str(caught.value)


def test_when_a_read_may_miss_then_a_404_answers_none(atlas: FakeAtlas) -> None:
    assert _client(atlas, Sleeps([])).send(get_typedef("spotify_table")) is None


def test_when_a_credential_is_given_then_every_request_carries_its_token_and_a_401_refreshes_it_once(atlas: FakeAtlas) -> None:
    credential = FakeCredential()
    client = _client(atlas, Sleeps([]), credential=credential)
    atlas.fail("GET", "/types/typedef", 401)

    client.send(get_typedef("a"))
    client.send(get_typedef("b"))

    assert [r.authorization for r in atlas.received] == ["Bearer tok-1", "Bearer tok-2", "Bearer tok-2"]
    assert credential.issued == 2


def test_when_the_token_is_refused_twice_then_the_error_says_so_without_the_token(atlas: FakeAtlas) -> None:
    atlas.fail("GET", "/types/typedef", 401, times=2)

    with pytest.raises(AtlasAuthError) as caught:
        _client(atlas, Sleeps([]), credential=FakeCredential()).send(get_typedef("a"))

    assert "HTTP 401" in str(caught.value) and "the token was refused" in str(caught.value)
    assert "tok-" not in str(caught.value)
    assert redact("Bearer tok-2 and tok-1") == "Bearer *** and ***"  # tokens are registered with the log redactor


def test_when_no_token_can_be_had_then_the_error_says_how_to_get_one(atlas: FakeAtlas) -> None:
    with pytest.raises(AtlasAuthError, match=r"no token for https://purview.azure.net/.default: ClientAuthenticationError.*az login"):
        _client(atlas, Sleeps([]), credential=FakeCredential(refuse=True)).send(get_typedef("a"))

    assert atlas.received == []


def test_when_nothing_listens_then_connection_errors_are_retried_then_named() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = Sleeps([])
    client = AtlasClient(f"http://127.0.0.1:{port}", credential=None, sleep=sleeps, jitter=lambda: 1.0, backoff_seconds=0.1)

    with pytest.raises(AtlasRetriesExhaustedError, match=r"GET /datamap/api/atlas/v2/types/typedef/name/a .* failed: ConnectionError"):
        client.send(AtlasRequest("GET", "/types/typedef/name/a", "read type definition a"))

    assert len(sleeps.delays) == 3


def test_when_the_endpoint_is_plain_http_to_another_host_then_it_is_refused() -> None:
    with pytest.raises(ActivityConfigError, match=r"give https://<account>.purview.azure.com"):
        AtlasClient("http://pv-spotify-dev.purview.azure.com", credential=FakeCredential())
