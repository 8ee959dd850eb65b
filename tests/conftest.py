pytest_plugins = ["beluga_temporal.testing.pytest_plugin"]
