"""The local sandbox: bubblewrap command lines, limits, process supervision, the language table."""

from plugins.judge.sandbox.config import LanguageSpec, LocalSandboxConfig

__all__ = ["LanguageSpec", "LocalSandboxConfig"]
