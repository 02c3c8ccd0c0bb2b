-- External data sources and file format in the `$(Database)` database. Idempotent.
-- Access is through the workspace's managed identity: no key or SAS token is stored anywhere.
IF NOT EXISTS (SELECT 1 FROM sys.symmetric_keys WHERE name = '##MS_DatabaseMasterKey##')
BEGIN
    -- The password is substituted at deploy time from Key Vault secret `synapse-master-key-password`.
    EXEC ('CREATE MASTER KEY ENCRYPTION BY PASSWORD = ''$(MasterKeyPassword)''');
END;

IF NOT EXISTS (SELECT 1 FROM sys.database_scoped_credentials WHERE name = 'spotify_workspace_identity')
BEGIN
    CREATE DATABASE SCOPED CREDENTIAL spotify_workspace_identity WITH IDENTITY = 'Managed Identity';
END;

-- The same identity under a second name used only by the serving data source: analysts get REFERENCES on this
-- credential alone (03_principals.sql), so their views read the serving zone and they cannot reach curated files.
IF NOT EXISTS (SELECT 1 FROM sys.database_scoped_credentials WHERE name = 'spotify_serving_identity')
BEGIN
    CREATE DATABASE SCOPED CREDENTIAL spotify_serving_identity WITH IDENTITY = 'Managed Identity';
END;

-- The serving zone: what the views read (the load pipeline publishes it, one folder per table and snapshot).
IF NOT EXISTS (SELECT 1 FROM sys.external_data_sources WHERE name = 'spotify_serving')
BEGIN
    CREATE EXTERNAL DATA SOURCE spotify_serving
    WITH (LOCATION = 'https://$(StorageAccount).blob.core.windows.net/$(ServingContainer)', CREDENTIAL = spotify_serving_identity);
END;

-- The curated zone, for ad-hoc OPENROWSET queries against a snapshot before it is loaded.
IF NOT EXISTS (SELECT 1 FROM sys.external_data_sources WHERE name = 'spotify_curated')
BEGIN
    CREATE EXTERNAL DATA SOURCE spotify_curated
    WITH (LOCATION = 'https://$(StorageAccount).blob.core.windows.net/$(CuratedContainer)', CREDENTIAL = spotify_workspace_identity);
END;

IF NOT EXISTS (SELECT 1 FROM sys.external_file_formats WHERE name = 'spotify_parquet')
BEGIN
    CREATE EXTERNAL FILE FORMAT spotify_parquet WITH (FORMAT_TYPE = PARQUET, DATA_COMPRESSION = 'org.apache.hadoop.io.compress.SnappyCodec');
END;

IF NOT EXISTS (SELECT 1 FROM sys.schemas WHERE name = 'spotify')
BEGIN
    EXEC ('CREATE SCHEMA spotify');
END;
