"""Model weights: the ``[models]`` registry and ``invigilator models`` (plugin ``models``)."""
