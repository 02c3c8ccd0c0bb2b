"""The load stage: curated snapshot -> serving zone, its schemas, views and lineage.

PL_Load_Spotify runs the mapping data flow Df_Load_Serving (staging every table of the snapshot), then
``python -m activities.load.check`` (infer, classify and publish schemas; view DDL for new/additive
tables), the views' DDL on Synapse, and ``python -m activities.load.lineage``.

Pure modules: ``schema`` (the canonical schema), ``classify`` (unchanged / additive / breaking),
``ddl`` (view DDL from a schema), ``layout`` (paths). ``generate`` writes the committed data flow and
views from the curated schemas.
"""

from activities.load.classify import Classification, ColumnChange, classify
from activities.load.ddl import view_ddl
from activities.load.schema import Column, TableSchema

__all__ = ["Classification", "Column", "ColumnChange", "TableSchema", "classify", "view_ddl"]
