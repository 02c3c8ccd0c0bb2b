"""Run a mapping data flow on this machine: its script's sources, select/derive/filter and sinks on DuckDB.

The script is ``scriptLines``, ``script``, or in the first format the ``script`` line of each source,
transformation and sink. What is emulated (everything else is refused by ``load_dataflow``, naming the
transformation, option, construct or function, before the pipeline runs):

- ``source``: inline Parquet datasets (``sources[].linkedService``; ``format: 'parquet'``, ``container``,
  ``wildcardPaths`` or ``folderPath``/``fileName``, ``ignoreNoFilesFound``), with or without a projection
  ``output(col as type, ...)``; with ``allowSchemaDrift`` the columns the projection does not name pass
  through as *drifted* columns: strings, or the files' own types with ``inferDriftedColumnTypes``; without it
  they are dropped. Expressions reach a drifted column only through ``byName()``/``byPosition()`` or a column
  pattern, and a select only through rule-based mapping (``each(match(...))``): a bare name is refused, as ADF
  does not have it in the design-time schema (Microsoft Learn, "Schema drift in mapping data flow": drifted columns
  "arrive as a string data type" unless "Infer drifted column types" is checked; "Transforming drifted columns").
  A column defined by a derive is in the schema from there on. The files are read from the linked service's storage (a folder or
  Azurite) through ``activities.common.storage``. Like Spark, a file's partition folders do not become
  columns (no ``partitionRootPath``).
- ``select``: ``mapColumn(col, new = old, each(match(<condition on name/type/position>)[, <name> = $$]))``,
  ``skipDuplicateMapInputs``/``skipDuplicateMapOutputs``.
- ``derive``: ``col = <expression>`` (new or replacing) and ``each(match(...), $$ = <expression>)``.
- ``filter``: one condition.
- ``sink``: inline Parquet (``container``, ``folderPath``, ``truncate``, ``partitionFileNames``/``filePattern``,
  an ``input(...)`` schema with ``validateSchema``/``allowSchemaDrift``). One file per sink (one
  partition), snappy, every column nullable, as Spark writes Parquet. Without a file name option the
  file is ``part-00000-<uuid>-c000.snappy.parquet``.

Expressions: ``offline.adf_runner.dataflow.expressions``. The activity output mirrors ADF's
``runStatus.metrics.<sink>.{rowsWritten, sources.<source>.rowsRead}``.
"""

from __future__ import annotations

import io
import re
import shutil
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from factory_deploy.json_keys import get_property
from offline.adf_runner.dataflow.expressions import (
    SCALAR_TYPES,
    STRUCTURAL,
    Compiled,
    ExpressionFailure,
    SqlEnv,
    ValueEnv,
    cast_value,
    compile_sql,
    dfs_type,
    duckdb_type,
    evaluate,
    unknown_functions,
    unsupported_syntax,
)
from offline.adf_runner.dataflow.script import (
    Assign,
    Call,
    Column,
    Current,
    Expr,
    Literal,
    Option,
    Script,
    Transformation,
    Typed,
    parse_expression,
    parse_script,
)
from offline.adf_runner.errors import ActivityFailed, UnsupportedDataFlowFeatureError
from offline.adf_runner.factory import DataFlow

if TYPE_CHECKING:
    import duckdb

    from activities.common.storage import Storage

__all__ = ["DATAFLOW_FAILED", "DataFlowDefinition", "load_dataflow", "run_dataflow"]

