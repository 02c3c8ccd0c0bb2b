"""The factory model shared with the local runner (load, SDK model check, references, limits, overrides) and deploy:
check everything, plan each part (code, Batch pool, Purview, factory, Synapse) against what Azure holds, then apply."""
