"""Speech and loud noise from the candidate's microphone (plugin ``detectors.audio``)."""
