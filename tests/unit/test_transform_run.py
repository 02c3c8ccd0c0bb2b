"""Unit tests of the transform's orchestration helpers: part reading order, part ranks, the pause hook."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest

from activities.common.storage import LocalFolderStorage
from activities.transform import hooks
from activities.transform.errors import PartDecodeError, PartNotFoundError
from activities.transform.hooks import pause_at
from activities.transform.manifest import Manifest, ManifestPart
from activities.transform.run import part_ranks, read_parts


def _zone(tmp_path: Path, count: int) -> tuple[LocalFolderStorage, Manifest]:
    storage = LocalFolderStorage(tmp_path)
    parts = []
    for index in range(count):
        data = gzip.compress(f'{{"n": {index}}}'.encode(), mtime=0)
        path = f"spotify/tracks/part-{index:05d}.json.gz"
        storage.write_bytes("raw", path, data)
        parts.append(ManifestPart("tracks", path, len(data), hashlib.sha256(data).hexdigest(),
                                  fetched_at=f"2026-11-24T05:00:{59 - index:02d}Z"))
    from datetime import date

    return storage, Manifest("raw/m/_manifest.json", 1, "spotify", date(2026, 11, 24), "r1", "raw", tuple(parts))


@pytest.mark.parametrize("workers", [0, 2])
def test_when_parts_are_read_then_they_come_in_manifest_order_decoded(tmp_path: Path, workers: int) -> None:
    storage, manifest = _zone(tmp_path, 7)

    bodies = [raw for _, _, raw in read_parts(storage, manifest, list(manifest.parts), workers=workers)]

    assert bodies == [f'{{"n": {i}}}'.encode() for i in range(7)]


@pytest.mark.parametrize("workers", [0, 2])
def test_when_a_part_is_missing_or_corrupt_then_its_error_comes_at_its_turn(tmp_path: Path, workers: int) -> None:
    storage, manifest = _zone(tmp_path, 6)
    storage.delete("raw", manifest.parts[3].path)
    seen = []

    with pytest.raises(PartNotFoundError, match="part-00003"):
        for part, _, _ in read_parts(storage, manifest, list(manifest.parts), workers=workers):
            seen.append(part.path)

    assert len(seen) == 3
    storage.write_bytes("raw", manifest.parts[3].path, b"x" * manifest.parts[3].size)
    corrupt = ManifestPart("tracks", manifest.parts[3].path, manifest.parts[3].size,
                           hashlib.sha256(b"x" * manifest.parts[3].size).hexdigest())
    with pytest.raises(PartDecodeError, match="not valid gzip"):
        list(read_parts(storage, manifest, [corrupt], workers=workers))


def test_when_parts_are_ranked_then_later_fetches_rank_higher_and_blobs_follow_the_ranks(tmp_path: Path) -> None:
    _, manifest = _zone(tmp_path, 3)

    ranks, blobs = part_ranks(manifest)

    assert [ranks[p.path] for p in manifest.parts] == [2, 1, 0]  # fetched_at runs backwards in _zone
    assert blobs[0] == f"raw/{manifest.parts[2].path}"


@pytest.mark.parametrize(("hook", "slept", "printed"), [(None, [], ""), ("load", [], ""),
                                                         ("publish", [2.5], "PAUSED AT publish\n")])
def test_when_the_pause_hook_names_a_point_then_pause_at_sleeps_there_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], hook: str | None, slept: list[float], printed: str,
) -> None:
    # Arrange: only sleeping is faked
    sleeps: list[float] = []
    monkeypatch.setattr(hooks.time, "sleep", sleeps.append)
    monkeypatch.setenv(hooks.PAUSE_SECONDS_ENV, "2.5")
    if hook is None:
        monkeypatch.delenv(hooks.PAUSE_ENV, raising=False)
    else:
        monkeypatch.setenv(hooks.PAUSE_ENV, hook)

    # Act
    pause_at("publish")

    # Assert
    assert (sleeps, capsys.readouterr().out) == (slept, printed)
