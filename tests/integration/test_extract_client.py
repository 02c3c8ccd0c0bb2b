"""activities.extract.client: error classification and retries against a tiny HTTP server on 127.0.0.1
(tests/scripted_api.py).

Nothing sleeps: the client gets a fake ``sleep`` that records the delays it was asked for.
"""

from __future__ import annotations

import base64
import json
import socket

import pytest

from activities.common import SecureString
from activities.common.retry import RetryBudget, RetryPolicy
from activities.extract.client import SpotifyClient
from activities.extract.errors import AuthError, FatalError, RetriesExhaustedError
from tests.scripted_api import (  # noqa: F401 - server is a fixture
    FIXED_NOW,
    SECRET,
    FakeClock,
    ScriptedHandler,
    ScriptedServer,
    api_paths,
    error,
    make_client,
    ok,
    server,
)


def test_when_the_api_answers_200_then_the_body_bytes_come_back_exactly(server: ScriptedServer) -> None:
    # Arrange
    body = b'{ "albums" : [ ],  "odd spacing": "\\u00e9" }'
    server.script.answers["/v1/albums"] = [ok(body)]
    clock = FakeClock()

    # Act
    with make_client(server, clock) as client:
        response = client.get("/albums", {"ids": "a,b", "market": "US"})

    # Assert
    assert response.body == body
    assert response.url.endswith("/v1/albums?ids=a,b&market=US")
    assert response.fetched_at == FIXED_NOW
    assert response.json()["odd spacing"] == "é"
    assert clock.sleeps == []
    assert client.request_count == 1


def test_when_a_token_is_requested_then_it_uses_http_basic_auth_and_is_reused(server: ScriptedServer) -> None:
    # Arrange
    server.script.answers["/v1/x"] = [ok(b"{}")]

    # Act
    with make_client(server, FakeClock()) as client:
        client.get("/x")
        client.get("/x")

    # Assert
    token_requests = [auth for method, _, auth in server.script.requests if method == "POST"]
    expected = "Basic " + base64.b64encode(f"cid:{SECRET}".encode()).decode()
    assert token_requests == [expected]
    assert [auth for method, _, auth in server.script.requests if method == "GET"] == ["Bearer tok-1"] * 2


def test_when_the_token_nears_expiry_then_a_new_one_is_fetched(server: ScriptedServer) -> None:
    # Arrange
    server.script.answers["/v1/x"] = [ok(b"{}")]
    clock = FakeClock()
    client = make_client(server, clock)
    client.get("/x")

    # Act
    clock.now += 3600 - 30  # inside the refresh margin
    client.get("/x")

    # Assert
    assert server.script.tokens_issued == 2
    assert [auth for method, _, auth in server.script.requests if method == "GET"] == ["Bearer tok-1", "Bearer tok-2"]


def test_when_429_with_retry_after_then_the_client_waits_that_long_and_retries(server: ScriptedServer) -> None:
    # Arrange
    server.script.answers["/v1/tracks"] = [error(429, {"Retry-After": "3"}), ok(b'{"tracks":[]}')]
    clock = FakeClock()

    # Act
    response = make_client(server, clock).get("/tracks", {"ids": "t1"})

    # Assert
    assert response.body == b'{"tracks":[]}'
    assert clock.sleeps == [3.0]
    assert len(api_paths(server)) == 2


def test_when_500_persists_then_retries_back_off_exponentially_and_end_in_a_clear_error(server: ScriptedServer) -> None:
    # Arrange
    server.script.answers["/v1/albums"] = [error(500)]
    clock = FakeClock()
    client = make_client(server, clock, retry=RetryPolicy(max_attempts=4, backoff_seconds=1.0))

    # Act / Assert
    with pytest.raises(RetriesExhaustedError) as caught:
        client.get("/albums", {"ids": "a"})
    assert clock.sleeps == [0.5, 1.0, 2.0]  # equal jitter with jitter()=0: half of 1, 2, 4
    assert len(api_paths(server)) == 4
    message = str(caught.value)
    assert message == "GET /v1/albums returned HTTP 500: boom; gave up after 4 attempts (waited 3.50 s in total)"
    assert caught.value.status == 500 and caught.value.path == "/v1/albums"


