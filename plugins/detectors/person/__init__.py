"""Is someone in front of the camera: mediapipe Pose (plugin ``detectors.person``)."""
