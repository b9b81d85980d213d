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

PROCTOR_LIVE = "proctoring.live"
"""Payload: JSON ``{"type": "tile" | "alert" | "removed", ...}`` (docs/proctoring.md, Live feed).
Published by the process that holds an attempt's media; every process forwards it to the proctor
WebSockets it holds whose filter admits the message's ``exam_id``."""

ATTEMPT_CONTROL = "attempt.control"
"""Payload: JSON ``{"attempt_id": str, "action": "message" | "warn" | "pause" | "resume" |
"terminate", "text": str, "at": float, "by": int}``, published after a proctor's action is
committed and audited. Every process forwards it to the candidate WebSockets of that attempt."""
