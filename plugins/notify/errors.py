"""What a channel raises when a message did not go out."""

from __future__ import annotations


class DeliveryError(Exception):
    """A send failed. ``permanent`` failures (a refused address, a 4xx from the provider)
    are not retried; temporary ones (timeouts, 5xx, 429) are, with backoff."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
