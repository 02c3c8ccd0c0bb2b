"""The whole pipeline on one machine: twin, storage, factory runner, DuckDB, summary and report.

May import the other offline stand-ins and the factory model of `factory_deploy`; `scripts/run_local.py` calls it.
"""
