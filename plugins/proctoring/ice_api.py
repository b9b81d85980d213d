"""``GET /api/v1/rtc/ice-servers``: the STUN/TURN servers a page hands to its RTCPeerConnection.

Pages call it before every connection and every reconnection, so TURN credentials are minted
per connection and never go stale in a tab left open for hours. Every signed-in role may ask:
candidates publish, proctors, examiners and admins watch. The answer is personal and
short-lived, hence ``Cache-Control: no-store``.
"""

from __future__ import annotations

import time

from aiohttp import web
from pydantic import BaseModel, Field

from media.config import MediaConfig
from media.ice import browser_ice_servers
from plugins.exams import store
from storage.tables.user import Role
from webapp.routing import ApiRequest, Router

router = Router(prefix="/api/v1/rtc", tags=["proctoring"])
SIGNED_IN = frozenset(role.value for role in Role)
NO_STORE = {"Cache-Control": "no-store"}


class BrowserIceServer(BaseModel):
    """One ``RTCIceServer``; username and credential only for TURN."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


class IceServers(BaseModel):
    ice_servers: list[BrowserIceServer] = Field(
        description="Pass as `new RTCPeerConnection({iceServers})`; empty: host candidates only"
    )
    expires_at: int = Field(description="Unix time after which the TURN credentials are refused")


@router.get("/ice-servers", response=IceServers, roles=SIGNED_IN)
async def ice_servers(req: ApiRequest) -> web.Response:
    """STUN/TURN servers for my next WebRTC connection, with TURN credentials of my own.

    TURN credentials follow the TURN REST scheme (coturn `use-auth-secret`): username
    `<expiry>:<user id>`, credential `base64(HMAC-SHA1(secret, username))`. Ask again for each
    new connection; the shared secret is never part of the answer.
    """
    config = req.services.section("proctoring", MediaConfig)
    ice = browser_ice_servers(config, store.caller(req).user_id, time.time())
    body = IceServers.model_validate(
        {"ice_servers": ice.ice_servers, "expires_at": ice.expires_at}
    ).model_dump(exclude_none=True)
    return web.json_response(body, headers=NO_STORE)
