"""ICE servers for browsers: TURN REST credentials (coturn ``use-auth-secret``) computed right,
the secret kept on the server, and ``GET /api/v1/rtc/ice-servers`` for every signed-in role."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.settings import Settings, load_settings
from media.config import IceServer, MediaConfig
from media.ice import browser_ice_servers, turn_credentials
from tests.exams.support import Client
from tests.proctoring.conftest import PROCTORING, write_plugins_file

SECRET = "north-wind"
ENV = "INVIGILATOR_TEST_TURN_SECRET"
TURN = ["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349?transport=tcp"]
STUN = "stun:stun.example.org:3478"
ROLES = ("candidate", "proctor", "examiner", "admin")


def test_credentials_match_a_known_vector() -> None:
    # printf '%s' "1700000000:42" | openssl dgst -sha1 -hmac "north-wind" -binary | base64
    assert turn_credentials(SECRET.encode(), "42", 1_700_000_000) == (
        "1700000000:42",
        "6hwnrZiUDHkxY5CYq4XHhx2DHas=",
    )


def test_credentials_are_the_hmac_of_the_username() -> None:
    username, credential = turn_credentials(b"another secret", "user-9", 1_800_000_123)
    assert username == "1800000123:user-9"
    digest = hmac.new(b"another secret", username.encode(), hashlib.sha1).digest()
    assert base64.b64decode(credential) == digest


def test_browser_list_has_stun_then_turn_expiring_after_the_ttl() -> None:
    config = MediaConfig(
        browser_ice_servers=[IceServer(urls=[STUN])],
        ice_servers=[IceServer(urls=["stun:server-only.example.org"])],
        turn_urls=TURN,
        turn_secret=SECRET,
        turn_ttl_s=600,
    )
    ice = browser_ice_servers(config, "42", now=1_700_000_000.7)
    assert ice.expires_at == 1_700_000_600
    stun, turn = ice.ice_servers
    assert stun == {"urls": [STUN]}  # no null username or credential
    assert turn["urls"] == TURN
    assert turn["username"] == "1700000600:42"
    assert (turn["username"], turn["credential"]) == turn_credentials(
        SECRET.encode(), "42", 1_700_000_600
    )
    assert SECRET not in repr(ice)
    assert "server-only" not in repr(ice)  # the server's own list is not the browsers'


def test_without_turn_or_stun_the_list_is_empty() -> None:
    ice = browser_ice_servers(MediaConfig(), "42", now=1000.0)
    assert ice.ice_servers == []
    assert ice.expires_at == 1000 + 3600


def test_the_secret_comes_from_the_environment_and_prints_masked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV, SECRET)
    config = MediaConfig(turn_urls=TURN, turn_secret_env=ENV)
    assert config.turn_secret is not None
    assert config.turn_secret.get_secret_value() == SECRET
    assert SECRET not in config.model_dump_json()
    assert SECRET not in repr(config)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"turn_urls": TURN}, "turn_urls needs turn_secret"),
        ({"turn_urls": ["http://turn.example.org"], "turn_secret": SECRET}, "not a turn:"),
        ({"turn_urls": ["turn:"], "turn_secret": SECRET}, "not a turn:"),
        ({"turn_secret_env": "INVIGILATOR_TEST_UNSET_VARIABLE"}, "is not set"),
        ({"turn_ttl_s": 59}, "greater than or equal to 60"),
    ],
)
def test_bad_turn_settings_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MediaConfig.model_validate(fields)


@pytest.fixture
def turn_config() -> str:
    return ""


@pytest.fixture
def settings(tmp_path: Path, turn_config: str) -> Settings:
    return load_settings(
        data_dir=tmp_path / "var",
        plugins_file=write_plugins_file(tmp_path, PROCTORING + turn_config),
        log_format="text",
        rate_limit_per_minute=0,
        secret_key="test-secret-key-with-enough-entropy-0123456789",
    )


async def test_anonymous_callers_are_refused(client: Client) -> None:
    response = await client.get("/api/v1/rtc/ice-servers")
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "unauthorized"


async def test_without_turn_every_role_gets_an_empty_list(client: Client) -> None:
    for role in ROLES:
        response = await client.get("/api/v1/rtc/ice-servers", headers={"X-Test-User": f"5:{role}"})
        assert response.status == 200, role
        assert response.headers["Cache-Control"] == "no-store"
        body = await response.json()
        assert body["ice_servers"] == []
        assert body["expires_at"] >= int(time.time())


TURN_TOML = f"""browser_ice_servers = [{{urls = ["{STUN}"]}}]
turn_urls = {TURN!r}
turn_secret_env = "{ENV}"
turn_ttl_s = 900
""".replace("'", '"')


@pytest.fixture
def turn_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(ENV, SECRET)
    return SECRET


@pytest.mark.parametrize("turn_config", [TURN_TOML])
async def test_every_role_gets_its_own_turn_credentials(turn_secret: str, client: Client) -> None:
    for user_id, role in enumerate(ROLES, start=11):
        before = int(time.time())
        response = await client.get(
            "/api/v1/rtc/ice-servers", headers={"X-Test-User": f"{user_id}:{role}"}
        )
        after = int(time.time())
        assert response.status == 200, role
        assert response.headers["Cache-Control"] == "no-store"
        text = await response.text()
        assert turn_secret not in text
        assert ENV not in text
        body = await response.json()
        assert before + 900 <= body["expires_at"] <= after + 900
        stun, turn = body["ice_servers"]
        assert stun == {"urls": [STUN]}
        assert turn["urls"] == TURN
        assert turn["username"] == f"{body['expires_at']}:{user_id}"
        digest = hmac.new(turn_secret.encode(), turn["username"].encode(), hashlib.sha1).digest()
        assert turn["credential"] == base64.b64encode(digest).decode()
