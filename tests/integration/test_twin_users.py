"""Integration tests: several allow-listed users, refresh-token rotation, activity that moves with the calendar and
the per-run ground truth, over real HTTP (development mode, the default)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from offline.spotify_twin import TwinError, TwinServer
from offline.spotify_twin.auth import fingerprint
from offline.spotify_twin.catalog import CATALOG_AS_OF
from offline.spotify_twin.rows import epoch_millis
from tests.twin_fixtures import (
    HTTP_TIMEOUT_S,
    TWIN_CLIENT_ID,
    TWIN_REFRESH_TOKEN,
    TWIN_SECRET,
    assert_matches_schema,
    bearer_session,
    refresh_grant,
    response_schema,
    start_twin,
    walk_pages,
    without_null_fields,
)

TOKENS = [f"refresh-token-of-user-{n}" for n in range(5)]
DAY = CATALOG_AS_OF + timedelta(days=3)
REPO_ROOT = Path(__file__).resolve().parents[2]


def _session(twin: TwinServer, refresh_token: str) -> requests.Session:  # noqa: F811
    response = refresh_grant(twin.token_url, refresh_token)
    assert response.status_code == 200, response.text
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return session


@pytest.fixture(scope="module")
def users_twin() -> Iterator[TwinServer]:
    server = start_twin(refresh_token=None, refresh_tokens=TOKENS, as_of=DAY)
    try:
        yield server
    finally:
        server.stop()


def _get(session: requests.Session, twin: TwinServer, path: str, **params: Any) -> requests.Response:  # noqa: F811
    return session.get(f"{twin.api_base_url}{path}", params=params, timeout=HTTP_TIMEOUT_S)


# ---- several users ------------------------------------------------------------------------------------------------


def test_when_five_users_refresh_then_each_token_is_its_own_user_with_its_own_library(users_twin: TwinServer) -> None:
    truth = users_twin.truth()
    seen = []
    for n, token in enumerate(TOKENS):
        session = _session(users_twin, token)
        me = _get(session, users_twin, "/me").json()
        playlists = [p["id"] for page in walk_pages(session, f"{users_twin.api_base_url}/me/playlists?limit=50")
                     for p in page["items"]]
        saved = [i["track"]["id"] for page in walk_pages(session, f"{users_twin.api_base_url}/me/tracks?limit=50")
                 for i in page["items"]]
        assert me["id"] == truth["users"][n]["id"]
        assert playlists == truth["users"][n]["playlists"]
        assert saved == [s[0] for s in truth["users"][n]["saved_tracks"]]
        seen.append(me["id"])
    assert len(set(seen)) == 5


def test_when_users_read_playlist_items_then_owners_and_collaborators_get_them_and_followers_403(
    users_twin: TwinServer,
) -> None:
    truth = users_twin.truth()
    for n, token in enumerate(TOKENS):
        session = _session(users_twin, token)
        mine = truth["users"][n]
        readable = set(mine["owned_playlists"]) | set(mine["collaborative_playlists"])
        for playlist_id in mine["playlists"]:
            owner = users_twin.catalog.playlist_by_id[playlist_id].owner_id
            items = _get(session, users_twin, f"/playlists/{playlist_id}/items")
            if playlist_id in readable:
                assert items.status_code == 200, (n, playlist_id)
                assert items.json()["total"] == len(truth["playlist_items"][playlist_id])
            elif owner == "spotify":
                assert items.status_code == 404  # Spotify-owned editorial playlists are gone for new apps
            else:
                assert items.status_code == 403, (n, playlist_id)
                assert "items" not in _get(session, users_twin, f"/playlists/{playlist_id}").json()
        assert mine["owned_playlists"] and (mine["collaborative_playlists"] or n == 4)


def test_when_more_than_five_tokens_or_a_repeated_one_is_given_then_one_clear_error() -> None:
    with pytest.raises(TwinError, match="at most 5 allow-listed users"):
        TwinServer(refresh_tokens=[*TOKENS, "sixth"])
    with pytest.raises(TwinError, match="same refresh token"):
        TwinServer(refresh_tokens=["a", "a"])
    with pytest.raises(TwinError, match="not both"):
        TwinServer(refresh_token="a", refresh_tokens=["b"])


# ---- the calendar over HTTP ----------------------------------------------------------------------------------------


def _plays(session: requests.Session, twin: TwinServer, **cursor: int) -> list[dict[str, Any]]:  # noqa: F811
    query = "&".join(f"{k}={v}" for k, v in cursor.items())
    pages = walk_pages(session, f"{twin.api_base_url}/me/player/recently-played?limit=50&{query}")
    for page in pages:  # Spotify sends null `next`, `cursors` and `context` where the spec says object
        checkable = without_null_fields(page, "next", "cursors")
        checkable["items"] = [without_null_fields(i, "context") for i in page["items"]]
        assert_matches_schema(checkable, response_schema("/me/player/recently-played", 200), development=True)
    return [item for page in pages for item in page["items"]]


def test_when_the_next_day_is_served_then_after_the_last_seen_play_gives_exactly_that_days_plays() -> None:
    with start_twin(as_of=DAY) as day_1, start_twin(as_of=DAY + timedelta(days=1)) as day_2:
        first = _plays(_session(day_1, TWIN_REFRESH_TOKEN), day_1)
        newest = int(datetime.fromisoformat(first[0]["played_at"].replace("Z", "+00:00")).timestamp() * 1000)
        later = _plays(_session(day_2, TWIN_REFRESH_TOKEN), day_2, after=newest)
        truth_2 = day_2.truth()["users"][0]

    assert len(first) == 50  # Spotify keeps only the newest 50 plays
    day_2_plays = [p for p in truth_2["recently_played"] if p[1].startswith((DAY + timedelta(days=1)).isoformat())]
    assert [(i["track"]["id"], i["played_at"]) for i in later] == [tuple(p) for p in day_2_plays][:50]
    assert later and all(i["played_at"].startswith((DAY + timedelta(days=1)).isoformat()) for i in later)


def test_when_a_date_is_served_twice_then_the_answers_are_the_same() -> None:
    bodies = []
    for _ in range(2):
        with start_twin(as_of=DAY) as twin:
            session = _session(twin, TWIN_REFRESH_TOKEN)
            answers = [_get(session, twin, path).text for path in ("/me/tracks", "/me/player/recently-played")]
            answers.append(_get(bearer_session(twin.token_url), twin, "/search", q="tag:new", type="album").text)
            bodies.append([a.replace(twin.origin, "") for a in answers])  # each twin has its own port

    assert bodies[0] == bodies[1]
    assert json.loads(bodies[0][2])["albums"]["items"]


def test_when_saved_tracks_are_read_after_a_day_then_newest_first_with_that_days_saves_on_top() -> None:
    with start_twin(as_of=DAY) as twin:
        session = _session(twin, TWIN_REFRESH_TOKEN)
        items = [i for page in walk_pages(session, f"{twin.api_base_url}/me/tracks?limit=50") for i in page["items"]]

    added = [i["added_at"] for i in items]
    assert added == sorted(added, reverse=True)
    assert CATALOG_AS_OF.isoformat() < added[0][:10] <= DAY.isoformat()  # saved on the days since


# ---- rotation over HTTP and the run's record ------------------------------------------------------------------------


def _cli(tmp_path: Path, tokens: list[str], label: str, *args: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPOTIFY_TWIN_")}
    env |= {"SPOTIFY_TWIN_CLIENT_SECRET": TWIN_SECRET, "SPOTIFY_TWIN_REFRESH_TOKENS": json.dumps(tokens)}
    process = subprocess.Popen(
        [sys.executable, "-m", "offline.spotify_twin", "--port", "0", "--scale", "0.1", "--client-id", TWIN_CLIENT_ID,
         "--rotate-refresh-tokens", "--served-out", str(tmp_path / f"{label}-served.json"), *args],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    return process.communicate(timeout=20)[1]


def test_when_a_run_rotates_the_token_then_the_next_run_started_with_it_is_proven_by_the_records(
    tmp_path: Path,
) -> None:
    first, event = _cli(tmp_path, ["t0-user-0", "t0-user-1"], "run-1", "--as-of", DAY.isoformat())
    try:
        grant = refresh_grant(event["token_url"], "t0-user-1").json()
        rotated = grant["refresh_token"]
        again = refresh_grant(event["token_url"], "t0-user-1").json()  # a concurrent process, same old token
    finally:
        stderr_1 = _stop(first)
    second, event = _cli(tmp_path, ["t0-user-0", rotated], "run-2", "--as-of", (DAY + timedelta(days=1)).isoformat())
    try:
        with_rotated = refresh_grant(event["token_url"], rotated)
        old = refresh_grant(event["token_url"], "t0-user-1")
    finally:
        stderr_2 = _stop(second)

    run_1 = json.loads((tmp_path / "run-1-served.json").read_text())
    run_2 = json.loads((tmp_path / "run-2-served.json").read_text())
    user_1 = run_1["users"][1]
    assert again["refresh_token"] == rotated
    assert with_rotated.status_code == 200 and old.status_code == 400
    assert [g["issued_sha256"] for g in run_1["refresh_grants"]] == [fingerprint(rotated)] * 2
    assert run_2["started_with_sha256"][user_1] == fingerprint(rotated)
    assert run_2["refresh_grants"][0] == {"user_id": user_1, "presented_sha256": fingerprint(rotated),
                                          "outcome": "ok", "issued_sha256": run_2["refresh_grants"][0]["issued_sha256"]}
    assert run_1["run"]["as_of"] == DAY.isoformat() and run_2["run"]["as_of"] == (DAY + timedelta(days=1)).isoformat()
    everything = "".join((tmp_path / f).read_text() for f in ("run-1-served.json", "run-2-served.json"))
    for secret in ("t0-user-1", rotated, TWIN_SECRET):
        assert secret not in everything and secret not in stderr_1 + stderr_2


def test_when_the_tokens_variable_is_not_a_json_list_then_one_clear_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPOTIFY_TWIN_")}
    env |= {"SPOTIFY_TWIN_CLIENT_SECRET": TWIN_SECRET, "SPOTIFY_TWIN_REFRESH_TOKENS": "t1,t2"}
    result = subprocess.run([sys.executable, "-m", "offline.spotify_twin", "--port", "0"], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=30)

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        'offline.spotify_twin: error: SPOTIFY_TWIN_REFRESH_TOKENS must be a JSON list of refresh tokens, '
        'e.g. ["token-1", "token-2"]'
    ]
    assert "t1,t2" not in result.stderr


def test_when_a_plays_cursor_is_a_date_then_epoch_millis_match_the_api(users_twin: TwinServer) -> None:
    session = _session(users_twin, TOKENS[2])
    items = _get(session, users_twin, "/me/player/recently-played", limit=2).json()

    played = datetime.fromisoformat(items["items"][0]["played_at"].replace("Z", "+00:00"))
    assert items["cursors"]["after"] == str(epoch_millis(played))
    assert date.fromisoformat(items["items"][0]["played_at"][:10]) == DAY
