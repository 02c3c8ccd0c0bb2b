"""The whole pipeline on one machine: twin, storage, factory runner, DuckDB, summary and report."""
