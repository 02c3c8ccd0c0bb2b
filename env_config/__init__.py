"""Typed environment configuration (`config/<env>.json`) and what it implies for the factory."""

from env_config.errors import ConfigError
from env_config.factory import factory_overrides, global_parameters
from env_config.loader import ENVIRONMENTS, load_config
from env_config.model import EnvironmentConfig
from env_config.synapse import sql_variables

__all__ = [
    "ENVIRONMENTS",
    "ConfigError",
    "EnvironmentConfig",
    "factory_overrides",
    "global_parameters",
    "load_config",
    "sql_variables",
]
