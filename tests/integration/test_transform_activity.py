"""Integration tests: `python -m activities.transform` run as Azure Batch runs it.

A raw zone (gzip JSON parts shaped like Spotify responses + the run manifest) is built in a
temporary local folder storage; the task working directory gets activity.json,
linkedServices.json, datasets.json and a copy of the `activities` package; the activity runs as a
subprocess with that directory as cwd.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from activities.common.storage import LocalFolderStorage
from activities.transform.schemas import TABLES
from tests.spotify_payloads import API, NEYO, PITBULL

REPO = Path(__file__).resolve().parents[2]
INGEST_DATE = "2026-11-24"
RUN_ID = "7d3f0c52-8a51-4b8e-9c43-2f1b5e6a0001"
MANIFEST_DIR = f"spotify/manifests/ingest_date={INGEST_DATE}/run_id={RUN_ID}"
TABLE_NAMES = ("albums", "tracks", "artists", "track_artists")

# -- Spotify-shaped payloads -----------------------------------------------------------------------


def simple_track(track_id: str, name: str, number: int, artists: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "artists": artists,
        "available_markets": ["US"],
        "disc_number": 1,
        "duration_ms": 200000 + number,
        "explicit": False,
        "external_urls": {"spotify": f"https://open.spotify.com/track/{track_id}"},
        "href": f"{API}/tracks/{track_id}",
        "id": track_id,
        "name": name,
        "preview_url": None,
        "track_number": number,
        "type": "track",
        "uri": f"spotify:track:{track_id}",
        "is_local": False,
    }


def simple_album(album_id: str, name: str, release_date: str, precision: str, total: int) -> dict[str, Any]:
    return {
        "album_type": "album",
        "total_tracks": total,
        "available_markets": ["US"],
        "external_urls": {"spotify": f"https://open.spotify.com/album/{album_id}"},
        "href": f"{API}/albums/{album_id}",
        "id": album_id,
        "images": [{"url": f"https://i.scdn.co/image/{album_id}", "height": 640, "width": 640}],
        "name": name,
        "release_date": release_date,
        "release_date_precision": precision,
        "type": "album",
        "uri": f"spotify:album:{album_id}",
        "artists": [PITBULL],
    }


def full_album(album: dict[str, Any], tracks: list[dict[str, Any]], next_url: str | None) -> dict[str, Any]:
    return {
        **album,
        "tracks": {
            "href": f"{API}/albums/{album['id']}/tracks?offset=0&limit=2",
            "limit": 2,
            "next": next_url,
            "offset": 0,
            "previous": None,
            "total": album["total_tracks"],
            "items": tracks,
        },
        "copyrights": [{"text": "(P) 2012 RCA", "type": "P"}],
        "external_ids": {"upc": "886443671584"},
        "genres": [],
        "label": "Mr.305/Polo Grounds Music/RCA",
        "popularity": 70,
    }


def full_track(track: dict[str, Any], album: dict[str, Any], popularity: int) -> dict[str, Any]:
    return {
        **track,
        "album": album,
        "external_ids": {"isrc": f"US{track['id'][:10].upper()}"},
        "popularity": popularity,
    }


def full_artist(artist: dict[str, Any], followers: int) -> dict[str, Any]:
    return {
        **artist,
        "followers": {"href": None, "total": followers},
        "genres": ["dance pop"],
        "images": [{"url": f"https://i.scdn.co/image/{artist['id']}", "height": 640, "width": 640}],
        "popularity": 85,
    }


A1 = simple_album("4aawyAB9vmqN3uQ7FjRGTy", "Global Warming", "2012-11", "month", 3)
A2 = simple_album("1ATL5GLyefJaxhQzSPVrLX", "Evolve", "2017-06-23", "day", 1)
A3 = simple_album("6akEvsycLGftJxYudPjmqK", "Only Announced", "0000", "year", 1)  # never fetched in full
T1 = simple_track("6OmhkSOpvYBokMKQxpIGx2", "Global Warming", 1, [PITBULL, NEYO])
T2 = simple_track("2iblMMIgSznA464mNov7A8", "Don't Stop the Party", 2, [PITBULL])
T3 = simple_track("7ouMYWpwJ422jRcDASZB7P", "Feel This Moment", 3, [PITBULL])  # simplified only
T4 = simple_track("4VqPOruhp5EdPBeR92t6lQ", "Believer", 1, [NEYO])


def raw_parts() -> list[tuple[str, str, Any]]:
    """(entity, request_url, body) in the order the extract fetches them."""
    a1_next = f"{API}/albums/{A1['id']}/tracks?offset=2&limit=2"
    return [
        (
            "new_releases",
            f"{API}/browse/new-releases?limit=20&offset=0",
            {
                "albums": {
                    "href": f"{API}/browse/new-releases?offset=0&limit=20",
                    "limit": 20,
                    "next": None,
                    "offset": 0,
                    "previous": None,
                    "total": 3,
                    "items": [A1, A2, A3],
                },
            },
        ),
        (
            "albums",
            f"{API}/albums?ids={A1['id']},{A2['id']},0000000000000000000000&market=US",
            {
                "albums": [full_album(A1, [T1, T2], a1_next), full_album(A2, [T4], None), None],
            },
        ),
        (
            "album_tracks",
            a1_next,
            {
                "href": a1_next,
                "limit": 2,
                "next": None,
                "offset": 2,
                "previous": None,
                "total": 3,
                "items": [T3],
            },
        ),
        (
            "tracks",
            f"{API}/tracks?ids={T1['id']},{T2['id']},{T4['id']}&market=US",
            {
                "tracks": [full_track(T1, A1, 61), full_track(T2, A1, 62), full_track(T4, A2, 64)],
            },
        ),
        (
            "artists",
            f"{API}/artists?ids={PITBULL['id']},{NEYO['id']}",
            {
                "artists": [full_artist(PITBULL, 10_000_000), full_artist(NEYO, 5_000_000)],
            },
        ),
    ]


def write_raw_zone(storage: LocalFolderStorage) -> None:
    """Parts first, the manifest last, as the extract does."""
    counters: dict[str, int] = {}
    parts: list[dict[str, Any]] = []
    for entity, url, body in raw_parts():
        index = counters.get(entity, 0)
        counters[entity] = index + 1
        path = f"spotify/{entity}/ingest_date={INGEST_DATE}/run_id={RUN_ID}/part-{index:05d}.json.gz"
        stored = gzip.compress(json.dumps(body).encode("utf-8"), mtime=0)
        storage.write_bytes("raw", path, stored)
        parts.append(
            {
                "entity": entity,
                "path": path,
                "size": len(stored),
                "sha256": hashlib.sha256(stored).hexdigest(),
                "request_url": url,
                "fetched_at": f"2026-11-24T05:00:0{len(parts)}.000000Z",
                "items": 1,
            }
        )
    manifest = {
        "manifest_version": 1,
        "source": "spotify",
        "ingest_date": INGEST_DATE,
        "run_id": RUN_ID,
        "created_at": "2026-11-24T05:00:12.345678Z",
        "container": "raw",
        "parts": parts,
        "counts": {entity: count for entity, count in counters.items()},
    }
    storage.write_bytes("raw", f"{MANIFEST_DIR}/_manifest.json", json.dumps(manifest, indent=2).encode("utf-8"))


# -- running the activity as Batch does ------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, Any] | None


def make_task_dir(root: Path, storage_root: Path, **extended: Any) -> Path:
    task = root / "task"
    task.mkdir()
    shutil.copytree(REPO / "activities", task / "activities", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    activity = {
        "name": "Transform raw run",
        "type": "Custom",
        "typeProperties": {
            "command": "python -m activities.transform",
            "folderPath": "batch-code/activities",
            "extendedProperties": {
                "manifestFolderPath": f"raw/{MANIFEST_DIR}",
                "manifestFileName": "_manifest.json",
                "curatedContainer": "curated",
                "storageLinkedService": "Ls_Blob_Storage",
                **extended,
            },
            "referenceObjects": {
                "linkedServices": [{"referenceName": "Ls_Blob_Storage", "type": "LinkedServiceReference"}],
                "datasets": [],
            },
        },
    }
    linked_services = [
        {
            "name": "Ls_Blob_Storage",
            "properties": {"type": "AzureBlobStorage", "typeProperties": {"serviceEndpoint": storage_root.as_uri()}},
        }
    ]
    (task / "activity.json").write_text(json.dumps(activity), encoding="utf-8")
    (task / "linkedServices.json").write_text(json.dumps(linked_services), encoding="utf-8")
    (task / "datasets.json").write_text("[]", encoding="utf-8")
    return task


def run_transform(task: Path) -> Run:
    outputs_file = task / "outputs.json"
    outputs_file.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(
        {
            "AZ_BATCH_TASK_WORKING_DIR": str(task),
            "AZ_BATCH_TASK_ID": "transform-1",
            "AZ_BATCH_JOB_ID": "adf-job",
            "AZ_BATCH_NODE_ID": "tvm-1",
        }
    )
    completed = subprocess.run(
        [sys.executable, "-m", "activities.transform"],
        cwd=task,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    outputs = json.loads(outputs_file.read_text(encoding="utf-8")) if outputs_file.exists() else None
    return Run(completed.returncode, completed.stdout, completed.stderr, outputs)


def curated_files(storage_root: Path) -> dict[str, tuple[bytes, int]]:
    base = storage_root / "curated"
    return (
        {
            p.relative_to(base).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(base.rglob("*"))
            if p.is_file()
        }
        if base.exists()
        else {}
    )


def read_table(storage_root: Path, table: str) -> list[dict[str, Any]]:
    folder = storage_root / "curated" / table / f"snapshot_date={INGEST_DATE}"
    return [row for part in sorted(folder.glob("*.parquet")) for row in pq.read_table(part).to_pylist()]


@dataclass(frozen=True)
class Zone:
    root: Path
    storage_root: Path
    task: Path
    first: Run


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Zone:
    """A raw zone transformed once (shared: every test copies it before changing anything)."""
    root = tmp_path_factory.mktemp("transform")
    storage_root = root / "storage"
    write_raw_zone(LocalFolderStorage(storage_root))
    task = make_task_dir(root, storage_root)
    return Zone(root, storage_root, task, run_transform(task))


@pytest.fixture
def zone(published: Zone, tmp_path: Path) -> Zone:
    """A private copy of the published zone (storage and task dir, ``force`` on) for tests that change it."""
    storage_root = tmp_path / "storage"
    shutil.copytree(published.storage_root, storage_root)
    task = make_task_dir(tmp_path, storage_root, force=True)
    return Zone(tmp_path, storage_root, task, published.first)


# -- tests -----------------------------------------------------------------------------------------


def test_when_a_valid_manifest_is_transformed_then_exit_0_and_outputs_json_follows_the_contract(
    published: Zone,
) -> None:
    run = published.first

    assert run.returncode == 0, run.stderr
    assert run.outputs is not None
    assert {"snapshotDate", "manifest", "tables", "quarantine", "schemaDrift", "durationSeconds"} <= set(run.outputs)
    assert run.outputs["snapshotDate"] == INGEST_DATE
    assert run.outputs["manifest"] == f"raw/{MANIFEST_DIR}/_manifest.json"
    prefix = f"snapshot_date={INGEST_DATE}/part-00000.parquet"
    first_slice = {table: run.outputs["tables"][table] for table in TABLE_NAMES}
    assert first_slice == {
        "albums": {"rows": 3, "files": [f"curated/albums/{prefix}"]},
        "tracks": {"rows": 4, "files": [f"curated/tracks/{prefix}"]},
        "artists": {"rows": 2, "files": [f"curated/artists/{prefix}"]},
        "track_artists": {"rows": 5, "files": [f"curated/track_artists/{prefix}"]},
    }
    assert set(run.outputs["tables"]) == set(TABLES)
    assert (run.outputs["quarantine"], run.outputs["quarantinedRows"]) == ({}, 0)
    assert "ERROR" not in run.stderr


def test_when_albums_are_seen_full_and_simplified_then_the_full_album_wins_and_dates_parse_by_precision(
    published: Zone,
) -> None:
    albums = {row["album_id"]: row for row in read_table(published.storage_root, "albums")}

    a1, a3 = albums[A1["id"]], albums[A3["id"]]
    assert (a1["label"], a1["popularity"], a1["release_date"], a1["release_year"]) == (
        "Mr.305/Polo Grounds Music/RCA",
        70,
        date(2012, 11, 1),
        2012,
    )
    assert a1["source_blob"] == f"raw/spotify/albums/ingest_date={INGEST_DATE}/run_id={RUN_ID}/part-00000.json.gz"
    assert (a3["label"], a3["popularity"], a3["release_date"], a3["release_date_raw"]) == (None, None, None, "0000")
    assert a3["source_blob"].startswith("raw/spotify/new_releases/")
    assert {(row["snapshot_date"], row["source_run_id"]) for row in albums.values()} == {(date(2026, 11, 24), RUN_ID)}


def test_when_tracks_come_from_several_sources_then_one_row_each_with_the_richest_values(published: Zone) -> None:
    tracks = {row["track_id"]: row for row in read_table(published.storage_root, "tracks")}
    track_artists = [
        (r["track_id"], r["artist_id"], r["artist_position"])
        for r in read_table(published.storage_root, "track_artists")
    ]

    assert sorted(tracks) == sorted([T1["id"], T2["id"], T3["id"], T4["id"]])
    assert (tracks[T1["id"]]["popularity"], tracks[T1["id"]]["album_id"]) == (61, A1["id"])
    assert tracks[T1["id"]]["source_blob"].startswith("raw/spotify/tracks/")
    t3 = tracks[T3["id"]]  # only on the album's second track page
    assert (t3["popularity"], t3["isrc"], t3["album_id"], t3["track_number"]) == (None, None, A1["id"], 3)
    assert t3["source_blob"].startswith("raw/spotify/album_tracks/")
    assert sorted(track_artists) == sorted(
        [
            (T1["id"], PITBULL["id"], 0),
            (T1["id"], NEYO["id"], 1),
            (T2["id"], PITBULL["id"], 0),
            (T3["id"], PITBULL["id"], 0),
            (T4["id"], NEYO["id"], 0),
        ]
    )
    artists = {r["artist_id"]: (r["followers"], r["genres"]) for r in read_table(published.storage_root, "artists")}
    assert artists == {PITBULL["id"]: (10_000_000, ["dance pop"]), NEYO["id"]: (5_000_000, ["dance pop"])}


def test_when_a_partition_is_published_then_success_is_written_after_its_parts(published: Zone) -> None:
    outputs = published.first.outputs
    assert outputs is not None
    for table in TABLE_NAMES:
        folder = published.storage_root / "curated" / table / f"snapshot_date={INGEST_DATE}"
        success = folder / "_SUCCESS"
        parts = list(folder.glob("*.parquet"))

        assert parts
        assert all(success.stat().st_mtime_ns >= p.stat().st_mtime_ns for p in parts)
        body = json.loads(success.read_text(encoding="utf-8"))
        assert (body["run_id"], body["rows"]) == (RUN_ID, outputs["tables"][table]["rows"])
        assert body["files"] == outputs["tables"][table]["files"]


def test_when_the_same_manifest_is_transformed_twice_then_the_rows_are_identical(zone: Zone) -> None:
    before = {table: read_table(zone.storage_root, table) for table in TABLE_NAMES}
    # A stale part left by an earlier, larger run must disappear.
    stale = zone.storage_root / "curated" / "tracks" / f"snapshot_date={INGEST_DATE}" / "part-00001.parquet"
    shutil.copy(stale.with_name("part-00000.parquet"), stale)

    second = run_transform(zone.task)

    assert second.returncode == 0, second.stderr
    assert {table: read_table(zone.storage_root, table) for table in TABLE_NAMES} == before
    assert not stale.exists()
    assert second.outputs is not None
    assert zone.first.outputs is not None
    assert second.outputs["tables"] == zone.first.outputs["tables"]


def _corrupt_gzip(data: bytes) -> bytes:
    return data[:20] + b"\x00" * 8 + data[28:]


def _rewrite_part(
    storage_root: Path, entity: str, transform_bytes: Callable[[bytes], bytes], *, update_manifest: str
) -> str:
    """Rewrite a part's stored bytes; ``update_manifest`` is "none", "size" or "both" (size and sha256)."""
    storage = LocalFolderStorage(storage_root)
    manifest_path = f"{MANIFEST_DIR}/_manifest.json"
    manifest = json.loads(storage.read_bytes("raw", manifest_path))
    part = next(p for p in manifest["parts"] if p["entity"] == entity)
    data = transform_bytes(storage.read_bytes("raw", part["path"]))
    storage.write_bytes("raw", part["path"], data)
    if update_manifest != "none":
        part["size"] = len(data)
        if update_manifest == "both":  # the bytes are bad but the manifest agrees: only decoding can catch it
            part["sha256"] = hashlib.sha256(data).hexdigest()
        storage.write_bytes("raw", manifest_path, json.dumps(manifest).encode("utf-8"))
    return f"raw/{part['path']}"


