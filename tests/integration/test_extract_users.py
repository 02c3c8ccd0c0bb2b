"""Several allow-listed users and refresh-token rotation, through the extract activity as Azure Batch runs it
(a task working directory, the Key Vault linked service pointing at the folder stand-in): each user's parts carry
that user's id, a rotated refresh token is written back to the store, and the next run presents it."""

from __future__ import annotations

import gzip
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from activities.common import FolderSecretStore, LocalFolderStorage, SecureString
from offline.spotify_twin import TwinServer
from offline.spotify_twin.auth import fingerprint
from tests.extract_task import CLIENT_ID, CLIENT_SECRET, make_workdir, run_extract

DAY = date(2026, 11, 24)
USERS = [{"name": "ana", "refreshTokenSecretName": "spotify-refresh-token-ana"},
         {"name": "bo", "refreshTokenSecretName": "spotify-refresh-token-bo"}]
START_TOKENS = ["ana-start-t0ken-4c1f", "bo-start-t0ken-9e2a"]


def activity_run(base: Path, twin: TwinServer, vault: Path, storage_root: Path, day: date) -> dict[str, Any]:
    workdir = make_workdir(base, twin, {"serviceEndpoint": storage_root.as_uri()}, "raw", accessMode="development",
                           users=USERS, ingestDate=day.isoformat(), runId=f"run-{day.isoformat()}",
                           sources=["user_profile", "recently_played", "saved_tracks"])
    services = json.loads((workdir / "linkedServices.json").read_text())
    services[1]["properties"]["typeProperties"]["baseUrl"] = vault.as_uri() + "/"
    (workdir / "linkedServices.json").write_text(json.dumps(services))
    result = run_extract(workdir, SPOTIFY_CLIENT_SECRET="")  # secrets come from the folder store only
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((workdir / "outputs.json").read_text())  # type: ignore[no-any-return]


def test_when_two_users_run_and_tokens_rotate_then_parts_carry_each_user_and_the_next_run_presents_the_new_token(
        tmp_path: Path) -> None:
    # Arrange
    vault = FolderSecretStore(tmp_path / "keyvault")
    vault.set("spotify-client-secret", SecureString(CLIENT_SECRET))
    for user, token in zip(USERS, START_TOKENS):
        vault.set(user["refreshTokenSecretName"], SecureString(token))
    storage = LocalFolderStorage(tmp_path / "storage")
    with TwinServer(seed=42, scale=0.2, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                    refresh_tokens=START_TOKENS, rotate_refresh_tokens=True, as_of=DAY) as twin:
        # Act: day 1 rotates both tokens; day 2 (another task, same store) must present the rotated ones
        first = activity_run(tmp_path / "day1", twin, vault.folder, storage.root, DAY)
        rotated = [vault.get(user["refreshTokenSecretName"]).reveal() for user in USERS]
        activity_run(tmp_path / "day2", twin, vault.folder, storage.root, DAY + timedelta(days=1))
        grants = twin.refresh_grants()
        user_ids = [user["id"] for user in twin.truth()["users"][:2]]

    # Assert: the store holds new tokens, each issued by the twin and then presented by the day-2 run
    assert rotated != START_TOKENS and all(rotated)
    issued = {grant["issued_sha256"] for grant in grants if grant["issued_sha256"]}
    assert {fingerprint(token) for token in rotated} <= issued
    presented_later = {grant["presented_sha256"] for grant in grants if grant["outcome"] != "invalid_grant"}
    assert {fingerprint(token) for token in rotated} <= presented_later
    assert not any(grant["outcome"] == "invalid_grant" for grant in grants), grants
    # Each user's parts carry that user's id; the secrets are nowhere in the outputs or the raw zone
    manifest = json.loads(storage.read_bytes("raw", first["manifest"].split("/", 1)[1]))
    by_user = {part["user_id"] for part in manifest["parts"] if part["entity"] == "recently_played"}
    assert by_user == set(user_ids)
    for part in manifest["parts"]:
        body = gzip.decompress(storage.read_bytes("raw", part["path"]))
        assert not any(token.encode() in body for token in START_TOKENS + rotated)
    assert not any(token in json.dumps(first) for token in START_TOKENS + rotated)
