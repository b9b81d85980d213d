"""An app built by the real ``create_app`` with the sample plugin loaded through plugins.toml."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from core.settings import Settings, load_settings
from webapp.app import create_app

SAMPLE = "tests.fixtures.sample_plugin.plugin"


def write_plugins_file(folder: Path, extra: str = "", modules: tuple[str, ...] = (SAMPLE,)) -> Path:
    path = folder / "plugins.toml"
    listed = ", ".join(f"'{m}'" for m in modules)
    path.write_text(f"[plugins]\nmodules = [{listed}]\n\n[sample]\ngreeting = 'hi'\n{extra}")
    return path


@pytest.fixture
def app_settings(tmp_path: Path) -> Settings:
    return load_settings(
        data_dir=tmp_path / "var",
        plugins_file=write_plugins_file(tmp_path),
        log_format="text",
        rate_limit_per_minute=0,
    )


@pytest.fixture
async def client(app_settings: Settings) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    app = create_app(app_settings)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client