def test_when_jitter_is_drawn_then_each_delay_stays_within_half_and_full_backoff(server: ScriptedServer) -> None:
    # Arrange
    server.script.answers["/v1/albums"] = [error(503), error(502), ok(b"{}")]
    clock = FakeClock()

    # Act
    make_client(server, clock, jitter=lambda: 0.999).get("/albums")

    # Assert
    assert 0.5 <= clock.sleeps[0] < 1.0 and 1.0 <= clock.sleeps[1] < 2.0


def test_when_retry_after_exceeds_the_cap_then_the_error_states_the_waited_time(server: ScriptedServer) -> None:
    # Arrange
    server.script.answers["/v1/artists"] = [error(429, {"Retry-After": "5"}), error(429, {"Retry-After": "3600"})]
    clock = FakeClock()

    # Act / Assert
    with pytest.raises(RetriesExhaustedError, match=r"HTTP 429.*; gave up after 2 attempts: waiting 3600\.0 s more would "
                                                    r"pass the 60 s cap \(waited 5\.0 s\)"):
        make_client(server, clock, retry=RetryPolicy(max_wait_seconds=60.0)).get("/artists")
    assert clock.sleeps == [5.0]


def test_when_401_then_the_token_is_refreshed_once_and_the_request_retried(server: ScriptedServer) -> None:
    # Arrange
    server.script.answers["/v1/albums"] = [error(401, message="The access token expired"), ok(b"{}")]
    clock = FakeClock()

    # Act
    make_client(server, clock).get("/albums")

    # Assert
    assert server.script.tokens_issued == 2
    assert [auth for method, _, auth in server.script.requests if method == "GET"] == ["Bearer tok-1", "Bearer tok-2"]
    assert clock.sleeps == []


def test_when_401_persists_after_a_refresh_then_auth_error(server: ScriptedServer) -> None:
    # Arrange
    server.script.answers["/v1/albums"] = [error(401, message="Invalid access token")]

    # Act / Assert
    with pytest.raises(AuthError, match=r"GET /v1/albums returned HTTP 401: Invalid access token"):
        make_client(server, FakeClock()).get("/albums")
    assert server.script.tokens_issued == 2


def test_when_404_then_fatal_error_with_status_and_path_and_no_retry(server: ScriptedServer) -> None:
    # Arrange
    server.script.answers["/v1/albums/x/tracks"] = [error(404, message="Non existing id")]
    clock = FakeClock()

    # Act / Assert
    with pytest.raises(FatalError, match=r"GET /v1/albums/x/tracks returned HTTP 404: Non existing id") as caught:
        make_client(server, clock).get("/albums/x/tracks")
    assert caught.value.status == 404
    assert len(api_paths(server)) == 1 and clock.sleeps == []


def test_when_the_token_request_is_refused_then_fatal_error_without_the_secret(server: ScriptedServer) -> None:
    # Arrange
    server.script.token_status = 400

    # Act / Assert
    with pytest.raises(FatalError, match=r"token request POST /api/token was refused: HTTP 400: invalid_client") as caught:
        make_client(server, FakeClock()).get("/albums")
    assert SECRET not in str(caught.value)
    assert "clientId" in str(caught.value)


def test_when_nothing_listens_then_connection_errors_are_retried_then_reported() -> None:
    # Arrange: a port that was free a moment ago, so connecting is refused at once
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    clock = FakeClock()
    client = SpotifyClient(
        api_base_url=f"http://127.0.0.1:{port}/v1", token_url=f"http://127.0.0.1:{port}/api/token",
        client_id="cid", client_secret=SecureString(SECRET), retry=RetryPolicy(max_attempts=3),
        sleep=clock.sleep, monotonic=clock.monotonic, jitter=lambda: 0.0, timeout=(1.0, 1.0),
    )

    # Act / Assert
    with pytest.raises(RetriesExhaustedError, match=r"^POST /api/token failed: ConnectionError; gave up after 3 attempts"):
        client.get("/albums")
    assert len(clock.sleeps) == 2


