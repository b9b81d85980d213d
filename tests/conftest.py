"""Test-wide configuration: fixtures that start the servers production adapters run against."""

pytest_plugins = ["tests.support.services", "tests.support.mysql"]
