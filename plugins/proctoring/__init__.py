"""Live proctoring: WebRTC ingest of the candidate's camera, microphone and browser telemetry."""
