"""Parse and validate the run manifest, and verify and decode the parts it lists.

Pure: bytes in, typed values out. The manifest format is the contract in docs/architecture.md
("Manifest"). Everything a part promises (size, sha256 of the stored gzip bytes) is checked
before its body is trusted, so a truncated upload or a part rewritten after the manifest
fails the run instead of producing quietly different tables.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import simdjson

from activities.transform.errors import ManifestInvalidError, PartDecodeError, PartIntegrityError
from activities.transform.parse.document import is_array, is_object, plain

SUPPORTED_MANIFEST_VERSION = 1
SUPPORTED_SOURCE = "spotify"

_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)  # slots: a big run lists tens of thousands of parts
class ManifestPart:
    """One raw part: one API response body, gzip-compressed, at ``<container>/<path>``."""

    entity: str
    path: str
    size: int
    sha256: str
    request_url: str | None = None
    fetched_at: str | None = None
    items: int | None = None
    user_id: str | None = None  # user sources: the Spotify user whose token fetched the part


@dataclass(frozen=True)
class Manifest:
    """A validated ``_manifest.json``; ``blob`` is where it was read (``<container>/<path>``)."""

    blob: str
    manifest_version: int
    source: str
    ingest_date: date
    run_id: str
    container: str
    parts: tuple[ManifestPart, ...]
    created_at: str | None = None
    counts: Mapping[str, int] = field(default_factory=dict)

    def part_blob(self, part: ManifestPart) -> str:
        """``<container>/<path>`` of a part, the name every message uses."""
        return f"{self.container}/{part.path}"


class _InvalidError(Exception):
    """Internal: one validation failure; ``parse_manifest`` adds the blob name."""


def _is_kind(value: Any, kind: type) -> bool:
    if kind is list:
        return is_array(value)
    if kind is dict:
        return is_object(value)
    # bool is an int in Python but never a valid size/count/version in the manifest.
    return isinstance(value, kind) and not isinstance(value, bool)


def _get(obj: Any, key: str, kind: type, where: str, *, required: bool = True) -> Any:
    value = obj.get(key)
    if value is None and not required:
        return None
    if value is None or not _is_kind(value, kind):
        expected = "array" if kind is list else "object" if kind is dict else kind.__name__
        raise _InvalidError(f"`{where}{key}` must be {expected}, got {json.dumps(plain(value))[:80]}")
    return value


def _parse_part(raw: Any, index: int, keep_url: Callable[[str], bool]) -> ManifestPart:
    where = f"parts[{index}]."
    if not is_object(raw):
        raise _InvalidError(f"`parts[{index}]` must be an object")
    entity = _get(raw, "entity", str, where)
    path = _get(raw, "path", str, where)
    size = _get(raw, "size", int, where)
    sha256 = _get(raw, "sha256", str, where)
    if not entity:
        raise _InvalidError(f"`{where}entity` is empty")
    # Paths are relative to the manifest's container; anything else would read outside it.
    if not path or path.startswith("/") or ".." in path.split("/"):
        raise _InvalidError(f"`{where}path` must be a path relative to the container, got {path!r}")
    if size < 0:
        raise _InvalidError(f"`{where}size` must be >= 0, got {size}")
    if not _SHA256_HEX.fullmatch(sha256):
        raise _InvalidError(f"`{where}sha256` must be 64 hex digits, got {sha256[:80]!r}")
    items = _get(raw, "items", int, where, required=False)
    return ManifestPart(
        entity=entity,
        path=path,
        size=size,
        sha256=sha256.lower(),
        request_url=_request_url(_get(raw, "request_url", str, where, required=False), keep_url(entity)),
        fetched_at=_get(raw, "fetched_at", str, where, required=False),
        items=items,
        user_id=_get(raw, "user_id", str, where, required=False) or None,
    )


def _request_url(url: str | None, whole: bool) -> str | None:
    # ids= lookups carry long URLs of which the parser reads only the path (memory: a manifest
    # of 25,000 lookups would hold 30 MB of URLs).
    if url is None or whole:
        return url
    return url.split("?", 1)[0]


def _partition_values(blob: str) -> dict[str, str]:
    """``key=value`` folder segments of a blob path (``ingest_date``, ``run_id``)."""
    return dict(segment.split("=", 1) for segment in blob.split("/")[:-1] if "=" in segment)


def _keep_every_url(entity: str) -> bool:
    return True


def _validate(doc: Any, blob: str, keep_url: Callable[[str], bool] = _keep_every_url) -> Manifest:
    if not is_object(doc):
        raise _InvalidError("the document must be a JSON object")
    version = _get(doc, "manifest_version", int, "")
    if version != SUPPORTED_MANIFEST_VERSION:
        raise _InvalidError(f"`manifest_version` {version} is not supported (expected {SUPPORTED_MANIFEST_VERSION})")
    source = _get(doc, "source", str, "")
    if source != SUPPORTED_SOURCE:
        raise _InvalidError(f"`source` {source!r} is not supported (expected {SUPPORTED_SOURCE!r})")
    ingest_raw = _get(doc, "ingest_date", str, "")
    try:
        if not _ISO_DATE.fullmatch(ingest_raw):
            raise ValueError(ingest_raw)
        ingest_date = date.fromisoformat(ingest_raw)
    except ValueError:
        raise _InvalidError(f"`ingest_date` must be a YYYY-MM-DD date, got {ingest_raw!r}") from None
    run_id = _get(doc, "run_id", str, "")
    container = _get(doc, "container", str, "")
    if not run_id or not container:
        raise _InvalidError("`run_id` and `container` must be non-empty")
    # The manifest's folder names its run (…/ingest_date=…/run_id=…/_manifest.json): a manifest
    # copied to another run's folder would otherwise publish under the wrong snapshot.
    location = _partition_values(blob)
    for key, value in (("ingest_date", ingest_raw), ("run_id", run_id)):
        if key in location and location[key] != value:
            raise _InvalidError(f"`{key}` is {value!r} but the manifest sits in folder {key}={location[key]}")
    raw_parts = _get(doc, "parts", list, "")
    parts = tuple(_parse_part(raw, index, keep_url) for index, raw in enumerate(raw_parts))
    seen: set[str] = set()
    for part in parts:
        if part.path in seen:
            raise _InvalidError(f"part {part.path} is listed twice")
        seen.add(part.path)
    counts = plain(_get(doc, "counts", dict, "", required=False)) or {}
    return Manifest(
        blob=blob,
        manifest_version=version,
        source=source,
        ingest_date=ingest_date,
        run_id=run_id,
        container=container,
        parts=parts,
        created_at=_get(doc, "created_at", str, "", required=False),
        counts=dict(counts),
    )


def parse_manifest(data: bytes, blob: str, *, keep_url: Callable[[str], bool] = _keep_every_url) -> Manifest:
    """Parse and validate ``_manifest.json`` bytes read from ``blob`` (``<container>/<path>``).

    ``keep_url(entity)`` false keeps only the path of the parts' ``request_url`` of that entity
    (memory: a manifest of 25,000 id lookups holds 30 MB of URLs).

    Raises:
        ManifestInvalidError: not UTF-8 JSON, or not the contract's shape; names the blob.
    """
    # Read in place (simdjson), like the parts: only the values kept become Python strings.
    try:
        doc = simdjson.Parser().parse(data)
    except (ValueError, RuntimeError) as exc:  # UnicodeDecodeError is a ValueError
        raise ManifestInvalidError(blob, f"not valid JSON ({exc})") from None
    try:
        return _validate(doc, blob, keep_url)
    except _InvalidError as exc:
        raise ManifestInvalidError(blob, str(exc)) from exc


def verify_part(part: ManifestPart, data: bytes, blob: str) -> None:
    """Check the stored bytes against the manifest's size and sha256.

    Raises:
        PartIntegrityError: the size or the digest differs.
    """
    if len(data) != part.size:
        raise PartIntegrityError(blob, f"size is {len(data)} bytes, the manifest says {part.size}")
    digest = hashlib.sha256(data).hexdigest()
    if digest != part.sha256:
        raise PartIntegrityError(blob, f"sha256 is {digest}, the manifest says {part.sha256}")


def inflate_part(part: ManifestPart, data: bytes, blob: str) -> bytes:
    """Verify the part's stored bytes against the manifest, then gunzip them.

    Raises:
        PartIntegrityError: size or sha256 differs from the manifest.
        PartDecodeError: not gzip.
    """
    verify_part(part, data, blob)
    try:
        # One pass that also checks the gzip CRC; a stream of several gzip members takes the slow path.
        inflater = zlib.decompressobj(wbits=31)
        body = inflater.decompress(data)
        if not inflater.eof:
            raise EOFError("compressed file ended before the end-of-stream marker was reached")
        if inflater.unused_data:
            body = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise PartDecodeError(blob, f"not valid gzip ({exc})") from exc
    return body


def processed_key(manifest_blob: str, content_sha256: str) -> str:
    """Identity of one manifest for "already processed": sha256 of its ``<container>/<path>`` and its bytes' sha256.

    Event Grid delivers a storage event at least once; the same manifest (same path, same
    bytes) gets the same key, a rewritten manifest a new one.
    """
    content = content_sha256
    return hashlib.sha256(f"{manifest_blob}\n{content}".encode()).hexdigest()


__all__ = [
    "Manifest",
    "ManifestPart",
    "inflate_part",
    "parse_manifest",
    "processed_key",
    "verify_part",
]
