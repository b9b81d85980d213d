"""Built-in detectors, one plugin package each (``detectors.face``, ...)."""
