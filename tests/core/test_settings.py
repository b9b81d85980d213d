"""Settings come from INVIGILATOR_* variables and name the bad variable when invalid."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import Settings, load_settings


def test_defaults_are_the_embedded_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVIGILATOR_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.effective_database_url == f"sqlite+aiosqlite:///{tmp_path}/invigilator.db"
    assert settings.effective_event_log_url.startswith("sqlite:///")
    assert settings.effective_blob_url == f"file://{tmp_path.resolve()}/blobs"
    assert settings.broker_url == "memory://"
    assert settings.port == 8080


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVIGILATOR_PORT", "9123")
    monkeypatch.setenv("INVIGILATOR_BROKER_URL", "redis://127.0.0.1:6379/0")
    settings = load_settings()
    assert settings.port == 9123
    assert settings.broker_url == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("INVIGILATOR_PORT", "eighty", "INVIGILATOR_PORT"),
        ("INVIGILATOR_PORT", "70000", "INVIGILATOR_PORT"),
        ("INVIGILATOR_DATABASE_URL", "postgres://x/y", "INVIGILATOR_DATABASE_URL"),
        ("INVIGILATOR_BLOB_URL", "ftp://x", "INVIGILATOR_BLOB_URL"),
        ("INVIGILATOR_LOG_LEVEL", "LOUD", "INVIGILATOR_LOG_LEVEL"),
        ("INVIGILATOR_MAX_BODY_BYTES", "0", "INVIGILATOR_MAX_BODY_BYTES"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert named in caught.value.message


def test_production_requires_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVIGILATOR_ENV", "production")
    with pytest.raises(ConfigError, match="INVIGILATOR_SECRET_KEY"):
        load_settings()


def test_generated_secret_is_stable_and_private(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    first = settings.secret()
    assert len(first) >= 32
    assert settings.secret() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_every_setting_is_documented() -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    for name in Settings.model_fields:
        assert f"`INVIGILATOR_{name.upper()}`" in guide, f"docs/configuration.md lacks {name}"


def test_every_plugin_section_field_is_described_and_documented(tmp_path: Path) -> None:
    from webapp.app import load_plugin_manager  # noqa: PLC0415  (the composition root)

    guide = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    pm = load_plugin_manager(load_settings(data_dir=tmp_path))
    assert {"accounts", "system", "exams", "questions", "proctoring"} <= set(pm.sections)
    for section, value in pm.sections.items():
        for name, field in type(value).model_fields.items():
            assert field.description, f"[{section}].{name} has no description"
            assert f"| `[{section}]` | `{name}` |" in guide, f"docs lack [{section}].{name}"
