"""Head pose and iris gaze with mediapipe's face mesh (plugin ``detectors.gaze``)."""
