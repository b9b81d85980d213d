"""Media settings: ICE servers, which host addresses to gather, and the per-peer limits.

ICE is configuration, not code, because the two places Invigilator runs disagree: a public
deployment needs STUN/TURN, while a closed exam hall (and every test) runs on one machine or
LAN where a public STUN server is unreachable and only slows gathering down. aiortc reads
``iceServers=None`` as "use Google's public STUN server", so the default here is an explicit
empty list.

The server and the browsers get separate lists: ``ice_servers`` is what the server's own
connections use, ``browser_ice_servers`` and ``turn_urls`` what ``GET /api/v1/rtc/ice-servers``
hands to pages (see :mod:`media.ice`). TURN credentials for browsers are minted per request
from a secret shared with the TURN server; that secret is a :class:`SecretStr`, so it prints
masked (``config check``) and is never part of a response. It can come from an environment
variable (``turn_secret_env``), read once when the section is validated at start-up, so that
plugins.toml need hold no secret.
"""

from __future__ import annotations

import os

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

LOOPBACK = "127.0.0.1"


class IceServer(BaseModel):
    """One STUN or TURN server, in the shape of the browser's ``RTCIceServer``."""

    urls: list[str] = Field(min_length=1, description="e.g. stun:stun.example.org:3478")
    username: str | None = None
    credential: str | None = None


class MediaConfig(BaseModel):
    """What the WebRTC termination needs to know; every field has a safe default."""

    ice_servers: list[IceServer] = Field(
        default_factory=list, description="STUN/TURN servers; empty means host candidates only"
    )
    browser_ice_servers: list[IceServer] = Field(
        default_factory=list,
        description="STUN servers given to browsers (ice_servers is the server's own list); "
        "empty means host candidates only",
    )
    turn_urls: list[str] = Field(
        default_factory=list,
        description="TURN server URLs given to browsers with short-lived credentials, e.g. "
        "turn:turn.example.org:3478?transport=udp or turns:turn.example.org:5349?transport=tcp; "
        "needs turn_secret or turn_secret_env",
    )
    turn_secret: SecretStr | None = Field(
        None,
        description="Secret shared with the TURN server (coturn static-auth-secret) that signs "
        "browser credentials; never sent to browsers, shown masked. Prefer turn_secret_env.",
    )
    turn_secret_env: str | None = Field(
        None,
        description="Name of an environment variable holding the TURN secret, read at start-up "
        "(wins over turn_secret), so plugins.toml holds no secret",
    )
    turn_ttl_s: int = Field(
        3600,
        ge=60,
        le=7 * 24 * 3600,
        description="Seconds a browser's TURN credentials stay valid; pages fetch new ones for "
        "every connection and reconnection",
    )
    host_addresses: list[str] = Field(
        default_factory=list,
        description="Addresses to gather host candidates on; empty means every interface",
    )
    bind_loopback: bool = Field(
        False,
        description="Also gather a 127.0.0.1 candidate (aioice skips loopback; tests and "
        "single-machine setups need it, and so does the browser's "
        "--allow-loopback-in-peer-connection)",
    )
    max_sdp_bytes: int = Field(
        64 * 1024, ge=1024, le=1024 * 1024, description="Largest SDP offer accepted, in bytes."
    )
    max_tracks_per_peer: int = Field(
        3, ge=1, le=16, description="Media sections (camera, microphone, screen) one peer may send."
    )
    max_peers_per_user: int = Field(
        2, ge=1, le=16, description="Connections one person may hold at once."
    )
    max_watchers_per_attempt: int = Field(
        4,
        ge=1,
        le=32,
        description="Proctors who may watch one attempt's live video and audio at once "
        "(the server encodes the stream once per watcher).",
    )
    telemetry_max_bytes: int = Field(
        4096, ge=64, le=65536, description="Largest browser telemetry message, in bytes."
    )
    telemetry_per_second: float = Field(10.0, gt=0, description="sustained message rate")
    telemetry_burst: int = Field(30, ge=1, description="messages allowed back to back")
    audio_ring_chunks: int = Field(
        64, ge=1, le=4096, description="512-sample 16 kHz chunks kept per audio track (~2 s)"
    )

    @field_validator("turn_urls")
    @classmethod
    def _turn_schemes(cls, urls: list[str]) -> list[str]:
        for url in urls:
            scheme, _, rest = url.partition(":")
            if scheme not in ("turn", "turns") or not rest.strip():
                raise ValueError(f"{url!r} is not a turn: or turns: URL")
        return urls

    @model_validator(mode="after")
    def _turn_secret(self) -> MediaConfig:
        if self.turn_secret_env:
            value = os.environ.get(self.turn_secret_env, "")
            if not value:
                raise ValueError(
                    f"turn_secret_env: environment variable {self.turn_secret_env} is not set"
                )
            self.turn_secret = SecretStr(value)
        if self.turn_urls and not (self.turn_secret and self.turn_secret.get_secret_value()):
            raise ValueError("turn_urls needs turn_secret or turn_secret_env")
        return self

    @property
    def changes_gathering(self) -> bool:
        return bool(self.host_addresses) or self.bind_loopback

    def gather_addresses(self, scanned: list[str]) -> list[str]:
        """The host addresses to gather on, given the ones aioice's interface scan found."""
        addresses = list(self.host_addresses or scanned)
        if self.bind_loopback and LOOPBACK not in addresses:
            addresses.append(LOOPBACK)
        return addresses
