"""Names of the bus channels that parts of Invigilator agree on.

A channel is a contract between plugins that never import each other: the accounts plugin
publishes, and whoever holds a live connection for that session (WebSocket, WebRTC) listens.
"""

SESSION_REVOKED = "session.revoked"
"""Payload: JSON ``{"session_id": str, "user_id": str, "reason": str}``. Every process closes
the live connections it holds for that session as soon as it receives it."""

ENROLLMENT_ADDED = "enrollment.added"
"""Payload: JSON ``{"user_id": str, "enrollment_id": str, "blob_key": str}``, published by the
accounts plugin after a candidate's new reference photo is committed. The identity detector
computes the face embedding from the blob (a JPEG the server re-encoded) and stores its blob key
in ``face_enrollments.embedding_ref``; a later message for the same enrollment supersedes it."""