EFFECTIVE_RUNTIME = "local (DuckDB data flow emulation)"
# ADF's error code for a data flow that failed on user input.
DATAFLOW_FAILED = "DFExecutorUserError"
SUPPORTED_KINDS = ("source", "select", "derive", "filter", "sink")
# Script names of the other transformations, with the names Studio and Microsoft Learn give them ("Data flow script"
# sections of https://learn.microsoft.com/azure/data-factory/data-flow-transformation-overview's pages): a refusal
# names both, since the script's `foldDown` is the page's "Flatten".
KIND_LABELS = {
    "join": "Join", "aggregate": "Aggregate", "exists": "Exists", "lookup": "Lookup", "union": "Union",
    "split": "Conditional split", "alterRow": "Alter row", "window": "Window", "rank": "Rank", "pivot": "Pivot",
    "unpivot": "Unpivot", "foldDown": "Flatten", "parse": "Parse", "stringify": "Stringify",
    "keyGenerate": "Surrogate key", "sort": "Sort", "assert": "Assert", "cast": "Cast", "call": "External call",
}
_OPTIONS: dict[str, frozenset[str]] = {
    "source": frozenset({"allowSchemaDrift", "validateSchema", "inferDriftedColumnTypes", "ignoreNoFilesFound",
                         "format", "container", "folderPath", "fileName", "wildcardPaths"}),
    "select": frozenset({"skipDuplicateMapInputs", "skipDuplicateMapOutputs"}),
    "derive": frozenset(),
    "filter": frozenset(),
    "sink": frozenset({"allowSchemaDrift", "validateSchema", "format", "container", "folderPath", "truncate",
                       "partitionFileNames", "filePattern", "umask", "preCommands", "postCommands",
                       "skipDuplicateMapInputs", "skipDuplicateMapOutputs"}),
}
_STRUCTURAL = {
    "source": frozenset({"output"}), "select": frozenset({"mapColumn", "each", "match"}),
    "derive": frozenset({"each", "match"}), "filter": frozenset(), "sink": frozenset({"input", "partitionBy"}),
}
StorageOpener = Callable[[str], "Storage"]


@dataclass(frozen=True)
class DataFlowDefinition:
    name: str
    script: Script
    sources: Mapping[str, Mapping[str, Any]]  # transformation name -> typeProperties.sources[] entry
    sinks: Mapping[str, Mapping[str, Any]]


# --- loading and validation ------------------------------------------------------------------------------------


def load_dataflow(dataflow: DataFlow) -> DataFlowDefinition:
    """Parse a factory data flow and check that every part of it is something this engine runs."""
    name = dataflow.name
    if dataflow.type != "MappingDataFlow":
        raise UnsupportedDataFlowFeatureError(name, None, f"data flow type `{dataflow.type}`", "MappingDataFlow")
    props = dataflow.type_properties
    sources, sinks = (_entries(props, key) for key in ("sources", "sinks"))
    script = parse_script(_script_text(props, sources, sinks), f"data flow `{name}`")
    definition = DataFlowDefinition(
        name=name,
        script=script,
        sources={str(get_property(e, "name")): e for e in sources},
        sinks={str(get_property(e, "name")): e for e in sinks},
    )
    _validate(definition)
    return definition


