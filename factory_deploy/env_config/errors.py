class ConfigError(Exception):
    """A config file is missing, malformed or has a missing or wrongly typed key."""
