"""Every hook is documented and exercised by at least one test (Datasette's rule)."""

from __future__ import annotations

import inspect
from pathlib import Path

from core import hookspecs

TESTS = Path(__file__).resolve().parents[1]


def hook_names() -> list[str]:
    return [
        name
        for name, value in vars(hookspecs).items()
        if name.startswith("invigilator_") and callable(value)
    ]


def test_there_are_hooks() -> None:
    assert len(hook_names()) >= 10


def test_every_hook_has_a_real_docstring() -> None:
    for name in hook_names():
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert len(doc) >= 80, f"{name} needs a docstring that says when it fires and returns"
        assert "\n\n" in doc or len(doc.splitlines()) > 1, f"{name}: explain beyond one line"


def test_every_hook_is_annotated() -> None:
    for name in hook_names():
        signature = inspect.signature(getattr(hookspecs, name))
        assert signature.return_annotation is not inspect.Signature.empty, name
        for parameter in signature.parameters.values():
            assert parameter.annotation is not inspect.Parameter.empty, f"{name}.{parameter}"


def test_every_hook_is_implemented_by_a_test_plugin_and_used_by_a_test() -> None:
    sources = {
        path: path.read_text() for path in TESTS.rglob("*.py") if path.name != "test_hookspecs.py"
    }
    for name in hook_names():
        implemented = any(f"def {name}(" in text for text in sources.values())
        assert implemented, f"no test plugin implements {name}"


def test_every_hook_is_documented_in_the_plugin_guide() -> None:
    guide = (TESTS.parent / "docs" / "plugins.md").read_text()
    for name in hook_names():
        assert f"`{name}`" in guide, f"docs/plugins.md does not document {name}"
