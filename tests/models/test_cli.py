"""``invigilator models list | pull | verify`` against a local HTTP server and file:// URLs.

The server plays the parts a real download meets: the right file, a file with other bytes, a
connection cut halfway, a 404 and a file larger than announced.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from webapp.cli import main

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB: more than one read chunk
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()
OTHER = b"x" * len(PAYLOAD)


class Handler(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:
        Handler.requests.append(self.path)
        if self.path == "/good.bin":
            self._send(PAYLOAD)
        elif self.path == "/other.bin":
            self._send(OTHER)
        elif self.path == "/cut.bin":  # announces the whole file, sends a third, hangs up
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 3])
            self.wfile.flush()
            self.close_connection = True
        elif self.path == "/stall.bin":  # starts, then goes silent
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[:1000])
            self.wfile.flush()
            time.sleep(3)
            self.close_connection = True
        elif self.path == "/endless.bin":  # no length, more bytes than the registry allows
            self.send_response(200)
            self.end_headers()
            for _ in range(4):
                self.wfile.write(PAYLOAD)
            self.close_connection = True
        else:
            self.send_error(404)

    def _send(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(autouse=True)
def cli_as_found() -> Iterator[None]:
    """The CLI group adds plugin commands once per process, from the first plugins.toml it
    reads; put it back as it was so other tests' plugins (and theirs alone) are found."""
    commands = dict(main.commands)
    added = getattr(main, "_plugins_added", False)
    yield
    main.commands.clear()
    main.commands.update(commands)
    main._plugins_added = added


def entry(name: str, url: str, sha256: str | None = DIGEST, size: int | None = None) -> str:
    lines = [f"[models.registry.{name}]", f'url = "{url}"', f'file = "{name}.bin"']
    if sha256 is not None:
        lines.append(f'sha256 = "{sha256}"')
    if size is not None:
        lines.append(f"size = {size}")
    lines.append('licence = "CC0-1.0"')
    return "\n".join(lines) + "\n"


@pytest.fixture
def env(tmp_path: Path, server: str) -> dict[str, str]:
    local = tmp_path / "usb" / "weights.bin"
    local.parent.mkdir()
    local.write_bytes(PAYLOAD)
    toml = "[plugins]\nentry_points = false\n\n[models]\nfolder = 'weights'\ntimeout_s = 0.5\n\n"
    toml += "\n".join(
        [
            entry("good", f"{server}/good.bin", size=len(PAYLOAD)),
            entry("wrongsum", f"{server}/other.bin"),
            entry("cut", f"{server}/cut.bin"),
            entry("missing", f"{server}/nothing-here.bin"),
            entry("endless", f"{server}/endless.bin", size=len(PAYLOAD)),
            entry("stall", f"{server}/stall.bin"),
            entry("unpinned", f"{server}/good.bin", sha256=None),
            entry("local", local.as_uri()),
        ]
    )
    (tmp_path / "plugins.toml").write_text(toml)
    Handler.requests.clear()
    return {
        "INVIGILATOR_DATA_DIR": str(tmp_path / "var"),
        "INVIGILATOR_PLUGINS_FILE": str(tmp_path / "plugins.toml"),
        "INVIGILATOR_LOG_FORMAT": "text",
    }


def models(env: dict[str, str]) -> Path:
    return Path(env["INVIGILATOR_DATA_DIR"]) / "weights"


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["models", *args], env=env, catch_exceptions=False)
    return result.exit_code, result.stdout + result.stderr


def leftovers(env: dict[str, str]) -> list[str]:
    folder = models(env)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_list_shows_every_model_with_the_builtin_one(env: dict[str, str]) -> None:
    code, output = run(env, "list")
    assert code == 0, output
    assert "yolov8n" in output
    assert f"models folder: {models(env)}" in output
    code, output = run(env, "list", "--json")
    rows = {row["name"]: row for row in json.loads(output)}
    assert set(rows) == {
        "good",
        "wrongsum",
        "cut",
        "missing",
        "endless",
        "stall",
        "unpinned",
        "local",
        "yolov8n",
    }
    assert rows["good"] == {
        **rows["good"],
        "present": False,
        "verified": False,
        "path": str(models(env) / "good.bin"),
        "size": None,
        "licence": "CC0-1.0",
    }
    assert rows["yolov8n"]["url"].endswith("/yolov8n.pt")
    assert len(rows["yolov8n"]["sha256"]) == 64


def test_pull_keeps_a_file_that_matches_and_verify_agrees(env: dict[str, str]) -> None:
    code, output = run(env, "pull", "good")
    assert code == 0, output
    assert "verified and saved" in output
    assert (models(env) / "good.bin").read_bytes() == PAYLOAD
    assert leftovers(env) == ["good.bin"]  # no partial file left behind
    rows = {row["name"]: row for row in json.loads(run(env, "list", "--json")[1])}
    assert (rows["good"]["present"], rows["good"]["verified"]) == (True, True)
    assert rows["good"]["size"] == len(PAYLOAD)
    assert run(env, "verify", "good") == (0, f"good: {models(env) / 'good.bin'}: ok\n")


