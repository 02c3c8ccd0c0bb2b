"""Generate the load's committed artifacts from the curated schemas (the table list lives with them).

``python -m activities.load.generate [--root REPO] [--check]`` writes (or, with --check, only compares):

- ``adf/dataflows/Df_Load_Serving.json``: one source -> filter -> select -> sink chain per curated table
  (``activities/transform/schemas.py`` TABLES, natural keys from NATURAL_KEYS);
- ``synapse/views/spotify.<table>.sql``: the view of each table, from ``activities.load.ddl.view_ddl``.

Run it after adding or changing a curated table; tests fail while the committed files differ.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from activities.load.arrow_types import curated_tables
from activities.load.ddl import view_ddl, view_file_name
from activities.load.layout import PARTITION_KEY
from activities.transform.schemas import NATURAL_KEYS

DATAFLOW_NAME = "Df_Load_Serving"
STORAGE_LINKED_SERVICE = "Ls_Blob_Storage"
GENERATED_MARK = "Generated from its schema by"  # in every generated view; only such files are pruned
# Partitioning of every sink, set explicitly rather than left to Spark's current partitioning (which writes one
# file per partition, up to 200 after a shuffle): one file per table and snapshot. A snapshot of a table is
# KB to a few MB, far below the 100 MB–10 GB files serverless SQL reads best; more partitions would only add
# tiny files. docs/scaling.md says when to change this and how history is compacted.
SINK_FILE = "part-00000.parquet"


def stream_suffix(table: str) -> str:
    """``track_artists`` -> ``TrackArtists`` (data flow stream names are alphanumeric)."""
    return "".join(part[:1].upper() + part[1:] for part in table.split("_") if part)


def dataflow_script(tables: Sequence[str], keys: Mapping[str, Sequence[str]]) -> list[str]:
    """The data flow script: parameters, then per table source -> filter (key not null) -> select -> sink."""
    lines = [
        "parameters{",
        "\tsnapshotDate as string,",
        "\tstagingFolder as string,",
        "\tcuratedContainer as string ('curated'),",
        "\tservingContainer as string ('serving')",
        "}",
    ]
    for table in tables:
        suffix = stream_suffix(table)
        source, keyed, columns, sink = f"Curated{suffix}", f"Keyed{suffix}", f"Columns{suffix}", f"Serving{suffix}"
        lines += [
            "source(allowSchemaDrift: true,",
            "\tvalidateSchema: false,",
            "\tinferDriftedColumnTypes: true,",
            "\tignoreNoFilesFound: true,",
            "\tformat: 'parquet',",
            "\tcontainer: ($curatedContainer),",
            f"\twildcardPaths:[(concat('{table}/{PARTITION_KEY}=', $snapshotDate, '/*.parquet'))]) ~> {source}",
        ]
        upstream = source
        table_keys = list(keys.get(table, ()))
        if table_keys:
            # The sources have no projection, so every column is drifted: ADF reaches it through byName() only
            # (Microsoft Learn, "Schema drift in mapping data flow", Transforming drifted columns).
            condition = " && ".join(f"!isNull(byName('{key}'))" for key in table_keys)
            lines.append(f"{source} filter({condition}) ~> {keyed}")
            upstream = keyed
        lines += [
            f"{upstream} select(mapColumn(",
            f"\t\teach(match(name!='{PARTITION_KEY}'))",
            "\t),",
            "\tskipDuplicateMapInputs: true,",
            f"\tskipDuplicateMapOutputs: true) ~> {columns}",
            f"{columns} sink(allowSchemaDrift: true,",
            "\tvalidateSchema: false,",
            "\tformat: 'parquet',",
            "\tcontainer: ($servingContainer),",
            f"\tfolderPath: (concat($stagingFolder, '/{table}/{PARTITION_KEY}=', $snapshotDate)),",
            "\ttruncate: true,",
            f"\tpartitionFileNames:['{SINK_FILE}'],",
            "\tumask: 0022,",
            "\tpreCommands: [],",
            "\tpostCommands: [],",
            "\tskipDuplicateMapInputs: true,",
            "\tskipDuplicateMapOutputs: true,",
            f"\tpartitionBy('hash', 1)) ~> {sink}",
        ]
    return lines


def dataflow_resource(tables: Sequence[str], keys: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    linked = {"referenceName": STORAGE_LINKED_SERVICE, "type": "LinkedServiceReference"}
    sources, sinks, transformations = [], [], []
    for table in tables:
        suffix = stream_suffix(table)
        sources.append({"name": f"Curated{suffix}", "description": f"curated {table} of the snapshot",
                        "linkedService": linked})
        if keys.get(table):
            transformations.append({"name": f"Keyed{suffix}", "description": "rows with their natural key"})
        transformations.append({"name": f"Columns{suffix}", "description": f"every column but {PARTITION_KEY}"})
        sinks.append({"name": f"Serving{suffix}", "description": f"staged serving {table}", "linkedService": linked})
    return {
        "name": DATAFLOW_NAME,
        "properties": {
            "type": "MappingDataFlow",
            "description": (
                "Loads every curated table of one snapshot into the serving zone's staging folder "
                "(generated by python -m activities.load.generate from activities/transform/schemas.py). "
                "Sources drift with the curated files' own types; rows without their natural key are dropped; "
                "snapshot_date is left to the folder name."
            ),
            "folder": {"name": "spotify"},
            "annotations": ["spotify", "load"],
            "typeProperties": {
                "sources": sources,
                "sinks": sinks,
                "transformations": transformations,
                "scriptLines": dataflow_script(tables, keys),
            },
        },
    }


def expected_files(root: Path) -> dict[Path, str]:
    """Every generated file (path under ``root``) and the text it must hold."""
    tables = curated_tables()
    files = {
        root / "adf" / "dataflows" / f"{DATAFLOW_NAME}.json":
            json.dumps(dataflow_resource(list(tables), NATURAL_KEYS), indent=2) + "\n",
    }
    for name, schema in tables.items():
        files[root / "synapse" / "views" / view_file_name(name)] = view_ddl(schema)
    return files


def stale_views(root: Path, expected: Mapping[Path, str]) -> list[Path]:
    """Generated view files of tables that no longer exist."""
    folder = root / "synapse" / "views"
    return [
        path for path in sorted(folder.glob("*.sql"))
        if path not in expected and GENERATED_MARK in path.read_text(encoding="utf-8")
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m activities.load.generate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root (default: current directory)")
    parser.add_argument("--check", action="store_true", help="only report files that differ; exit 1 if any")
    args = parser.parse_args(argv)
    expected = expected_files(args.root)
    differing = [p for p, text in expected.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    stale = stale_views(args.root, expected)
    if args.check:
        for path in differing:
            print(f"differs: {path}")
        for path in stale:
            print(f"stale: {path}")
        return 1 if differing or stale else 0
    for path in differing:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(expected[path], encoding="utf-8")
        print(f"wrote {path}")
    for path in stale:
        path.unlink()
        print(f"removed {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
