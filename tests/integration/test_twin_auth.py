"""Integration tests: the twin's accounts token endpoint and bearer checks over real HTTP."""

from __future__ import annotations

import logging

import pytest
import requests

from offline.spotify_twin import TwinServer
from tests.twin_fixtures import (
    HTTP_TIMEOUT_S,
    TWIN_CLIENT_ID,
    TWIN_SECRET,
    assert_matches_schema,
    assert_spotify_error,
    fetch_token,
    named_response_schema,
    response_schema,
    twin,  # noqa: F401 - pytest fixtures, used by name
)

GRANT = {"grant_type": "client_credentials"}


def test_when_basic_auth_is_right_then_bearer_token_for_an_hour(twin: TwinServer) -> None:  # noqa: F811
    response = requests.post(twin.token_url, data=GRANT, auth=(TWIN_CLIENT_ID, TWIN_SECRET), timeout=HTTP_TIMEOUT_S)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert len(body["access_token"]) > 40


def test_when_credentials_are_form_fields_then_token_is_issued(twin: TwinServer) -> None:  # noqa: F811
    data = {**GRANT, "client_id": TWIN_CLIENT_ID, "client_secret": TWIN_SECRET}

    response = requests.post(twin.token_url, data=data, timeout=HTTP_TIMEOUT_S)

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("client_id", "secret"), [(TWIN_CLIENT_ID, "wrong-secret"), ("someone-else", TWIN_SECRET), (TWIN_CLIENT_ID, "")]
)
def test_when_credentials_are_wrong_then_400_invalid_client(twin: TwinServer, client_id: str, secret: str) -> None:  # noqa: F811
    response = requests.post(twin.token_url, data=GRANT, auth=(client_id, secret), timeout=HTTP_TIMEOUT_S)

    assert response.status_code == 400
    assert response.json() == {"error": "invalid_client", "error_description": "Invalid client"}


def test_when_grant_type_is_missing_or_other_then_400_unsupported_grant_type(twin: TwinServer) -> None:  # noqa: F811
    auth = (TWIN_CLIENT_ID, TWIN_SECRET)

    missing = requests.post(twin.token_url, data={}, auth=auth, timeout=HTTP_TIMEOUT_S)
    other = requests.post(twin.token_url, data={"grant_type": "password"}, auth=auth, timeout=HTTP_TIMEOUT_S)

    for response in (missing, other):
        assert response.status_code == 400
        assert response.json()["error"] == "unsupported_grant_type"


def test_when_no_bearer_is_sent_then_401_no_token_provided(twin: TwinServer) -> None:  # noqa: F811
    response = requests.get(f"{twin.api_base_url}/browse/new-releases", timeout=HTTP_TIMEOUT_S)

    assert_spotify_error(response, 401)
    assert_matches_schema(response.json(), response_schema("/browse/new-releases", 401))
    assert response.json()["error"]["message"] == "No token provided"


def test_when_bearer_is_unknown_then_401_invalid_access_token(twin: TwinServer) -> None:  # noqa: F811
    response = requests.get(
        f"{twin.api_base_url}/browse/new-releases", headers={"Authorization": "Bearer nope"}, timeout=HTTP_TIMEOUT_S
    )

    assert_spotify_error(response, 401)
    assert_matches_schema(response.json(), named_response_schema("Unauthorized"))
    assert response.json()["error"]["message"] == "Invalid access token"


def test_when_requests_are_logged_then_no_secret_or_token_appears(
    twin: TwinServer, caplog: pytest.LogCaptureFixture  # noqa: F811
) -> None:
    caplog.set_level(logging.INFO, logger="offline.spotify_twin")

    token = fetch_token(twin.token_url)
    requests.get(
        f"{twin.api_base_url}/browse/new-releases?limit=1&access_token={token}",
        headers={"Authorization": f"Bearer {token}"}, timeout=HTTP_TIMEOUT_S,
    )

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "/api/token" in logged and "/v1/browse/new-releases" in logged
    assert token not in logged and TWIN_SECRET not in logged
    assert all(token not in path for _, path, _ in twin.request_log if "access_token" not in path)
    assert TWIN_SECRET not in repr(vars(twin))
