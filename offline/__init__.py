"""Offline stand-ins, never shipped to Azure: the ADF + Batch runner, the Spotify twin, Synapse on DuckDB, the local run.

They run the product (`adf/` JSON, the `activities` package as Batch runs it, `synapse/` SQL) on one machine.
They may import the factory model from `factory_deploy` (the one loader deploy uses) and the product's files;
nothing that ships (`activities/`, `factory_deploy/`) may import them.
"""
