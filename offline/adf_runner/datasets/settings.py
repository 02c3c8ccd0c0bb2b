"""The source and sink settings of file activities (Copy, Lookup), checked before a run: what the local runner
implements, what has no local effect (accepted, ignored), and everything else refused by name.

Keys are ADF's (Learn: connector-azure-blob-storage / connector-azure-data-lake-storage "Copy activity properties",
format-json / format-delimited-text / format-parquet / format-binary "Copy activity properties"), matched
case-insensitively as ADF reads JSON. A `type` must match the dataset: `<Format>Source`/`<Format>Sink`,
`<Connector>ReadSettings`/`<Connector>WriteSettings`, `<Format>ReadSettings`/`<Format>WriteSettings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from factory_deploy.json_keys import get_property
from offline.adf_runner.datasets.errors import UnsupportedDatasetError
from offline.adf_runner.datasets.model import LOCATION_TYPES
from offline.adf_runner.expressions import is_expression

__all__ = ["check_sink_settings", "check_source_settings"]

# Performance and telemetry knobs: no local meaning, accepted as ADF accepts them.
_NO_EFFECT = frozenset({"maxconcurrentconnections", "disablemetricscollection", "sourceretrycount", "sourceretrywait",
                        "sinkretrycount", "sinkretrywait", "writebatchsize", "writebatchtimeout", "blocksizeinmb"})
_READ_STORE = frozenset({"type", "recursive", "wildcardfolderpath", "wildcardfilename", "modifieddatetimestart",
                         "modifieddatetimeend", "deletefilesaftercompletion", "enablepartitiondiscovery"})
_BLOB_ONLY = frozenset({"prefix"})  # AzureBlobStorageReadSettings has it, AzureBlobFSReadSettings not
_WRITE_STORE = frozenset({"type", "copybehavior"})
_READ_FORMAT = {"Json": frozenset({"type"}), "DelimitedText": frozenset({"type", "skiplinecount"}),
                "Parquet": frozenset({"type"}), "Binary": frozenset({"type"})}
_WRITE_FORMAT = {"Json": frozenset({"type", "filepattern"}),
                 "DelimitedText": frozenset({"type", "quotealltext", "fileextension"}),
                 "Parquet": frozenset({"type"}), "Binary": frozenset({"type"})}
_COPY_BEHAVIORS = ("PreserveHierarchy", "FlattenHierarchy", "MergeFiles")


def check_source_settings(source: Any, dataset: str, format_name: str, location_type: str, activity: str, pipeline: str) -> None:
    """Refuse a source whose type, storeSettings or formatSettings the runner cannot honour, naming the key."""
    store_keys = _READ_STORE | (_BLOB_ONLY if location_type == "AzureBlobStorageLocation" else frozenset())
    where = _Where(dataset, activity, pipeline)
    store = where.block(source, "source", f"{format_name}Source", LOCATION_TYPES[location_type][2], store_keys,
                        f"{format_name}ReadSettings", _READ_FORMAT[format_name])
    if get_property(store, "enablePartitionDiscovery") not in (None, False):
        raise where.refuse("source.storeSettings.enablePartitionDiscovery: partition discovery is not supported by "
                           "the local runner (set it to false)")


def check_sink_settings(sink: Any, dataset: str, format_name: str, location_type: str, activity: str, pipeline: str) -> None:
    """Refuse a sink whose type, storeSettings or formatSettings the runner cannot honour, naming the key."""
    where = _Where(dataset, activity, pipeline)
    store = where.block(sink, "sink", f"{format_name}Sink", LOCATION_TYPES[location_type][3], _WRITE_STORE,
                        f"{format_name}WriteSettings", _WRITE_FORMAT[format_name])
    behavior = get_property(store, "copyBehavior")
    if behavior is not None and not is_expression(behavior) and behavior not in _COPY_BEHAVIORS:
        raise where.refuse(f"sink.storeSettings.copyBehavior {behavior!r} is not one of {', '.join(_COPY_BEHAVIORS)}")


class _Where:
    def __init__(self, dataset: str, activity: str, pipeline: str) -> None:
        self.dataset, self.activity, self.pipeline = dataset, activity, pipeline

    def block(self, value: Any, side: str, kind: str, store_kind: str, store_keys: frozenset[str], format_kind: str,
              format_keys: frozenset[str]) -> Mapping[str, Any]:
        """Check `source`/`sink`, its storeSettings and formatSettings; return the storeSettings."""
        block = self.object(value, side)
        self.type(block, side, kind)
        # additionalColumns: Learn, copy-activity-overview "Add additional data columns during copy" (sources only).
        extra = frozenset({"additionalcolumns"}) if side == "source" else frozenset()
        self.keys(block, side, frozenset({"type", "storesettings", "formatsettings"}) | extra)
        for key, expected, allowed in (("storeSettings", store_kind, store_keys), ("formatSettings", format_kind, format_keys)):
            inner = self.object(get_property(block, key), f"{side}.{key}")
            self.type(inner, f"{side}.{key}", expected)
            self.keys(inner, f"{side}.{key}", allowed)
        return self.object(get_property(block, "storeSettings"), f"{side}.storeSettings")

    def refuse(self, problem: str) -> UnsupportedDatasetError:
        return UnsupportedDatasetError(self.dataset, problem, self.activity, self.pipeline)

    def object(self, value: Any, key: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.refuse(f"{key} must be an object, got {value!r}")
        return value

    def type(self, block: Mapping[str, Any], key: str, expected: str) -> None:
        found = get_property(block, "type")
        if found is not None and str(found).lower() != expected.lower():
            raise self.refuse(f"{key}.type is `{found}`, but the dataset needs `{expected}`")

    def keys(self, block: Mapping[str, Any], key: str, allowed: frozenset[str]) -> None:
        for name in block:
            folded = name.lower()
            if folded not in allowed and folded not in _NO_EFFECT:
                raise self.refuse(f"{key}.{name} is not supported by the local runner")
