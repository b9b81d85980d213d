"""The system plugin: the home page, version and plugin inventory."""
