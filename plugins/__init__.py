"""Built-in plugins. Each sub-package holding a ``plugin.py`` is found by the plugin manager;
nothing else imports them by name."""
