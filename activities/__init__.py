"""Code that Azure Data Factory Custom activities run on Azure Batch.

Shipped as a plain package tree (the activity's ``folderPath``) and started as
``python -m activities.<stage>`` with the Batch task working directory as cwd.
Must never import the local stand-ins (``offline.spotify_twin``, ``offline.adf_runner``,
``offline.synapse_duckdb``), ``factory_deploy.env_config`` or ``duckdb``: none of them exist on Batch.
"""

__all__: list[str] = []
