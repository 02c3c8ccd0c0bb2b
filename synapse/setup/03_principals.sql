-- Who may do what in the `$(Database)` database. Run in `$(Database)` after 02_data_sources.sql. Idempotent:
-- every CREATE is guarded by a catalog lookup and GRANT of a permission already held changes nothing.
--
-- Users come from Microsoft Entra ID (CREATE USER ... FROM EXTERNAL PROVIDER; no passwords), named in
-- config/<env>.json `synapse`:
-- - $(LoaderIdentity): the data factory's managed identity. Its Script activity creates and alters the views
--   in schema `spotify` after each load (CREATE VIEW in the database + ALTER on the schema), and the views
--   it creates must bind to their files (ADMINISTER DATABASE BULK OPERATIONS, REFERENCES on the credential).
-- - $(AnalystGroup): an Entra group, member of role `spotify_reader`: SELECT on the views of schema `spotify`
--   and the two rights a view over OPENROWSET needs from its caller, nothing else (no CREATE, ALTER or
--   CONTROL; REFERENCES only on the serving zone's credential, so curated files stay out of reach).
-- Sources: Microsoft Learn "Control storage account access for serverless SQL pool in Azure Synapse Analytics"
-- (ADMINISTER DATABASE BULK OPERATIONS, REFERENCES on the database scoped credential), "CREATE USER
-- (Transact-SQL)" (FROM EXTERNAL PROVIDER), "GRANT Database Scoped Credential Permissions (Transact-SQL)",
-- "GRANT Schema Permissions (Transact-SQL)" and "CREATE ROLE (Transact-SQL)".
IF NOT EXISTS (SELECT 1 FROM sys.database_principals WHERE name = '$(LoaderIdentity)')
BEGIN
    CREATE USER [$(LoaderIdentity)] FROM EXTERNAL PROVIDER;
END;

IF NOT EXISTS (SELECT 1 FROM sys.database_principals WHERE name = '$(AnalystGroup)')
BEGIN
    CREATE USER [$(AnalystGroup)] FROM EXTERNAL PROVIDER;
END;

IF NOT EXISTS (SELECT 1 FROM sys.database_principals WHERE name = 'spotify_reader')
BEGIN
    CREATE ROLE spotify_reader;
END;

IF NOT EXISTS (
    SELECT 1
    FROM sys.database_role_members AS rm
    JOIN sys.database_principals AS r ON r.principal_id = rm.role_principal_id
    JOIN sys.database_principals AS m ON m.principal_id = rm.member_principal_id
    WHERE r.name = 'spotify_reader' AND m.name = '$(AnalystGroup)'
)
BEGIN
    ALTER ROLE spotify_reader ADD MEMBER [$(AnalystGroup)];
END;

-- Analysts: read the views, through the serving data source's credential.
GRANT SELECT ON SCHEMA::spotify TO spotify_reader;
GRANT ADMINISTER DATABASE BULK OPERATIONS TO spotify_reader;
GRANT REFERENCES ON DATABASE SCOPED CREDENTIAL::spotify_serving_identity TO spotify_reader;

-- The factory: create and alter the views of schema `spotify` (and read them, to check what it created).
GRANT CREATE VIEW TO [$(LoaderIdentity)];
GRANT ALTER ON SCHEMA::spotify TO [$(LoaderIdentity)];
GRANT SELECT ON SCHEMA::spotify TO [$(LoaderIdentity)];
GRANT ADMINISTER DATABASE BULK OPERATIONS TO [$(LoaderIdentity)];
GRANT REFERENCES ON DATABASE SCOPED CREDENTIAL::spotify_serving_identity TO [$(LoaderIdentity)];
