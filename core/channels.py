"""Names of the bus channels that parts of Invigilator agree on.

A channel is a contract between plugins that never import each other: the accounts plugin
publishes, and whoever holds a live connection for that session (WebSocket, WebRTC) listens.
"""

SESSION_REVOKED = "session.revoked"
"""Payload: JSON ``{"session_id": str, "user_id": str, "reason": str}``. Every process closes
the live connections it holds for that session as soon as it receives it."""
