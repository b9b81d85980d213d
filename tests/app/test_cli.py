"""The command line: config errors exit 2 naming the field; plugins list shows failures."""

from __future__ import annotations

import json
import socket
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.app.conftest import write_plugins_file
from webapp.cli import main


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "INVIGILATOR_DATA_DIR": str(tmp_path / "var"),
        "INVIGILATOR_PLUGINS_FILE": str(write_plugins_file(tmp_path)),
        "INVIGILATOR_LOG_FORMAT": "text",
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout + (result.stderr if result.exit_code else "")


def test_config_check_ok(env: dict[str, str]) -> None:
    code, output = run(env, "config", "check")
    assert code == 0, output
    assert "settings: ok" in output
    assert "[sample]" in output


def test_config_check_names_the_bad_plugins_toml_field(env: dict[str, str], tmp_path: Path) -> None:
    Path(env["INVIGILATOR_PLUGINS_FILE"]).write_text("[plugins]\ndisabled = 3\n")
    code, output = run(env, "config", "check")
    assert code == 2
    assert "[plugins].disabled" in output


def test_config_check_names_a_bad_section_field(env: dict[str, str]) -> None:
    write_plugins_file(Path(env["INVIGILATOR_PLUGINS_FILE"]).parent, extra="repeat = 9\n")
    code, output = run(env, "config", "check")
    assert code == 2
    assert "[sample].repeat" in output


def test_config_check_names_a_bad_environment_variable(env: dict[str, str]) -> None:
    code, output = run({**env, "INVIGILATOR_PORT": "http"}, "config", "check")
    assert code == 2
    assert "INVIGILATOR_PORT" in output


def test_serve_refuses_a_malformed_plugins_file(env: dict[str, str]) -> None:
    Path(env["INVIGILATOR_PLUGINS_FILE"]).write_text("[plugins\n")
    code, output = run(env, "serve", "--port", "0")
    assert code == 2
    assert "not valid TOML" in output


def test_plugins_list_shows_failed_plugin_with_reason(env: dict[str, str]) -> None:
    folder = Path(env["INVIGILATOR_PLUGINS_FILE"]).parent
    write_plugins_file(folder, modules=("tests.fixtures.broken_plugin",))
    code, output = run(env, "plugins", "list", "--json")
    assert code == 0
    records = {r["name"]: r for r in json.loads(output)}
    assert records["tests.fixtures.broken_plugin"]["status"] == "failed"
    assert "invigilator_missing_dependency" in records["tests.fixtures.broken_plugin"]["reason"]
    assert records["system"]["status"] == "loaded"
    code, output = run(env, "config", "check")
    assert code == 1
    assert "plugin FAILED: tests.fixtures.broken_plugin" in output


def test_migrate_then_check(env: dict[str, str]) -> None:
    code, output = run(env, "migrate", "--check")
    assert code == 1
    assert "0002_kernel" in output
    code, output = run(env, "migrate")
    assert code == 0
    assert "upgraded to:" in output
    assert "0002_kernel" in output  # the kernel head
    assert "0001_sample" in output  # a plugin head
    code, output = run(env, "migrate", "--check")
    assert code == 0
    assert "schema current" in output


def test_seed_demo_is_idempotent_and_prints_logins(env: dict[str, str]) -> None:
    code, first = run(env, "seed-demo")
    assert code == 0, first
    assert "demo-admin@example.com" in first
    assert "sample demo ready" in first
    code, second = run(env, "seed-demo")
    assert code == 0
    assert second == first
    database = Path(env["INVIGILATOR_DATA_DIR"]) / "invigilator.db"
    with sqlite3.connect(database) as connection:
        roles = sorted(r for (r,) in connection.execute("SELECT role FROM users"))
    assert roles == ["admin", "candidate", "examiner", "proctor"]


def test_plugin_contributed_command(env: dict[str, str]) -> None:
    code, output = run(env, "sample-hello", "--name", "ada")
    assert code == 0
    assert "hello ada from the sample plugin" in output


def test_worker_needs_redis(env: dict[str, str]) -> None:
    code, output = run(env, "worker")
    assert code == 2
    assert "INVIGILATOR_BROKER_URL" in output


def test_serve_on_a_busy_port_says_so(env: dict[str, str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, output = run(env, "serve", "--port", str(port))
    assert code == 2
    assert "already in use" in output
