"""Mapping data flows on this machine: the script parser (``script``), the expression language
(``expressions``) and the DuckDB engine (``engine``) behind the ExecuteDataFlow activity type."""

from offline.adf_runner.dataflow.engine import (
    DataFlowDefinition,
    load_dataflow,
    run_dataflow,
)
from offline.adf_runner.dataflow.script import Script, parse_script

__all__ = ["DataFlowDefinition", "Script", "load_dataflow", "parse_script", "run_dataflow"]