def test_when_following_a_next_link_then_it_is_rebased_onto_the_api_base_url(server: ScriptedServer) -> None:
    # Arrange
    client = make_client(server, FakeClock())

    # Act
    url = client.url_for("https://api.spotify.com/v1/browse/new-releases?offset=50&limit=50")

    # Assert
    assert url == f"{client.api_base_url}/browse/new-releases?offset=50&limit=50"


def test_when_a_next_link_leaves_the_api_path_then_it_is_refused(server: ScriptedServer) -> None:
    # Act / Assert
    with pytest.raises(FatalError, match="refusing to follow link /elsewhere"):
        make_client(server, FakeClock()).url_for("https://evil.example/elsewhere?x=1")


def test_when_a_run_has_a_retry_budget_then_a_request_retries_past_its_own_attempts_until_the_budget_is_spent(
        server: ScriptedServer) -> None:
    # Arrange: one attempt per request, but a run-wide budget of 3 retries; the API fails 4 times, then answers
    server.script.answers["/v1/albums"] = [error(500)] * 4 + [ok(b'{"albums": []}')]
    clock = FakeClock()
    budget = RetryBudget(3)
    client = make_client(server, clock, retry=RetryPolicy(max_attempts=1), retry_budget=budget)

    # Act / Assert: 3 retries spent, the 4th failure ends the request; the next request has no retry left
    with pytest.raises(RetriesExhaustedError, match="the run's retry budget is spent"):
        client.get("/albums")
    assert budget.left == 0 and len(api_paths(server)) == 4
    assert client.get("/albums").json() == {"albums": []}


def test_when_the_daily_quota_is_spent_then_the_429_is_not_retried_and_is_classified_as_quota(
        server: ScriptedServer) -> None:
    # Arrange
    from activities.extract.errors import QuotaExceededError

    body = json.dumps({"error": {"status": 429, "message": "Daily quota exceeded", "reason": "QUOTA_EXCEEDED"}})
    server.script.answers["/v1/me"] = [(429, {"Retry-After": "50000"}, body.encode())]
    clock = FakeClock()

    # Act / Assert
    with pytest.raises(QuotaExceededError, match="daily request quota is spent") as raised:
        make_client(server, clock).get("/me")
    assert raised.value.retry_after == 50000 and clock.sleeps == [] and len(api_paths(server)) == 1


def test_when_the_app_owner_lost_premium_then_the_403_is_its_own_error_naming_the_fix(server: ScriptedServer) -> None:
    from activities.extract.errors import PremiumRequiredError

    server.script.answers["/v1/me"] = [error(403, message="Active premium subscription required for the owner of "
                                                          "the app")]

    with pytest.raises(PremiumRequiredError, match="Premium must be active"):
        make_client(server, FakeClock()).get("/me")


def test_when_the_token_endpoint_rotates_the_refresh_token_then_it_is_handed_back_once(server: ScriptedServer) -> None:
    # Arrange: a token endpoint that rotates the refresh token on its first grant
    rotated: list[str] = []
    original = ScriptedHandler.do_POST

    def rotating(handler: ScriptedHandler) -> None:
        handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        handler.server.script.requests.append(("POST", handler.path, ""))
        body = {"access_token": "tok-user", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "r-2"}
        handler._reply(200, {"Content-Type": "application/json"}, json.dumps(body).encode())

    ScriptedHandler.do_POST = rotating  # type: ignore[method-assign]
    try:
        server.script.answers["/v1/me"] = [error(401), ok(b'{"id": "u1"}')]
        client = make_client(server, FakeClock(), refresh_token=SecureString("r-1"),
                             on_refresh_token=lambda token: rotated.append(token.reveal()))

        # Act: two grants (the first, then the refresh after the 401): only the first one rotates
        client.get("/me", user=True)
    finally:
        ScriptedHandler.do_POST = original  # type: ignore[method-assign]

    # Assert
    assert rotated == ["r-2"]
