"""A local server speaking Twilio's Messages API, as far as Invigilator uses it.

``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` with form-encoded ``To``, ``From`` and
``Body`` and HTTP basic auth (Account SID : auth token). It answers 201 with a JSON message
resource (``sid``, ``status`` "queued", ``to``, ``from``, ``body``...), and errors the way
Twilio does: a JSON body with ``code``, ``message``, ``more_info`` and ``status`` — 401 (code
20003) for bad credentials, 400 (code 21211) for an invalid ``To``, 400 (21602) without a body,
and 429 (code 20429) with ``Retry-After`` for as many requests as ``throttle`` says.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BasicAuth, web

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
PATH = "/2010-04-01/Accounts/{sid}/Messages.json"


@dataclass
class FakeTwilio:
    account_sid: str
    auth_token: str
    throttle: int = 0  # answer 429 to this many requests before accepting
    messages: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(PATH, self.create_message)
        return app

    def _error(self, status: int, code: int, message: str, **headers: str) -> web.Response:
        body = {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
        return web.json_response(body, status=status, headers=headers)

    async def create_message(self, request: web.Request) -> web.Response:
        try:
            auth = BasicAuth.decode(request.headers.get("Authorization", ""))
        except ValueError:
            auth = None
        if (
            auth is None
            or auth.login != self.account_sid
            or auth.password != self.auth_token
            or request.match_info["sid"] != self.account_sid
        ):
            return self._error(401, 20003, "Authenticate")
        if self.throttle > 0:
            self.throttle -= 1
            return self._error(429, 20429, "Too Many Requests", **{"Retry-After": "1"})
        form = await request.post()
        to, sender, body = (str(form.get(k, "")) for k in ("To", "From", "Body"))
        if not E164.match(to):
            return self._error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not body:
            return self._error(400, 21602, "Message body is required.")
        sid = "SM" + secrets.token_hex(16)
        resource = {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": to,
            "from": sender,
            "body": body,
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
        self.messages.append(resource)
        return web.json_response(resource, status=201)