def _break_checksum(root: Path) -> str:
    edit = b'"popularity": 61', b'"popularity": 99'
    return _rewrite_part(
        root, "tracks", lambda d: gzip.compress(gzip.decompress(d).replace(*edit), mtime=0), update_manifest="size"
    )


def _break_size(root: Path) -> str:
    return _rewrite_part(root, "new_releases", lambda d: d + b"\n", update_manifest="none")


def _break_gzip(root: Path) -> str:
    return _rewrite_part(root, "albums", _corrupt_gzip, update_manifest="both")


def _break_json(root: Path) -> str:
    return _rewrite_part(
        root, "artists", lambda d: gzip.compress(gzip.decompress(d)[:-10], mtime=0), update_manifest="both"
    )


def _remove_part(root: Path) -> str:
    manifest = json.loads((root / "raw" / MANIFEST_DIR / "_manifest.json").read_bytes())
    path = next(p["path"] for p in manifest["parts"] if p["entity"] == "album_tracks")
    (root / "raw" / path).unlink()
    return f"raw/{path}"


def _remove_manifest(root: Path) -> str:
    (root / "raw" / MANIFEST_DIR / "_manifest.json").unlink()
    return f"raw/{MANIFEST_DIR}/_manifest.json"


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (_break_checksum, "failed its integrity check: sha256 is"),
        (_break_size, "failed its integrity check: size is"),
        (_break_gzip, "could not be decoded: not valid gzip"),
        (_break_json, "could not be decoded: not valid JSON"),
        (_remove_part, "not found in storage"),
        (_remove_manifest, "not found: the extract run has not finished"),
    ],
    ids=["checksum-mismatch", "size-mismatch", "corrupt-gzip", "bad-json", "missing-part", "missing-manifest"],
)
def test_when_input_is_bad_then_exit_1_with_one_error_line_naming_the_blob_and_curated_untouched(
    zone: Zone, breakage: Callable[[Path], str], expected: str
) -> None:
    # Arrange
    blob = breakage(zone.storage_root)
    curated_before = curated_files(zone.storage_root)

    # Act
    run = run_transform(zone.task)

    # Assert
    assert run.returncode == 1
    error_lines = [line for line in run.stderr.splitlines() if line.startswith("ERROR ")]
    assert len(error_lines) == 1, run.stderr
    assert error_lines[0].startswith("ERROR transform: ")
    assert blob in error_lines[0]
    assert expected in error_lines[0]
    assert "Traceback" not in run.stderr
    # Only the reason, for the pipeline's Fail activity (ADF shows 2500 for the task).
    assert run.outputs is not None and set(run.outputs) == {"error"}
    assert f"ERROR {run.outputs['error']['message']}" == error_lines[0]
    assert curated_files(zone.storage_root) == curated_before


def test_when_the_first_run_fails_then_no_curated_container_is_created(tmp_path: Path) -> None:
    storage_root = tmp_path / "storage"
    write_raw_zone(LocalFolderStorage(storage_root))
    blob = _break_gzip(storage_root)
    task = make_task_dir(tmp_path, storage_root)

    run = run_transform(task)

    assert run.returncode == 1
    assert blob in run.stderr
    assert not (storage_root / "curated").exists()
