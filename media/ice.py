"""The ICE servers a browser gets: the configured STUN servers plus TURN with fresh credentials.

TURN relays media for browsers that cannot reach the server directly (symmetric NATs, UDP
blocked), so its credentials must not be long-lived passwords baked into a page. The TURN
server and Invigilator share one secret instead (coturn's ``use-auth-secret``, the "TURN REST
API" scheme): the username is ``"<unix expiry>:<user id>"`` and the credential is
``base64(HMAC-SHA1(secret, username))``. The TURN server recomputes the HMAC and checks the
expiry with nothing stored per user; a credential copied out of a page is worthless once it
expires, and the secret itself never leaves the server.

Everything here is a pure function of the settings, the user and the time, so the arithmetic is
tested against hand-computed values and the HTTP layer stays a thin wrapper.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from media.config import MediaConfig


def turn_credentials(secret: bytes, user_id: str, expires_at: int) -> tuple[str, str]:
    """The (username, credential) pair coturn accepts until ``expires_at`` (unix seconds)."""
    username = f"{expires_at}:{user_id}"
    digest = hmac.new(secret, username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class BrowserIce:
    """What a page passes to ``new RTCPeerConnection({iceServers})``, and until when."""

    ice_servers: list[dict[str, Any]] = field(default_factory=list)
    expires_at: int = 0


def browser_ice_servers(config: MediaConfig, user_id: str, now: float) -> BrowserIce:
    """The ``RTCIceServer`` list for ``user_id`` at ``now``: static servers first, then TURN.

    Fields a server does not have are left out rather than null: a browser would turn a null
    username into the string "null".
    """
    expires_at = int(now) + config.turn_ttl_s
    servers = [server.model_dump(exclude_none=True) for server in config.browser_ice_servers]
    if config.turn_urls and config.turn_secret is not None:
        secret = config.turn_secret.get_secret_value().encode()
        username, credential = turn_credentials(secret, user_id, expires_at)
        servers.append(
            {"urls": list(config.turn_urls), "username": username, "credential": credential}
        )
    return BrowserIce(ice_servers=servers, expires_at=expires_at)
