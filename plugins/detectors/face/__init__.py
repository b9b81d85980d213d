"""Face detection with mediapipe (plugin ``detectors.face``)."""
