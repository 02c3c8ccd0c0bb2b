"""The Copy activity between file datasets (Json, DelimitedText, Parquet, Binary on Blob or ADLS Gen2 locations).

Learn sources: "Copy activity overview" (copy-activity-overview), the connectors' "Copy activity properties"
(storeSettings: wildcardFolderPath, wildcardFileName, recursive, prefix, modifiedDatetime*, deleteFilesAfterCompletion;
sink copyBehavior PreserveHierarchy (default) / FlattenHierarchy / MergeFiles and "Some recursive and copyBehavior
examples"), the format pages (format settings; Binary copies only to Binary), "Schema and data type mapping"
(translator) and "Monitor copy activity" (copy-activity-monitoring: the output counters; only those that apply to a
file copy are reported, rowsRead/rowsCopied not for a binary copy).

Every output file is produced before the first is written, so a malformed source file fails the activity with
nothing written; each file is written atomically by the storage. Staging, fault tolerance (skipping incompatible
rows or files), session logs, metadata preservation, data consistency checks and partitioned writes are refused by
name when the pipeline is validated.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from factory_deploy.json_keys import get_property
from offline.adf_runner.activity_types.base import ActivityCall, ActivityType
from offline.adf_runner.datasets import (
    DatasetAccessError,
    FileDataset,
    Rows,
    SourceFile,
    UnsupportedDatasetError,
    check_file_dataset,
    file_format,
    read_settings,
    resolve_file_dataset,
    select_files,
    storage_errors,
)
from offline.adf_runner.datasets.formats import BinaryFormat
from offline.adf_runner.datasets.mapping import add_columns, apply_mappings, parse_mappings, translator_problem
from offline.adf_runner.datasets.settings import check_sink_settings, check_source_settings
from offline.adf_runner.errors import ActivityFailed, RunnerError
from offline.adf_runner.expressions import evaluate_value
from offline.adf_runner.factory import Activity, Factory, Pipeline

__all__ = ["COPY_FAILED", "CopyActivity"]

# ADF reports a failed copy as errorCode 2200 with "Failure happened on 'Source'/'Sink' side." (Learn,
# copy-activity-fault-tolerance and "Troubleshoot copy activity" show that form).
COPY_FAILED = "2200"
EFFECTIVE_RUNTIME = "local (offline ADF runner)"
# typeProperties of Copy: implemented, no local effect, or refused when set to anything but their default.
_IMPLEMENTED = frozenset({"source", "sink", "translator"})
_NO_EFFECT = frozenset({"parallelcopies", "dataintegrationunits"})
_OFF_BY_DEFAULT = {"enablestaging": "staging", "enableskipincompatiblerow": "fault tolerance (skipping incompatible rows)",
                   "validatedataconsistency": "data consistency verification"}


class CopyActivity(ActivityType):
    type_name = "Copy"

    @classmethod
    def validate(cls, activity: Activity, pipeline: Pipeline, factory: Factory) -> None:
        source_name, sink_name = _reference(activity, "inputs"), _reference(activity, "outputs")
        source, sink = factory.dataset(source_name), factory.dataset(sink_name)
        check_file_dataset(source, factory, activity.name, pipeline.name)
        check_file_dataset(sink, factory, activity.name, pipeline.name)
        if (source.type == "Binary") != (sink.type == "Binary"):
            raise UnsupportedDatasetError(sink.name, f"a Binary dataset copies only to and from a Binary dataset (Learn, "
                                          f"format-binary); `{source.name}` is {source.type}, `{sink.name}` {sink.type}",
                                          activity.name, pipeline.name)
        properties = activity.type_properties
        for key, value in properties.items():
            folded = key.lower()
            if folded in _OFF_BY_DEFAULT and value not in (False, None):
                raise RunnerError(f"activity `{activity.name}` in pipeline `{pipeline.name}`: {key} "
                                  f"({_OFF_BY_DEFAULT[folded]}) is not supported by the local runner")
            if folded not in _IMPLEMENTED | _NO_EFFECT | set(_OFF_BY_DEFAULT):
                raise RunnerError(f"activity `{activity.name}` in pipeline `{pipeline.name}`: Copy typeProperties.{key} "
                                  "is not supported by the local runner")
        check_source_settings(get_property(properties, "source"), source.name, source.type, _location_type(source),
                              activity.name, pipeline.name)
        check_sink_settings(get_property(properties, "sink"), sink.name, sink.type, _location_type(sink),
                            activity.name, pipeline.name)
        problem = translator_problem(get_property(properties, "translator"))
        if problem:
            raise RunnerError(f"activity `{activity.name}` in pipeline `{pipeline.name}`: {problem}")

    def run(self, call: ActivityCall) -> Any:
        started = time.monotonic()
        start = call.engine.clock.now()
        factory = call.engine.factory
        where = f"activity `{call.activity.name}`"
        source_ref, sink_ref = self._evaluated_reference(call, "inputs"), self._evaluated_reference(call, "outputs")
        try:
            source = resolve_file_dataset(factory.dataset(source_ref[0]), source_ref[1], call.state, "Source")
            sink = resolve_file_dataset(factory.dataset(sink_ref[0]), sink_ref[1], call.state, "Sink")
            stats = _Copy(call, source, sink, where).run()
        except DatasetAccessError as exc:
            raise ActivityFailed(COPY_FAILED, f"Failure happened on '{exc.side}' side. {exc.message} ({where})") from exc
        elapsed = time.monotonic() - started
        output: dict[str, Any] = {
            "dataRead": stats.data_read, "dataWritten": stats.data_written,
            "filesRead": stats.files_read, "filesWritten": stats.files_written,
            "sourcePeakConnections": 1, "sinkPeakConnections": 1,
        }
        if stats.tabular:
            output |= {"rowsRead": stats.rows_read, "rowsCopied": stats.rows_copied}
        duration = int(round(elapsed))
        output |= {
            "copyDuration": duration,
            "throughput": round(stats.data_read / 1024 / max(elapsed, 1e-3), 3),
            "errors": [],
            "effectiveIntegrationRuntime": EFFECTIVE_RUNTIME,
            "usedParallelCopies": 1,
            "executionDetails": [{
                "source": {"type": _linked_type(factory, source)}, "sink": {"type": _linked_type(factory, sink)},
                "status": "Succeeded", "start": start.isoformat().replace("+00:00", "Z"), "duration": duration,
                "usedParallelCopies": 1, "detailedDurations": {"queuingDuration": 0, "transferDuration": duration},
            }],
        }
        return output

    @staticmethod
    def _evaluated_reference(call: ActivityCall, key: str) -> tuple[str, Mapping[str, Any]]:
        (reference,) = get_property(call.activity.raw, key) or [{}]
        parameters = evaluate_value(get_property(reference, "parameters") or {}, call.state, f"{key}[0].parameters",
                                    where=f"activity `{call.activity.name}`")
        return str(get_property(reference, "referenceName")), parameters


def _reference(activity: Activity, key: str) -> str:
    references = get_property(activity.raw, key)  # `inputs`/`outputs`, in any case as ADF reads them
    if not isinstance(references, list) or len(references) != 1 or not isinstance(references[0], Mapping) \
            or not isinstance(get_property(references[0], "referenceName"), str):
        raise RunnerError(f"activity `{activity.name}`: a Copy needs exactly one dataset reference in `{key}` "
                          '([{"referenceName": ..., "type": "DatasetReference"}])')
    return str(get_property(references[0], "referenceName"))


def _location_type(dataset: Any) -> str:
    return str(get_property(get_property(dataset.type_properties, "location"), "type"))


def _linked_type(factory: Factory, dataset: FileDataset) -> str:
    return factory.linked_service(dataset.location.linked_service).type


@dataclass
class _Stats:
    tabular: bool = True
    data_read: int = 0
    data_written: int = 0
    files_read: int = 0
    files_written: int = 0
    rows_read: int = 0
    rows_copied: int = 0


class _Copy:
    """One copy: select, read and convert every file, then write every output and delete the sources if asked."""

    def __init__(self, call: ActivityCall, source: FileDataset, sink: FileDataset, where: str) -> None:
        self.call, self.source, self.sink, self.where = call, source, sink, where
        inputs = call.inputs
        self.source_settings = get_property(inputs, "source") or {}
        self.sink_settings = get_property(inputs, "sink") or {}
        services = call.engine.services
        if services is None:
            raise RunnerError("the engine has no RunnerServices: Copy activities need storage")
        with storage_errors("Source"):
            self.source_storage = services.open_storage(source.location.linked_service)
        with storage_errors("Sink"):
            self.sink_storage = services.open_storage(sink.location.linked_service)
        self.reader = file_format(source.format, source.properties, get_property(self.source_settings, "formatSettings"),
                                  source.name)
        try:
            self.writer = file_format(sink.format, sink.properties, get_property(self.sink_settings, "formatSettings"),
                                      sink.name)
        except DatasetAccessError as exc:  # the sink dataset's own settings: the failure is on the sink side
            raise DatasetAccessError("Sink", exc.message) from exc
        store = get_property(self.sink_settings, "storeSettings") or {}
        self.behavior = get_property(store, "copyBehavior") or "PreserveHierarchy"
        translator = get_property(inputs, "translator")
        problem = translator_problem(translator)
        if problem:
            raise DatasetAccessError("Source", problem)
        self.mappings = parse_mappings(translator if isinstance(translator, Mapping) else None, where)

    def run(self) -> _Stats:
        settings = read_settings(get_property(self.source_settings, "storeSettings"), self.where)
        with storage_errors("Source"):
            files = select_files(self.source_storage, self.source.location, settings)
        stats = _Stats(tabular=self.reader.tabular)
        merge = self.behavior == "MergeFiles"
        outputs: list[tuple[str, bytes]] = []
        parts: list[bytes | Rows] = []
        for index, found in enumerate(files):
            data = self._read(found)
            stats.data_read += len(data)
            stats.files_read += 1
            part = self._decode(found, data, stats)
            if merge:
                parts.append(part)
            else:
                outputs.append((self._target(found, index), self._encode(part, found.path, stats)))
        if merge and files:
            outputs.append((self._merged_target(), self._encode(_merged(parts), self._merged_target(), stats)))
        for path, data in outputs:
            self._write(path, data)
            stats.data_written += len(data)
            stats.files_written += 1
        if settings.delete_after:
            with storage_errors("Source"):
                for found in files:
                    self.source_storage.delete(self.source.location.container, found.path)
        return stats

    def _decode(self, found: SourceFile, data: bytes, stats: _Stats) -> bytes | Rows:
        """A Binary file's bytes (decompressed if its dataset says so), or a file's rows with the mappings applied."""
        if isinstance(self.reader, BinaryFormat):
            return self.reader.unpack(data, found.path)
        rows = self.reader.read(data, f"{self.source.location.container}/{found.path}")
        stats.rows_read += len(rows)
        rows = add_columns(rows, get_property(self.source_settings, "additionalColumns"), found.relative, self.where)
        return apply_mappings(rows, self.mappings, self.where)

    def _encode(self, part: bytes | Rows, where: str, stats: _Stats) -> bytes:
        if isinstance(part, bytes):
            assert isinstance(self.writer, BinaryFormat)  # validate() allows Binary only to Binary
            return self.writer.pack(part)
        stats.rows_copied += len(part)
        return self.writer.write(part, where)

    def _target(self, found: SourceFile, index: int) -> str:
        folder, name = self.sink.location.folder_path, self.sink.location.file_name
        if self.behavior == "FlattenHierarchy":
            relative = name if name and index == 0 else self._generated_name(index)
        elif name:
            if index > 0:
                raise DatasetAccessError("Sink", f"the sink dataset `{self.sink.name}` names one file ({name}) but the "
                                         "source selects several: clear its fileName or set copyBehavior MergeFiles")
            relative = name
        else:
            relative = found.relative
        return f"{folder}/{relative}" if folder else relative

    def _merged_target(self) -> str:
        folder = self.sink.location.folder_path
        name = self.sink.location.file_name or self._generated_name(0)
        return f"{folder}/{name}" if folder else name

    def _generated_name(self, index: int) -> str:
        # ADF generates names from the activity run id; the exact pattern is not documented for format datasets.
        return f"data_{self.call.activity_run_id}_{index}{self.writer.extension}" if index else \
            f"data_{self.call.activity_run_id}{self.writer.extension}"

    def _read(self, found: SourceFile) -> bytes:
        with storage_errors("Source"):
            data: bytes = self.source_storage.read_bytes(self.source.location.container, found.path)
        return data

    def _write(self, path: str, data: bytes) -> None:
        with storage_errors("Sink"):
            self.sink_storage.write_bytes(self.sink.location.container, path, data)

def _merged(parts: list[bytes | Rows]) -> bytes | Rows:
    """MergeFiles: the files' bytes one after the other, or their rows under the union of their columns."""
    if all(isinstance(part, bytes) for part in parts):
        return b"".join(part for part in parts if isinstance(part, bytes))
    tables = [part for part in parts if isinstance(part, Rows)]
    columns: dict[str, None] = {}
    for table in tables:
        columns.update(dict.fromkeys(table.columns))
    return Rows(tuple(columns), tuple(record for table in tables for record in table.records))
