"""Plugin discovery order, failure reporting and section ownership."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from core.errors import ConfigError
from core.hookspecs import hookimpl
from core.plugin_config import read_plugins_file
from core.plugin_manager import build_plugin_manager, discover_builtins
from core.policy import DEFAULT_RULES, ProctoringPolicy, catalogue, register_rules
from core.settings import load_settings
from tests.fixtures.sample_plugin.plugin import TOO_DARK
from webapp.app import load_plugin_manager


def plugins_file(tmp_path: Path, text: str = "") -> Path:
    path = tmp_path / "plugins.toml"
    path.write_text(text)
    return path


def test_builtins_are_discovered_by_convention() -> None:
    names = [name for name, _module in discover_builtins("plugins")]
    assert "system" in names
    assert "accounts" in names
    assert names == sorted(names)


def test_order_builtins_then_config_modules(tmp_path: Path) -> None:
    path = plugins_file(tmp_path, "[plugins]\nmodules = ['tests.fixtures.sample_plugin.plugin']\n")
    pm = build_plugin_manager(read_plugins_file(path))
    sources = [record.source for record in pm.records.values()]
    assert sources.index("config") > max(i for i, s in enumerate(sources) if s == "builtin")
    sample = pm.records["tests.fixtures.sample_plugin.plugin"]
    assert sample.status == "loaded"
    assert "invigilator_routes" in sample.hooks
    assert "invigilator_static_dirs" in sample.hooks


def test_failed_import_is_recorded_and_others_load(tmp_path: Path) -> None:
    path = plugins_file(tmp_path, "[plugins]\nmodules = ['tests.fixtures.broken_plugin']\n")
    pm = build_plugin_manager(read_plugins_file(path))
    broken = pm.records["tests.fixtures.broken_plugin"]
    assert broken.status == "failed"
    assert "invigilator_missing_dependency" in (broken.reason or "")
    assert pm.records["system"].status == "loaded"


def test_misspelled_hook_fails_that_plugin_loudly(tmp_path: Path) -> None:
    path = plugins_file(tmp_path, "[plugins]\nmodules = ['tests.fixtures.misspelled_plugin']\n")
    pm = build_plugin_manager(read_plugins_file(path))
    record = pm.records["tests.fixtures.misspelled_plugin"]
    assert record.status == "failed"
    assert "invigilator_routs" in (record.reason or "")
    assert pm.records["system"].status == "loaded"
    assert pm.get_plugin("tests.fixtures.misspelled_plugin") is None


def test_disabled_builtin_is_not_registered(tmp_path: Path) -> None:
    path = plugins_file(tmp_path, "[plugins]\ndisabled = ['system']\n")
    pm = build_plugin_manager(read_plugins_file(path))
    assert pm.records["system"].status == "disabled"
    assert pm.get_plugin("system") is None
    assert "system" not in pm.sections


def test_two_plugins_claiming_one_section_is_a_boot_error(tmp_path: Path) -> None:
    class Claim:
        @hookimpl
        def invigilator_config_sections(self) -> dict[str, type[BaseModel]]:
            return {"system": BaseModel}

    with pytest.raises(ConfigError, match=r"\[system\] claimed by both"):
        build_plugin_manager(
            read_plugins_file(plugins_file(tmp_path)), extra_plugins=[("claim", Claim())]
        )


def test_invalid_section_value_names_the_field(tmp_path: Path) -> None:
    path = plugins_file(tmp_path, "[system]\nsite_name = ''\n")
    with pytest.raises(ConfigError, match=r"plugins.toml: \[system\]\.site_name"):
        build_plugin_manager(read_plugins_file(path))


def test_plugin_rules_join_the_catalogue_and_exam_policies_can_tune_them(tmp_path: Path) -> None:
    path = plugins_file(tmp_path, "[plugins]\nmodules = ['tests.fixtures.sample_plugin.plugin']\n")
    settings = load_settings(data_dir=tmp_path / "var", plugins_file=path)
    load_plugin_manager(settings)
    assert TOO_DARK in catalogue()
    policy = ProctoringPolicy.of({"rules": {"sample_too_dark": {"min_duration_s": 10}}})
    tuned = {rule.kind: rule for rule in policy.rules_for()}["sample_too_dark"]
    assert tuned.min_duration_s == 10
    assert "sample_too_dark" not in {r.kind for r in policy.rules_for(exempt=["brightness"])}
    load_plugin_manager(settings)  # booting the same plugins again is fine


def test_a_rule_kind_registered_twice_differently_is_refused() -> None:
    with pytest.raises(ValueError, match="no_face"):
        register_rules([DEFAULT_RULES[0].model_copy(update={"weight": 99})])
