"""Unit tests of activities.transform.manifest: validation of _manifest.json and of each part's bytes."""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
from datetime import date
from typing import Any

import pytest

from activities.common.errors import ActivityError
from activities.transform.errors import ManifestInvalidError, PartDecodeError, PartIntegrityError
from activities.transform.manifest import ManifestPart, inflate_part, parse_manifest
from activities.transform.parse.document import PartDocument, plain

RUN_ID = "5f2a8c1e-0000-4000-8000-000000000001"
BLOB = f"raw/spotify/manifests/ingest_date=2026-11-24/run_id={RUN_ID}/_manifest.json"
PART_PATH = f"spotify/albums/ingest_date=2026-11-24/run_id={RUN_ID}/part-00000.json.gz"
PART_BLOB = f"raw/{PART_PATH}"
BODY = {"albums": [None]}


def gz(body: Any) -> bytes:
    return gzip.compress(json.dumps(body).encode("utf-8"), mtime=0)


STORED = gz(BODY)


def manifest_doc() -> dict[str, Any]:
    return {
        "manifest_version": 1,
        "source": "spotify",
        "ingest_date": "2026-11-24",
        "run_id": RUN_ID,
        "created_at": "2026-11-24T05:00:12.345678Z",
        "container": "raw",
        "parts": [
            {
                "entity": "albums",
                "path": PART_PATH,
                "size": len(STORED),
                "sha256": hashlib.sha256(STORED).hexdigest(),
                "request_url": "https://api.spotify.com/v1/albums?ids=4aawyAB9vmqN3uQ7FjRGTy",
                "fetched_at": "2026-11-24T05:00:01.2Z",
                "items": 1,
            }
        ],
        "counts": {"albums": 1},
    }


def encode(doc: Any) -> bytes:
    return json.dumps(doc).encode("utf-8")


def test_when_manifest_follows_the_contract_then_it_parses_into_typed_fields() -> None:
    manifest = parse_manifest(encode(manifest_doc()), BLOB)

    assert manifest.ingest_date == date(2026, 11, 24)
    assert manifest.run_id == RUN_ID
    assert manifest.blob == BLOB
    assert manifest.counts == {"albums": 1}
    (part,) = manifest.parts
    assert part.entity == "albums"
    assert part.items == 1
    assert part.fetched_at == "2026-11-24T05:00:01.2Z"
    assert manifest.part_blob(part) == PART_BLOB


def _edit(path: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(manifest_doc())
    target: Any = doc
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    if value is _DELETE:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return doc


_DELETE = object()


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (_edit("manifest_version", 2), "`manifest_version` 2 is not supported"),
        (_edit("source", "deezer"), "`source` 'deezer' is not supported"),
        (_edit("ingest_date", "2026-02-30"), "`ingest_date` must be a YYYY-MM-DD date"),
        (_edit("ingest_date", "2026-11-25"), "the manifest sits in folder ingest_date=2026-11-24"),
        (_edit("run_id", "another-run"), f"the manifest sits in folder run_id={RUN_ID}"),
        (_edit("run_id", _DELETE), "`run_id` must be str"),
        (_edit("parts", {"albums": []}), "`parts` must be array"),
        (_edit("parts.0.size", "12"), "`parts[0].size` must be int"),
        (_edit("parts.0.size", True), "`parts[0].size` must be int"),
        (_edit("parts.0.size", -1), "`parts[0].size` must be >= 0"),
        (_edit("parts.0.sha256", "abc"), "`parts[0].sha256` must be 64 hex digits"),
        (_edit("parts.0.path", "/etc/passwd"), "`parts[0].path` must be a path relative to the container"),
        (_edit("parts.0.path", "spotify/../../curated/x"), "`parts[0].path` must be a path relative"),
        (_edit("parts.0.entity", ""), "`parts[0].entity` is empty"),
        ([1, 2], "the document must be a JSON object"),
    ],
)
def test_when_manifest_breaks_the_contract_then_manifest_invalid_error_names_blob_and_field(
    doc: Any, message: str
) -> None:
    with pytest.raises(ManifestInvalidError) as caught:
        parse_manifest(encode(doc), BLOB)

    assert str(caught.value).startswith(f"manifest {BLOB} is invalid: ")
    assert message in str(caught.value)
    assert isinstance(caught.value, ActivityError)
    assert "\n" not in str(caught.value)


def test_when_a_part_is_listed_twice_then_manifest_invalid_error() -> None:
    doc = manifest_doc()
    doc["parts"].append(dict(doc["parts"][0]))

    with pytest.raises(ManifestInvalidError, match="is listed twice"):
        parse_manifest(encode(doc), BLOB)


@pytest.mark.parametrize("data", [b"", b"{not json", "{}".encode("utf-16"), b"\xff\xfe\x00garbage"])
def test_when_manifest_is_not_json_then_manifest_invalid_error(data: bytes) -> None:
    with pytest.raises(ManifestInvalidError, match=f"manifest {BLOB} is invalid"):
        parse_manifest(data, BLOB)


def test_when_manifest_lies_in_no_run_folder_then_folder_checks_are_skipped() -> None:
    manifest = parse_manifest(encode(manifest_doc()), "raw/elsewhere/_manifest.json")

    assert manifest.run_id == RUN_ID


# -- parts -----------------------------------------------------------------------------------------


def _part(data: bytes, **overrides: Any) -> ManifestPart:
    fields: dict[str, Any] = {
        "entity": "albums",
        "path": PART_PATH,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    fields.update(overrides)
    return ManifestPart(**fields)


def decode_part(part: ManifestPart, data: bytes, blob: str) -> Any:
    return plain(PartDocument(inflate_part(part, data, blob), blob).root)


def test_when_part_bytes_match_the_manifest_then_the_body_is_decoded() -> None:
    assert decode_part(_part(STORED), STORED, PART_BLOB) == BODY


def test_when_part_size_differs_then_part_integrity_error_names_the_blob() -> None:
    with pytest.raises(PartIntegrityError, match=f"part {PART_BLOB} failed its integrity check: size is"):
        decode_part(_part(STORED, size=len(STORED) + 1), STORED, PART_BLOB)


def test_when_part_sha256_differs_then_part_integrity_error_names_the_blob() -> None:
    tampered = gz({"albums": []})
    tampered = tampered[: len(STORED)].ljust(len(STORED), b"\0")

    with pytest.raises(PartIntegrityError, match=f"part {PART_BLOB} failed its integrity check: sha256 is"):
        decode_part(_part(STORED), tampered, PART_BLOB)


def test_when_part_is_not_gzip_then_part_decode_error_names_the_blob() -> None:
    data = json.dumps(BODY).encode("utf-8")  # stored uncompressed by mistake

    with pytest.raises(PartDecodeError, match=f"part {PART_BLOB} could not be decoded: not valid gzip"):
        decode_part(_part(data), data, PART_BLOB)


def test_when_part_gzip_is_truncated_then_part_decode_error() -> None:
    data = STORED[:-6]

    with pytest.raises(PartDecodeError, match="not valid gzip"):
        decode_part(_part(data), data, PART_BLOB)


def test_when_part_holds_gzip_of_bad_json_then_part_decode_error() -> None:
    data = gzip.compress(b'{"albums": [', mtime=0)

    with pytest.raises(PartDecodeError, match=f"part {PART_BLOB} could not be decoded: not valid JSON"):
        decode_part(_part(data), data, PART_BLOB)
