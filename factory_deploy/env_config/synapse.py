"""sqlcmd variables the `synapse/` scripts use, per environment (secrets are added by deploy from Key Vault)."""

from factory_deploy.env_config.model import EnvironmentConfig


def sql_variables(config: EnvironmentConfig) -> dict[str, str]:
    return {
        "Database": config.synapse.database,
        "StorageAccount": config.storage.account,
        "CuratedContainer": config.storage.curated_container,
        "ServingContainer": config.storage.serving_container,
        "LoaderIdentity": config.synapse.loader_identity,
        "AnalystGroup": config.synapse.analyst_group,
    }
