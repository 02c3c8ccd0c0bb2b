"""Typed environment configuration (`config/<env>.json`) and what it implies for the factory.

Read by deploy and the local run alike; imports only the standard library.
"""

from factory_deploy.env_config.errors import ConfigError
from factory_deploy.env_config.factory import factory_overrides, global_parameters
from factory_deploy.env_config.loader import ENVIRONMENTS, load_config
from factory_deploy.env_config.model import EnvironmentConfig
from factory_deploy.env_config.synapse import sql_variables

__all__ = [
    "ENVIRONMENTS",
    "ConfigError",
    "EnvironmentConfig",
    "factory_overrides",
    "global_parameters",
    "load_config",
    "sql_variables",
]
