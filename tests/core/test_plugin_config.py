"""plugins.toml: syntax and field errors name the file, table and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from core.errors import ConfigError
from core.plugin_config import read_plugins_file, validate_sections


class JudgeConfig(BaseModel):
    backend: str = Field("local", pattern="^(local|judge0)$")
    workers: int = Field(2, ge=1)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plugins.toml"
    path.write_text(text)
    return path


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    parsed = read_plugins_file(tmp_path / "absent.toml")
    assert parsed.selection.disabled == []
    assert parsed.selection.entry_points is True


def test_syntax_error_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"plugins.toml: not valid TOML"):
        read_plugins_file(write(tmp_path, "[plugins\ndisabled = []"))


def test_unknown_selection_field_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[plugins\]\.disable"):
        read_plugins_file(write(tmp_path, "[plugins]\ndisable = ['x']\n"))


def test_wrong_type_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[plugins\]\.disabled"):
        read_plugins_file(write(tmp_path, "[plugins]\ndisabled = 'system'\n"))


def test_section_fields_validated_against_the_plugin_model(tmp_path: Path) -> None:
    parsed = read_plugins_file(write(tmp_path, "[judge]\nbackend = 'docker'\nworkers = 0\n"))
    with pytest.raises(ConfigError) as caught:
        validate_sections(parsed, {"judge": JudgeConfig})
    assert "[judge].backend" in caught.value.message
    assert "[judge].workers" in caught.value.message


def test_valid_sections_and_defaults_and_unclaimed(tmp_path: Path) -> None:
    parsed = read_plugins_file(write(tmp_path, "[judge]\nworkers = 4\n[typo]\nx = 1\n"))
    values, problems = validate_sections(parsed, {"judge": JudgeConfig, "other": JudgeConfig})
    judge = values["judge"]
    assert isinstance(judge, JudgeConfig)
    assert judge.workers == 4
    assert isinstance(values["other"], JudgeConfig)
    assert [p.section for p in problems] == ["typo"]


def test_scalar_at_top_level_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must be a table"):
        read_plugins_file(write(tmp_path, "title = 'x'\n"))
