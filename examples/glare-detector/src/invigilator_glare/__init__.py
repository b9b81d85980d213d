"""Invigilator glare detector: flags a camera blinded by a screen's glare or a bright light.

The hooks live in :mod:`invigilator_glare.plugin`, the module the ``invigilator.plugins``
entry point names; this package module stays empty so importing it costs nothing.
"""

__version__ = "0.1.0"
