"""The factory model shared with the local runner (load, SDK model check, references, limits, overrides) and deploy:
check everything, plan each part (code, Batch pool, Purview, factory, Synapse) against what Azure holds, then apply.

May import `activities` (the code it ships) and the Azure SDKs; never `offline` or DuckDB: it runs against Azure.
"""
