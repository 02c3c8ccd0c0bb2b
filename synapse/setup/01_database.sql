-- Serverless SQL database for the Spotify serving layer. Run against `master`. Idempotent.
-- UTF-8 collation: Parquet strings are UTF-8, and a BIN2 UTF-8 collation lets predicates push down to Parquet.
IF NOT EXISTS (SELECT 1 FROM sys.databases WHERE name = '$(Database)')
BEGIN
    EXEC ('CREATE DATABASE [$(Database)] COLLATE Latin1_General_100_BIN2_UTF8');
END;
