"""Integration tests: fault injection of the twin over real HTTP."""

from __future__ import annotations

import time

import pytest
import requests

from offline.spotify_twin.routes import ROUTES
from offline.spotify_twin.server import RESET_STATUS
from tests.twin_fixtures import (
    HTTP_TIMEOUT_S,
    assert_matches_schema,
    assert_spotify_error,
    bearer_session,
    fetch_token,
    refresh_grant,
    response_schema,
    start_twin,
    user_session,
)

# Faults hit every route in either access mode; this one answers 200 in both (the default is development).
PROBE = "/search?q=night&type=album&limit=1"


def test_when_429_probability_is_one_then_every_api_call_is_429_with_retry_after() -> None:
    with start_twin("429=1.0") as twin:
        session = bearer_session(twin.token_url)  # the token endpoint is never faulted
        truth = twin.truth()
        urls = [
            f"{twin.api_base_url}{PROBE}",
            f"{twin.api_base_url}/albums?ids={truth['albums'][0]}",
            f"{twin.api_base_url}/albums/{truth['albums'][0]}/tracks",
            f"{twin.api_base_url}/tracks/{truth['tracks'][0]}",
            f"{twin.api_base_url}/artists?ids={truth['artists'][0]}",
        ]

        responses = [session.get(url, timeout=HTTP_TIMEOUT_S) for url in urls]

    for response in responses:
        assert_spotify_error(response, 429)
        assert_matches_schema(response.json(), response_schema("/albums", 429))
        assert response.headers["Retry-After"] == "1"


def test_when_token_expires_after_3_requests_then_4th_call_is_401_and_a_new_token_works() -> None:
    with start_twin("expire_token_after=3") as twin:
        url = f"{twin.api_base_url}{PROBE}"
        session = bearer_session(twin.token_url)

        statuses = [session.get(url, timeout=HTTP_TIMEOUT_S).status_code for _ in range(3)]
        expired = session.get(url, timeout=HTTP_TIMEOUT_S)
        session.headers["Authorization"] = f"Bearer {fetch_token(twin.token_url)}"
        renewed = session.get(url, timeout=HTTP_TIMEOUT_S)

    assert statuses == [200, 200, 200]
    assert_spotify_error(expired, 401)
    assert expired.json()["error"]["message"] == "The access token expired"
    assert renewed.status_code == 200


def test_when_500_probability_is_one_then_server_error_json() -> None:
    with start_twin("500=1.0") as twin:
        session = bearer_session(twin.token_url)
        response = session.get(f"{twin.api_base_url}{PROBE}", timeout=HTTP_TIMEOUT_S)

    assert_spotify_error(response, 500)


def test_when_reset_probability_is_one_then_connection_drops_without_response() -> None:
    with start_twin("reset=1.0") as twin:
        session = bearer_session(twin.token_url)

        with pytest.raises(requests.ConnectionError):
            session.get(f"{twin.api_base_url}{PROBE}", timeout=HTTP_TIMEOUT_S)
        log = twin.request_log

    assert log[-1] == ("GET", "/v1" + PROBE, RESET_STATUS)


def test_when_timeout_fault_hits_then_client_read_times_out() -> None:
    with start_twin("timeout=1.0,timeout_s=2") as twin:
        session = bearer_session(twin.token_url)

        with pytest.raises(requests.ReadTimeout):
            session.get(f"{twin.api_base_url}{PROBE}", timeout=0.3)


def test_when_latency_is_set_then_every_response_including_token_is_delayed() -> None:
    with start_twin("latency_ms=150") as twin:
        started = time.perf_counter()
        session = bearer_session(twin.token_url)
        response = session.get(f"{twin.api_base_url}{PROBE}", timeout=HTTP_TIMEOUT_S)
        elapsed = time.perf_counter() - started

    assert response.status_code == 200
    assert elapsed >= 0.3


def test_when_same_seed_and_faults_then_same_status_sequence() -> None:
    def statuses(fault_seed: int) -> list[int]:
        with start_twin("429=0.3,503=0.2", fault_seed=fault_seed) as twin:
            session = bearer_session(twin.token_url)
            url = f"{twin.api_base_url}{PROBE}"
            return [session.get(url, timeout=HTTP_TIMEOUT_S).status_code for _ in range(25)]

    first, second, other = statuses(5), statuses(5), statuses(6)

    assert first == second
    assert first != other
    assert set(first) == {200, 429, 503}


def test_when_429_probability_is_one_then_every_route_is_429_but_the_refresh_grant_is_not() -> None:
    with start_twin("429=1.0") as twin:
        truth = twin.truth()
        app = bearer_session(twin.token_url)
        user = user_session(twin.token_url)  # the refresh grant is never faulted (latency aside)
        ids = {"id": truth["artists"][0], "category_id": truth["categories"][0]}
        responses = []
        for route in ROUTES:
            path = route.pattern.removeprefix("/v1").format(**ids)
            session = user if route.user_only else app
            responses.append((route.pattern, session.get(f"{twin.api_base_url}{path}", timeout=HTTP_TIMEOUT_S)))

    assert len(responses) == len(ROUTES) >= 30
    for pattern, response in responses:
        assert response.status_code == 429, pattern
        assert_spotify_error(response, 429)
        assert response.headers["Retry-After"] == "1"


def test_when_latency_is_set_then_the_refresh_grant_is_delayed_too() -> None:
    with start_twin("latency_ms=150,500=1.0") as twin:
        started = time.perf_counter()
        response = refresh_grant(twin.token_url)
        elapsed = time.perf_counter() - started

    assert response.status_code == 200
    assert elapsed >= 0.15


def test_when_tokens_expire_after_2_requests_then_user_tokens_expire_too() -> None:
    with start_twin("expire_token_after=2") as twin:
        session = user_session(twin.token_url)
        url = f"{twin.api_base_url}/me"

        statuses = [session.get(url, timeout=HTTP_TIMEOUT_S).status_code for _ in range(3)]

    assert statuses == [200, 200, 401]
