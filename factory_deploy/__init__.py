"""Validate the factory JSON against the azure-mgmt-datafactory models and publish it in dependency order."""