def _entries(props: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    return [e for e in get_property(props, key) or [] if isinstance(e, Mapping)]


def _linked_service(entry: Mapping[str, Any]) -> Any:
    """The linked service an inline source or sink names (None for a dataset reference)."""
    return get_property(get_property(entry, "linkedService") or {}, "referenceName")


def _script_text(props: Mapping[str, Any], sources: list[Mapping[str, Any]], sinks: list[Mapping[str, Any]]) -> str:
    """The data flow's script: ``scriptLines``, else ``script``, else (the first format, which Microsoft's gallery still
    holds, e.g. templates/Slowly Changing Dimension Type 2) the ``script`` line of every source, transformation and sink."""
    lines = get_property(props, "scriptLines")
    if isinstance(lines, list):
        return "\n".join(str(line) for line in lines)
    text = get_property(props, "script")
    if text:
        return str(text)
    parts = [*sources, *_entries(props, "transformations"), *sinks]
    return "\n".join(str(get_property(part, "script")) for part in parts if get_property(part, "script"))


def _validate(definition: DataFlowDefinition) -> None:
    name, script = definition.name, definition.script
    _refuse_unsupported_kinds(definition)
    for declaration in script.parameters:
        if declaration.default is not None:
            _check_expression(name, None, declaration.default, frozenset())
    defined = {t.name for t in script.transformations}
    for t in script.transformations:
        _check_streams(name, t, defined)
        for option in (a for a in t.args if isinstance(a, Option)):
            if option.name not in _OPTIONS[t.kind]:
                raise UnsupportedDataFlowFeatureError(name, t.name, f"{t.kind} option `{option.name}`",
                                                      ", ".join(sorted(_OPTIONS[t.kind])) or "none")
        for arg in t.args:
            _check_expression(name, t.name, arg.value, _STRUCTURAL[t.kind])
        _check_positionals(name, t)
        _projection(name, t)  # the types of a source's output(...) or a sink's input(...) must exist locally
    for kind, listed in (("source", definition.sources), ("sink", definition.sinks)):
        _check_inline_datasets(definition, kind, listed)


def _refuse_unsupported_kinds(definition: DataFlowDefinition) -> None:
    """The first transformation, in script order, whose kind the engine does not run (before any other check,
    so a script is refused for what it uses rather than for a detail of what it can run)."""
    for t in definition.script.transformations:
        if t.kind not in SUPPORTED_KINDS:
            label = KIND_LABELS.get(t.kind)
            feature = f"transformation `{t.kind}`" + (f" ({label})" if label else "")
            raise UnsupportedDataFlowFeatureError(definition.name, t.name, feature, ", ".join(SUPPORTED_KINDS))


def _check_streams(name: str, t: Transformation, defined: set[str]) -> None:
    if t.split_outputs:
        raise UnsupportedDataFlowFeatureError(name, t.name, "split outputs (`~> name@(...)`)")
    expected_inputs = 0 if t.kind == "source" else 1
    if len(t.inputs) != expected_inputs:
        raise UnsupportedDataFlowFeatureError(name, t.name, f"a {t.kind} with {len(t.inputs)} input stream(s)",
                                              f"{expected_inputs} input stream(s)")
    for stream in t.inputs:
        if stream not in defined:
            raise UnsupportedDataFlowFeatureError(name, t.name, f"input stream `{stream}` (not defined in the script)")


def _check_inline_datasets(definition: DataFlowDefinition, kind: str, listed: Mapping[str, Mapping[str, Any]]) -> None:
    in_script = {t.name for t in definition.script.transformations if t.kind == kind}
    if in_script != set(listed):
        raise UnsupportedDataFlowFeatureError(
            definition.name, None, f"{kind}s in the script ({', '.join(sorted(in_script)) or 'none'}) that differ "
            f"from typeProperties.{kind}s ({', '.join(sorted(listed)) or 'none'})")
    for stream, entry in listed.items():
        if not isinstance(_linked_service(entry), str):
            raise UnsupportedDataFlowFeatureError(
                definition.name, stream, f"a {kind} without an inline linkedService (dataset references)",
                "inline datasets: typeProperties." + kind + "s[].linkedService")


def _check_expression(name: str, transformation: str | None, expr: Expr, structural: frozenset[str]) -> None:
    for construct in unsupported_syntax(expr):
        raise UnsupportedDataFlowFeatureError(name, transformation, construct)
    for function in unknown_functions(expr, structural):
        known = "a structural call of another transformation" if function in STRUCTURAL else "function"
        raise UnsupportedDataFlowFeatureError(name, transformation, f"{known} `{function}`" if known == "function"
                                              else f"`{function}(...)` ({known})")


def _check_positionals(name: str, t: Transformation) -> None:
    positionals = t.positionals()
    if t.kind == "filter" and len(positionals) != 1:
        raise UnsupportedDataFlowFeatureError(name, t.name, f"a filter with {len(positionals)} conditions", "exactly one")
    is_map_column = len(positionals) == 1 and isinstance(positionals[0], Call) and positionals[0].name == "mapColumn"
    if t.kind == "select" and not is_map_column:
        raise UnsupportedDataFlowFeatureError(name, t.name, "a select without one mapColumn(...)")
    if t.kind == "source" and any(not (isinstance(p, Call) and p.name == "output") for p in positionals):
        raise UnsupportedDataFlowFeatureError(name, t.name, "source arguments other than output(...) and options")
    if t.kind == "sink":
        for p in positionals:
            if isinstance(p, Call) and p.name == "partitionBy":
                if len(p.args) != 2 or p.args[1] != Literal(1):
                    raise UnsupportedDataFlowFeatureError(name, t.name, "partitionBy with more than one partition",
                                                          "partitionBy('hash', 1)")
            elif not (isinstance(p, Call) and p.name == "input"):
                raise UnsupportedDataFlowFeatureError(name, t.name, "sink arguments other than input(...), partitionBy and options")


# --- running ---------------------------------------------------------------------------------------------------


@dataclass
class _Stream:
    view: str | None  # None: no data at all (a source without files and without projection)
    columns: list[tuple[str, str]]  # (name, DuckDB type)
    sources: frozenset[str]
    drifted: frozenset[str] = frozenset()  # columns not in the design-time schema (see the module docstring)


@dataclass
class _Run:
    definition: DataFlowDefinition
    parameters: dict[str, Any]
    open_storage: StorageOpener
    scratch: Path
    connection: duckdb.DuckDBPyConnection
    streams: dict[str, _Stream] = field(default_factory=dict)
    rows_read: dict[str, int] = field(default_factory=dict)

    def fail(self, transformation: str | None, problem: str) -> ActivityFailed:
        where = f"data flow `{self.definition.name}`" + (f", transformation `{transformation}`" if transformation else "")
        return ActivityFailed(DATAFLOW_FAILED, f"Job failed due to reason: {where}: {problem}")

    def values(self, t: Transformation) -> dict[str, Any]:
        try:
            return {name: evaluate(expr, ValueEnv(self.parameters)) for name, expr in t.options().items()}
        except ExpressionFailure as exc:
            raise self.fail(t.name, str(exc)) from exc

    def stream(self, name: str) -> _Stream:
        if name not in self.streams:
            t = self.definition.script.transformation(name)
            assert t is not None  # checked by _validate
            self.streams[name] = _HANDLERS[t.kind](self, t)
        return self.streams[name]

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Run ``sql`` and fetch every row: a result left half-read keeps the connection busy, and DuckDB then
        refuses the next statement ("connection has an unfinished result"), e.g. a sink reading its source."""
        return self.connection.execute(sql).fetchall()

    def describe(self, view: str) -> list[tuple[str, str]]:
        return [(row[0], row[1]) for row in self.query(f"DESCRIBE SELECT * FROM {view}")]

    def create_view(
        self, t: Transformation, select_sql: str, sources: frozenset[str], drifted: frozenset[str] = frozenset()
    ) -> _Stream:
        view = _quote(f"stream_{t.name}")
        try:
            self.query(f"CREATE TEMP VIEW {view} AS {select_sql}")
            return _Stream(view, self.describe(view), sources, drifted)
        except Exception as exc:
            raise self.fail(t.name, f"DuckDB refused the transformation: {exc}") from exc


def run_dataflow(
    definition: DataFlowDefinition, given: Mapping[str, Any], open_storage: StorageOpener, scratch: Path
) -> dict[str, Any]:
    """Run every sink of the data flow; returns the activity output (ADF's ``runStatus`` shape)."""
    import duckdb

    parameters = _parameters(definition, given)
    scratch.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect()
    # Spark runs data flows in UTC; DuckDB would label timestamps with the machine's zone.
    connection.execute("SET TimeZone = 'UTC'")
    run = _Run(definition, parameters, open_storage, scratch, connection)
    metrics: dict[str, Any] = {}
    try:
        for t in definition.script.transformations:
            if t.kind == "sink":
                metrics[t.name] = _sink(run, t)
    finally:
        connection.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return {"runStatus": {"status": "Succeeded", "metrics": metrics, "output": {}},
            "effectiveIntegrationRuntime": EFFECTIVE_RUNTIME}


def _parameters(definition: DataFlowDefinition, given: Mapping[str, Any]) -> dict[str, Any]:
    declared = {p.name: p for p in definition.script.parameters}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ActivityFailed(DATAFLOW_FAILED, f"data flow `{definition.name}` has no parameter(s) {', '.join(unknown)} "
                             f"(declared: {', '.join(declared) or 'none'})")
    values: dict[str, Any] = {}
    for name, declaration in declared.items():
        what = f"data flow `{definition.name}` parameter `${name}`"
        try:
            if name in given:
                raw = given[name]
                # ADF passes data flow expressions as strings ('2026-11-24' with its quotes); JSON numbers and
                # booleans are literal values.
                value = evaluate(parse_expression(raw, what), ValueEnv(values)) if isinstance(raw, str) else raw
            elif declaration.default is not None:
                value = evaluate(declaration.default, ValueEnv(values))
            else:
                raise ActivityFailed(DATAFLOW_FAILED, f"{what} has no value: pass it in the ExecuteDataFlow activity's "
                                     "dataFlow.parameters or give it a default")
            values[name] = cast_value(value, declaration.type, what)
        except ExpressionFailure as exc:
            raise ActivityFailed(DATAFLOW_FAILED, f"{what}: {exc}") from exc
    return values


# --- transformations -------------------------------------------------------------------------------------------


def _source(run: _Run, t: Transformation) -> _Stream:
    options = run.values(t)
    if options.get("format", "parquet") != "parquet":
        raise run.fail(t.name, f"format `{options.get('format')}`: only 'parquet' sources run locally")
    container = options.get("container")
    if not isinstance(container, str) or not container:
        raise run.fail(t.name, "an inline source needs `container`")
    storage = run.open_storage(str(_linked_service(run.definition.sources[t.name])))
    files, looked = _source_files(run, t, storage, container, options)
    projection = _projection(run.definition.name, t)
    if not files:
        if not options.get("ignoreNoFilesFound", False):
            raise run.fail(t.name, f"no files found at {looked} (set ignoreNoFilesFound: true to allow it)")
        return _no_files(run, t, projection)
    raw = _read_parquet(run, t, storage, container, files)
    columns, drifted = _source_columns(run, t, options, projection, raw)
    stream = run.create_view(t, f"SELECT {', '.join(columns)} FROM {raw}", frozenset({t.name}), drifted)
    ((count,),) = run.query(f"SELECT count(*) FROM {stream.view}")
    run.rows_read[t.name] = int(count)
    return stream


def _source_files(
    run: _Run, t: Transformation, storage: Storage, container: str, options: Mapping[str, Any]
) -> tuple[list[str], str]:
    """The blob paths a source reads (``wildcardPaths``, or ``folderPath`` [+ ``fileName``]) and where it looked."""
    patterns = options.get("wildcardPaths")
    if patterns is None:
        return _folder_files(storage, container, options)
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise run.fail(t.name, f"wildcardPaths must be a list of strings, got {patterns!r}")
    files = sorted({path for pattern in patterns for path in _match(storage, container, pattern)})
    return files, ", ".join(f"{container}/{p}" for p in patterns)


def _folder_files(storage: Storage, container: str, options: Mapping[str, Any]) -> tuple[list[str], str]:
    folder = str(options.get("folderPath") or "").strip("/")
    looked = f"{container}/{folder}"
    file_name = options.get("fileName")
    if file_name:
        path = f"{folder}/{file_name}" if folder else str(file_name)
        return ([path] if storage.exists(container, path) else []), looked
    prefix = f"{folder}/" if folder else ""
    # Like Spark, files whose names start with `_` or `.` (_SUCCESS, .crc) are not data, nor are subfolders.
    files = [b.path for b in storage.list_blobs(container, prefix)
             if "/" not in b.path[len(prefix):] and not b.path[len(prefix):].startswith(("_", "."))]
    return files, looked


def _no_files(run: _Run, t: Transformation, projection: list[tuple[str, str]]) -> _Stream:
    """A source allowed to find nothing: no rows, with the projection's columns if it declares any."""
    run.rows_read[t.name] = 0
    if not projection:
        return _Stream(None, [], frozenset({t.name}))
    empty = ", ".join(f"CAST(NULL AS {kind}) AS {_quote(name)}" for name, kind in projection)
    return run.create_view(t, f"SELECT {empty} WHERE FALSE", frozenset({t.name}))


def _read_parquet(run: _Run, t: Transformation, storage: Storage, container: str, files: list[str]) -> str:
    """Copies ``files`` into the run's scratch folder; the DuckDB table function that reads them."""
    folder = run.scratch / f"source_{t.name}"
    folder.mkdir(parents=True, exist_ok=True)
    local = []
    for index, path in enumerate(files):
        target = folder / f"{index:05d}.parquet"
        target.write_bytes(storage.read_bytes(container, path))
        local.append("'" + str(target).replace("'", "''") + "'")
    return f"read_parquet([{', '.join(local)}], union_by_name = true)"


def _source_columns(
    run: _Run, t: Transformation, options: Mapping[str, Any], projection: list[tuple[str, str]], raw: str
) -> tuple[list[str], frozenset[str]]:
    """The select list of a source over its files: the projection's columns cast to their types, then (with
    ``allowSchemaDrift``) the files' other columns as drifted columns; and the names of those."""
    in_files = [name for name, _ in run.describe(f"(SELECT * FROM {raw})")]
    present = set(in_files)
    missing = [name for name, _ in projection if name not in present]
    if missing and options.get("validateSchema", False):
        raise run.fail(t.name, f"validateSchema: column(s) {', '.join(missing)} of the projection are not in the files")
    named = {name for name, _ in projection}
    columns = [f"CAST({_quote(name) if name in present else 'NULL'} AS {kind}) AS {_quote(name)}"
               for name, kind in projection]
    drifted = [name for name in in_files if name not in named] if options.get("allowSchemaDrift", False) else []
    infer = bool(options.get("inferDriftedColumnTypes", False))
    columns += [_quote(name) if infer else f"CAST({_quote(name)} AS VARCHAR) AS {_quote(name)}" for name in drifted]
    if not columns:
        raise run.fail(t.name, "the source has no projection and allowSchemaDrift is off, so it reads no column")
    return columns, frozenset(drifted)


def _projection(dataflow: str, t: Transformation) -> list[tuple[str, str]]:
    """A source's ``output(a as string, ...)`` or a sink's ``input(...)`` as (column, DuckDB type)."""
    columns: list[tuple[str, str]] = []
    for positional in t.positionals():
        if not (isinstance(positional, Call) and positional.name in ("output", "input")):
            continue
        for item in positional.args:
            if not (isinstance(item, Typed) and isinstance(item.expr, Column) and item.op == "as"):
                raise UnsupportedDataFlowFeatureError(
                    dataflow, t.name, f"{positional.name}(...) entries other than `<column> as <type>`")
            try:
                columns.append((item.expr.name, duckdb_type(item.type)))
            except ExpressionFailure as exc:
                raise UnsupportedDataFlowFeatureError(
                    dataflow, t.name, f"type `{item.type}` (column `{item.expr.name}`)",
                    ", ".join(SCALAR_TYPES) + " and arrays of them") from exc
    return columns


def _match(storage: Storage, container: str, pattern: str) -> list[str]:
    """Blob paths matching an ADF wildcard path (``*`` within a folder, ``**`` across folders, ``?`` one char)."""
    pattern = pattern.strip("/")
    first = min((i for i, c in enumerate(pattern) if c in "*?"), default=len(pattern))
    prefix = pattern[:first].rsplit("/", 1)[0] + "/" if "/" in pattern[:first] else ""
    regex = ""
    index = 0
    while index < len(pattern):
        if pattern.startswith("**", index):
            regex += ".*"
            index += 2
        elif pattern[index] == "*":
            regex += "[^/]*"
            index += 1
        elif pattern[index] == "?":
            regex += "[^/]"
            index += 1
        else:
            regex += re.escape(pattern[index])
            index += 1
    compiled = re.compile(regex)
    return [b.path for b in storage.list_blobs(container, prefix) if compiled.fullmatch(b.path)]


def _select(run: _Run, t: Transformation) -> _Stream:
    upstream = run.stream(t.inputs[0])
    if upstream.view is None:
        return upstream
    options = run.values(t)
    skip_inputs = bool(options.get("skipDuplicateMapInputs", False))
    skip_outputs = bool(options.get("skipDuplicateMapOutputs", False))
    (map_column,) = t.positionals()
    assert isinstance(map_column, Call)
    names = [name for name, _ in upstream.columns]
    mapped: list[tuple[str, str]] = []  # (output, input)
    drifted: set[str] = set()
    for item in map_column.args:
        rule_based = isinstance(item, Call) and item.name == "each"
        for output, source in _mappings(run, t, item, upstream):
            if source not in names:
                raise run.fail(t.name, f"column `{source}` is not in stream `{t.inputs[0]}` (columns: {', '.join(names)})")
            if source in upstream.drifted:
                if not rule_based:
                    raise run.fail(t.name, _drifted_message(source))
                drifted.add(output)
            if skip_inputs and any(source == s for _, s in mapped):
                continue
            if any(output == o for o, _ in mapped):
                if skip_outputs:
                    continue
                raise run.fail(t.name, f"column `{output}` is mapped twice (set skipDuplicateMapOutputs: true to keep the first)")
            mapped.append((output, source))
    if not mapped:
        raise run.fail(t.name, "the select maps no column")
    columns = ", ".join(f"{_quote(source)} AS {_quote(output)}" for output, source in mapped)
    kept = frozenset(output for output, _ in mapped if output in drifted)
    return run.create_view(t, f"SELECT {columns} FROM {upstream.view}", upstream.sources, kept)


def _drifted_message(column: str) -> str:
    return (f"column `{column}` is a drifted column (not in the source's projection): ADF reaches it only through "
            f"byName('{column}') or byPosition(), a column pattern or rule-based mapping, not by its bare name")


def _mappings(run: _Run, t: Transformation, item: Expr, upstream: _Stream) -> list[tuple[str, str]]:
    if isinstance(item, Column):
        return [(item.name, item.name)]
    if isinstance(item, Assign) and isinstance(item.target, Column) and isinstance(item.value, Column):
        return [(item.target.name, item.value.name)]
    if isinstance(item, Call) and item.name == "each":
        rename = item.args[1] if len(item.args) > 1 else None
        if rename is not None and not (isinstance(rename, Assign) and isinstance(rename.value, Current)):
            raise run.fail(t.name, "in a select, each(match(...), <name> = $$) may only rename columns")
        result = []
        for position, name, kind in _matching(run, t, item, upstream):
            output = name
            if rename is not None:
                assert isinstance(rename, Assign)
                try:
                    output = str(evaluate(rename.target, ValueEnv(run.parameters, _metadata(name, kind, position), name)))
                except ExpressionFailure as exc:
                    raise run.fail(t.name, str(exc)) from exc
            result.append((output, name))
        return result
    raise run.fail(t.name, "mapColumn entries must be a column, `new = old` or each(match(...)); use derive for expressions")


def _metadata(name: str, kind: str, position: int) -> dict[str, Any]:
    return {"name": name, "type": dfs_type(kind), "position": position}


def _matching(run: _Run, t: Transformation, each: Call, upstream: _Stream) -> list[tuple[int, str, str]]:
    """Columns of ``upstream`` whose metadata satisfies ``each(match(<condition>), ...)``."""
    if not each.args or not (isinstance(each.args[0], Call) and each.args[0].name == "match" and len(each.args[0].args) == 1):
        raise run.fail(t.name, "each(...) needs match(<condition>) as its first argument")
    condition = each.args[0].args[0]
    found = []
    for position, (name, kind) in enumerate(upstream.columns, start=1):
        try:
            verdict = evaluate(condition, ValueEnv(run.parameters, _metadata(name, kind, position), name))
        except ExpressionFailure as exc:
            raise run.fail(t.name, f"match(): {exc}") from exc
        if verdict is True:
            found.append((position, name, kind))
    return found


def _derive(run: _Run, t: Transformation) -> _Stream:
    upstream = run.stream(t.inputs[0])
    if upstream.view is None:
        return upstream
    current: dict[str, Compiled] = {name: Compiled(_quote(name), dfs_type(kind)) for name, kind in upstream.columns}
    drifted = set(upstream.drifted)
    try:
        for item in t.positionals():
            if isinstance(item, Assign) and isinstance(item.target, Column):
                current[item.target.name] = compile_sql(
                    item.value, SqlEnv(dict(current), run.parameters, drifted=frozenset(drifted)))
                drifted.discard(item.target.name)  # a derived column is in the schema from here on
            elif isinstance(item, Call) and item.name == "each":
                if len(item.args) != 2 or not (isinstance(item.args[1], Assign) and isinstance(item.args[1].target, Current)):
                    raise run.fail(t.name, "in a derive, each(match(...), $$ = <expression>) rewrites the matching columns")
                expression = item.args[1].value
                for _, name, _ in _matching(run, t, item, upstream):
                    current[name] = compile_sql(
                        expression, SqlEnv(dict(current), run.parameters, current[name], frozenset(drifted)))
            else:
                raise run.fail(t.name, "derive entries must be `<column> = <expression>` or each(match(...), $$ = <expression>)")
    except ExpressionFailure as exc:
        raise run.fail(t.name, str(exc)) from exc
    columns = ", ".join(f"{compiled.sql} AS {_quote(name)}" for name, compiled in current.items())
    return run.create_view(t, f"SELECT {columns} FROM {upstream.view}", upstream.sources, frozenset(drifted))


def _filter(run: _Run, t: Transformation) -> _Stream:
    upstream = run.stream(t.inputs[0])
    if upstream.view is None:
        return upstream
    columns = {name: Compiled(_quote(name), dfs_type(kind)) for name, kind in upstream.columns}
    try:
        condition = compile_sql(t.positionals()[0], SqlEnv(columns, run.parameters, drifted=upstream.drifted))
    except ExpressionFailure as exc:
        raise run.fail(t.name, str(exc)) from exc
    return run.create_view(t, f"SELECT * FROM {upstream.view} WHERE {condition.sql}", upstream.sources, upstream.drifted)


def _sink(run: _Run, t: Transformation) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    started = time.monotonic()
    upstream = run.stream(t.inputs[0])
    options = run.values(t)
    if options.get("format", "parquet") != "parquet":
        raise run.fail(t.name, f"format `{options.get('format')}`: only 'parquet' sinks run locally")
    for option in ("preCommands", "postCommands"):
        if options.get(option):
            raise run.fail(t.name, f"{option} are not supported locally")
    container, folder = options.get("container"), str(options.get("folderPath") or "").strip("/")
    if not isinstance(container, str) or not container or not folder:
        raise run.fail(t.name, "an inline sink needs `container` and `folderPath`")
    storage = run.open_storage(str(_linked_service(run.definition.sinks[t.name])))
    file_name = _sink_file_name(run, t, options)
    sources = {name: {"rowsRead": run.rows_read.get(name, 0)} for name in sorted(upstream.sources)}
    if options.get("truncate", False):
        for blob in list(storage.list_blobs(container, f"{folder}/")):
            storage.delete(container, blob.path)
    if upstream.view is None:  # nothing was read: Spark writes no file
        return _metrics(0, started, sources)
    select = _sink_columns(run, t, upstream, options)
    relation = run.connection.sql(f"SELECT {select} FROM {upstream.view}")
    # DuckDB 2 renamed fetch_record_batch to to_arrow_reader; pyproject allows duckdb>=1.0.
    to_reader = getattr(relation, "to_arrow_reader", None) or relation.fetch_record_batch
    reader = to_reader(100_000)
    schema = pa.schema([f.with_nullable(True) for f in reader.schema])
    buffer = io.BytesIO()
    rows = 0
    with pq.ParquetWriter(buffer, schema, compression="snappy") as writer:
        for batch in reader:
            writer.write_batch(pa.RecordBatch.from_arrays(batch.columns, schema=schema))
            rows += batch.num_rows
    path = f"{folder}/{file_name}"
    storage.write_bytes(container, path, buffer.getvalue())
    return _metrics(rows, started, sources)


def _sink_file_name(run: _Run, t: Transformation, options: Mapping[str, Any]) -> str:
    names = options.get("partitionFileNames")
    if names is not None:
        if not isinstance(names, list) or len(names) != 1 or not isinstance(names[0], str):
            raise run.fail(t.name, "partitionFileNames must name one file locally (one partition)")
        return names[0]
    pattern = options.get("filePattern")
    if isinstance(pattern, str) and pattern:
        return pattern.replace("[n]", "1")
    return f"part-00000-{uuid.uuid4()}-c000.snappy.parquet"


def _sink_columns(run: _Run, t: Transformation, upstream: _Stream, options: Mapping[str, Any]) -> str:
    declared = _projection(run.definition.name, t)
    present = {name for name, _ in upstream.columns}
    missing = [name for name, _ in declared if name not in present]
    if missing and options.get("validateSchema", False):
        raise run.fail(t.name, f"validateSchema: column(s) {', '.join(missing)} of the sink schema are not in the stream")
    if declared and not options.get("allowSchemaDrift", False):
        return ", ".join(f"CAST({_quote(n) if n in present else 'NULL'} AS {k}) AS {_quote(n)}" for n, k in declared)
    return "*"


def _metrics(rows: int, started: float, sources: dict[str, Any]) -> dict[str, Any]:
    return {"format": "parquet", "store": "blob", "rowsWritten": rows,
            "sinkProcessingTime": int((time.monotonic() - started) * 1000), "sources": sources,
            "progressState": "Completed"}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_HANDLERS: dict[str, Callable[[_Run, Transformation], _Stream]] = {
    "source": _source, "select": _select, "derive": _derive, "filter": _filter,
}

