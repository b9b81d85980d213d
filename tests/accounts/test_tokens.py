"""The access-token attack matrix: every forged, altered or misused token gets 401.

Each case is built from a real session (so only the one property under test is wrong) and
sent as a Bearer token to a route that needs a signed-in user. A correctly forged token with
the server's key must pass, which shows the cases fail for the reason they name.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from plugins.accounts import tokens
from tests.accounts.auth_support import (
    ME,
    b64,
    claims_of,
    raw_jwt,
    services_of,
    valid_claims,
)
from tests.accounts.conftest import Client, MakeUser, login

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

HEADER = {"alg": "HS256", "typ": "at+jwt"}
Forge = Callable[[bytes, str, str, str], str]


def _sign(secret: bytes, claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    extra = {k: v for k, v in (header or HEADER).items() if k != "alg"}
    return jwt.encode(claims, secret, algorithm="HS256", headers=extra)


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _alg_none(secret: bytes, sub: str, sid: str, real: str) -> str:
    return raw_jwt({"alg": "none", "typ": "at+jwt"}, valid_claims(sub, sid))


def _alg_none_capitalised(secret: bytes, sub: str, sid: str, real: str) -> str:
    return raw_jwt({"alg": "None", "typ": "at+jwt"}, valid_claims(sub, sid))


def _hs512(secret: bytes, sub: str, sid: str, real: str) -> str:
    return jwt.encode(valid_claims(sub, sid), secret, algorithm="HS512", headers={"typ": "at+jwt"})


def _rs256(secret: bytes, sub: str, sid: str, real: str) -> str:
    return jwt.encode(
        valid_claims(sub, sid), _rsa_key(), algorithm="RS256", headers={"typ": "at+jwt"}
    )


def _hs256_with_public_key(secret: bytes, sub: str, sid: str, real: str) -> str:
    """The HS/RS confusion: an HMAC keyed with a public key the attacker knows."""
    public = (
        _rsa_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    signing_input = (
        f"{b64(json.dumps(HEADER).encode())}.{b64(json.dumps(valid_claims(sub, sid)).encode())}"
    )
    mac = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def _other_key(secret: bytes, sub: str, sid: str, real: str) -> str:
    return _sign(b"another-key-another-key-another-key-0123", valid_claims(sub, sid))


def _tampered_payload(secret: bytes, sub: str, sid: str, real: str) -> str:
    header, _, signature = real.split(".")
    claims = claims_of(real) | {"roles": ["admin"]}
    return f"{header}.{b64(json.dumps(claims).encode())}.{signature}"


def _claims_case(**changes: Any) -> Forge:
    def forge(secret: bytes, sub: str, sid: str, real: str) -> str:
        return _sign(secret, valid_claims(sub, sid, **changes))

    return forge


def _header_case(**extra: Any) -> Forge:
    def forge(secret: bytes, sub: str, sid: str, real: str) -> str:
        return _sign(secret, valid_claims(sub, sid), {**HEADER, **extra})

    return forge


def _refresh_as_access(secret: bytes, sub: str, sid: str, real: str) -> str:
    return "REFRESH"  # replaced by the test with the session's refresh token


CASES: dict[str, Forge] = {
    "alg none": _alg_none,
    "alg None": _alg_none_capitalised,
    "HS512": _hs512,
    "RS256 with a generated key": _rs256,
    "HS256 keyed with an RSA public key": _hs256_with_public_key,
    "HS256 with another key": _other_key,
    "tampered payload": _tampered_payload,
    "wrong aud": _claims_case(aud="someone-else"),
    "aud list with ours and another": _claims_case(aud=["invigilator", "other"]),
    "wrong iss": _claims_case(iss="https://evil.example"),
    "typ claim refresh": _claims_case(typ="refresh"),
    "typ claim missing": _claims_case(typ=None),
    "typ header JWT": _header_case(typ="JWT"),
    "expired": _claims_case(exp=1_000_000_000),
    "nbf in the future": _claims_case(nbf=4_000_000_000),
    "iat in the future": _claims_case(iat=4_000_000_000),
    "missing sid": _claims_case(sid=None),
    "missing sub": _claims_case(sub=None),
    "missing exp": _claims_case(exp=None),
    "missing jti": _claims_case(jti=None),
    "unknown session": _claims_case(sid="0" * 32),
    "unknown role": _claims_case(roles=["superuser"]),
    "client subject with a session": _claims_case(sub="client:lms"),
    "jku header": _header_case(jku="https://evil.example/keys.json"),
    "jwk header": _header_case(jwk={"kty": "oct", "k": b64(b"attacker")}),
    "kid header": _header_case(kid="../../dev/null"),
    "x5u header": _header_case(x5u="https://evil.example/cert.pem"),
    "refresh token used as access token": _refresh_as_access,
    "garbage": lambda *_: "not.a.jwt",
    "oversized": lambda *_: "a" * 6000,
}


@pytest.mark.parametrize("case", list(CASES))
async def test_forged_or_misused_token_is_rejected(
    client: Client, make_user: MakeUser, case: str
) -> None:
    user = await make_user()
    session = await login(client, user.email)
    client.session.cookie_jar.clear()  # only the Bearer token may speak
    real = claims_of(session["access_token"])
    secret = services_of(client).settings.secret()
    token = CASES[case](secret, real["sub"], real["sid"], session["access_token"])
    if token == "REFRESH":
        token = session["refresh_token"]
    response = await client.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert response.status == 401, await response.text()
    assert "Bearer" in response.headers["WWW-Authenticate"]


async def test_a_correct_token_with_the_server_key_passes(
    client: Client, make_user: MakeUser
) -> None:
    """The control for the matrix: the same construction, nothing wrong, is accepted."""
    user = await make_user()
    session = await login(client, user.email)
    client.session.cookie_jar.clear()
    real = claims_of(session["access_token"])
    token = _sign(services_of(client).settings.secret(), valid_claims(real["sub"], real["sid"]))
    response = await client.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200, await response.text()
    assert (await response.json())["user"]["id"] == user.id


async def test_issued_token_has_the_documented_shape(client: Client, make_user: MakeUser) -> None:
    user = await make_user("proctor")
    session = await login(client, user.email)
    header = jwt.get_unverified_header(session["access_token"])
    claims = claims_of(session["access_token"])
    assert header == {"alg": "HS256", "typ": "at+jwt"}
    assert {"iss", "aud", "sub", "sid", "roles", "iat", "nbf", "exp", "jti", "typ"} <= set(claims)
    assert claims["aud"] == claims["iss"] == "invigilator"
    assert claims["sub"] == str(user.id)
    assert claims["roles"] == ["proctor"]
    assert claims["exp"] - claims["iat"] == 600 == session["expires_in"]


def test_verification_allows_only_a_small_clock_skew() -> None:
    secret = b"unit-test-secret-unit-test-secret-0123"
    claims = valid_claims("1", "abc", exp=int(time.time()) - 3)
    assert tokens.verify_access_token(secret, _sign(secret, claims)).subject == "1"
    claims["exp"] -= tokens.LEEWAY_SECONDS + 5
    with pytest.raises(tokens.TokenError, match="expired"):
        tokens.verify_access_token(secret, _sign(secret, claims))


async def test_invalid_bearer_on_a_public_route_is_anonymous(
    client: Client, make_user: MakeUser
) -> None:
    """A client that keeps sending its expired token must still be able to sign in again."""
    user = await make_user()
    response = await client.post(
        "/api/v1/auth/login",
        json={"email": user.email, "password": "correct horse battery staple"},
        headers={"Authorization": "Bearer not.a.jwt"},
    )
    assert response.status == 200
