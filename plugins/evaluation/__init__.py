"""Built-in plugin ``evaluation``: ``invigilator eval`` scores detectors and rules on clips."""