def test_a_good_copy_is_not_fetched_again_unless_forced(env: dict[str, str]) -> None:
    assert run(env, "pull", "good")[0] == 0
    code, output = run(env, "pull", "good")
    assert code == 0
    assert "already present and verified" in output
    assert Handler.requests == ["/good.bin"]
    assert run(env, "pull", "good", "--force")[0] == 0
    assert Handler.requests == ["/good.bin", "/good.bin"]


def test_a_file_with_other_bytes_is_refused_and_deleted(env: dict[str, str]) -> None:
    code, output = run(env, "pull", "wrongsum")
    assert code == 1
    assert "does not match the configured" in output
    assert "nothing was kept" in output
    assert leftovers(env) == []


def test_an_interrupted_download_is_refused_and_deleted(env: dict[str, str]) -> None:
    code, output = run(env, "pull", "cut")
    assert code == 1
    assert "interrupted" in output
    assert leftovers(env) == []


def test_a_download_larger_than_configured_is_stopped(env: dict[str, str]) -> None:
    code, output = run(env, "pull", "endless")
    assert code == 1
    assert f"more than the configured {len(PAYLOAD)} bytes" in output
    assert leftovers(env) == []


def test_a_server_that_goes_silent_is_given_up_on(env: dict[str, str]) -> None:
    code, output = run(env, "pull", "stall")  # [models].timeout_s is half a second here
    assert code == 1
    assert "timed out" in output
    assert leftovers(env) == []


def test_an_http_error_is_reported(env: dict[str, str]) -> None:
    code, output = run(env, "pull", "missing")
    assert code == 1
    assert "HTTP 404" in output
    assert leftovers(env) == []


def test_a_model_without_a_pinned_checksum_is_never_fetched(env: dict[str, str]) -> None:
    code, output = run(env, "pull", "unpinned")
    assert code == 1
    assert "[models.registry.unpinned].sha256" in output
    assert Handler.requests == []


def test_pull_from_a_file_url(env: dict[str, str]) -> None:
    code, output = run(env, "pull", "local")
    assert code == 0, output
    assert (models(env) / "local.bin").read_bytes() == PAYLOAD


def test_url_override_still_needs_the_pinned_checksum(env: dict[str, str], server: str) -> None:
    mirror = Path(env["INVIGILATOR_DATA_DIR"]).parent / "usb" / "weights.bin"
    code, output = run(env, "pull", "good", "--url", mirror.as_uri())
    assert code == 0, output
    assert Handler.requests == []  # fetched from the file, not the configured server
    assert run(env, "pull", "local", "--url", f"{server}/other.bin")[0] == 1
    assert run(env, "pull", "good", "--force", "--url", f"{server}/other.bin")[0] == 1
    assert (models(env) / "good.bin").read_bytes() == PAYLOAD  # the good copy survived


def test_only_http_and_file_urls_are_pulled(env: dict[str, str]) -> None:
    code, output = run(env, "pull", "good", "--url", "ftp://example.org/good.bin")
    assert code == 1
    assert "only https://, http:// and file://" in output


def test_verify_finds_a_damaged_file_and_pull_replaces_it(env: dict[str, str]) -> None:
    assert run(env, "pull", "good")[0] == 0
    path = models(env) / "good.bin"
    path.write_bytes(PAYLOAD[:-1] + b"\x00")
    code, output = run(env, "verify")
    assert code == 1
    assert "good" in output
    assert "MISMATCH" in output
    rows = {row["name"]: row for row in json.loads(run(env, "list", "--json")[1])}
    assert rows["good"]["verdict"] == "mismatch"
    assert run(env, "pull", "good")[0] == 0  # no --force needed for a bad copy
    assert path.read_bytes() == PAYLOAD
    assert run(env, "verify")[0] == 0  # absent models are not failures when checking all


def test_verify_a_named_model_that_is_absent_fails(env: dict[str, str]) -> None:
    code, output = run(env, "verify", "good")
    assert code == 1
    assert "absent (invigilator models pull good)" in output


def test_an_unknown_name_is_a_usage_error(env: dict[str, str]) -> None:
    code, output = run(env, "pull", "nope")
    assert code == 2
    assert "unknown model 'nope'" in output
    assert run(env, "verify", "nope")[0] == 2


def test_a_bad_checksum_in_plugins_toml_names_the_field(env: dict[str, str]) -> None:
    path = Path(env["INVIGILATOR_PLUGINS_FILE"])
    path.write_text(path.read_text() + entry("typo", "https://example.org/t.pt", sha256="abc"))
    code, output = run(env, "list")
    assert code == 2
    assert "[models].registry.typo.sha256" in output
    assert "64 hexadecimal characters" in output


def test_two_models_cannot_share_a_file(env: dict[str, str], server: str) -> None:
    path = Path(env["INVIGILATOR_PLUGINS_FILE"])
    path.write_text(
        path.read_text() + entry("twin", f"{server}/good.bin").replace("twin.bin", "good.bin")
    )
    code, output = run(env, "verify")
    assert code == 2
    assert "would share the file good.bin" in output


def test_a_configured_entry_replaces_the_builtin_one_of_the_same_name(
    env: dict[str, str], server: str
) -> None:
    path = Path(env["INVIGILATOR_PLUGINS_FILE"])
    path.write_text(path.read_text() + entry("yolov8n", f"{server}/good.bin"))
    assert run(env, "pull", "yolov8n")[0] == 0
    assert (models(env) / "yolov8n.bin").read_bytes() == PAYLOAD
