"""The ``[judge]`` table of plugins.toml: which backend runs code, and the limits around it.

Each built-in backend keeps its own settings in a nested table (``[judge.local]``,
``[judge.judge0]``, ``[judge.sphere]``) validated by that backend's model. The models are
imported lazily, by the backend that is chosen, so a missing optional piece (say, the Sphere
Engine client) never stops a server that does not use it; the chosen backend's table is still
checked at boot, so a typo there fails loudly before traffic is served.
"""

from __future__ import annotations

import importlib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

# Where each built-in backend's config model lives: (module, class).
BUILTIN_CONFIGS: dict[str, tuple[str, str]] = {
    "local": ("plugins.judge.sandbox.config", "LocalSandboxConfig"),
    "judge0": ("plugins.judge.judge0_config", "Judge0Config"),
    "sphere": ("plugins.judge.sphere_config", "SphereConfig"),
}


def backend_config_model(name: str) -> type[BaseModel] | None:
    """The config model of built-in backend ``name``; ``None`` when it is not built in or its
    module is not installed (the factory then reports the backend as unavailable)."""
    where = BUILTIN_CONFIGS.get(name)
    if where is None:
        return None
    try:
        module = importlib.import_module(where[0])
    except ImportError:
        return None
    model = getattr(module, where[1], None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


class JudgeConfig(BaseModel):
    """Operator knobs for the coding judge."""

    model_config = ConfigDict(extra="forbid")

    backend: str = Field(
        "local",
        min_length=1,
        max_length=40,
        description="Which backend runs code: 'local' (bubblewrap sandbox on this machine), "
        "'judge0', 'sphere', or a name a plugin registers with invigilator_judge_backends.",
    )
    auto_grade: bool = Field(
        True,
        description="Grade submitted coding answers with the backend. Off: coding answers wait "
        "in the manual grading queue (another judge plugin may still answer).",
    )
    max_code_bytes: int = Field(
        64 * 1024,
        ge=1024,
        le=200_000,
        description="Largest program (UTF-8 bytes) a candidate may send to 'Run samples'.",
    )
    runs_per_minute: int = Field(
        6,
        ge=1,
        le=600,
        description="Sample runs one attempt may start per minute (protects the backend).",
    )
    max_pending_runs: int = Field(
        2,
        ge=1,
        le=50,
        description="Sample runs of one attempt that may wait or run at once.",
    )
    lease_seconds: float = Field(
        120,
        gt=0,
        le=3600,
        description="How long a worker owns a run it claimed. A worker that dies mid-run "
        "leaves a lease that expires after this, and the run is claimed again.",
    )
    retry_seconds: float = Field(
        30,
        gt=0,
        le=3600,
        description="Wait before retrying a run whose backend was unavailable (times the "
        "number of tries so far); also how often each process sweeps for runs to retry.",
    )
    max_tries: int = Field(
        5,
        ge=1,
        le=50,
        description="Tries before a run is marked failed. A failed final run leaves the "
        "coding item to a person; it is never scored zero for the backend's fault.",
    )
    local: dict[str, Any] = Field(
        default_factory=dict,
        description="[judge.local]: the local sandbox's settings (docs/judge.md).",
    )
    judge0: dict[str, Any] = Field(
        default_factory=dict, description="[judge.judge0]: Judge0's settings (docs/judge.md)."
    )
    sphere: dict[str, Any] = Field(
        default_factory=dict,
        description="[judge.sphere]: Sphere Engine's settings (docs/judge.md).",
    )

    @model_validator(mode="after")
    def _check_chosen_backend(self) -> JudgeConfig:
        """Validate the chosen built-in backend's table now, so a typo fails the boot."""
        model = backend_config_model(self.backend)
        if model is not None:
            try:
                model.model_validate(self.nested(self.backend))
            except ValidationError as error:
                problems = "; ".join(
                    f"{'.'.join(map(str, e['loc'])) or '(table)'}: {e['msg']}"
                    for e in error.errors()
                )
                raise ValueError(f"[judge.{self.backend}] {problems}") from None
        return self

    def nested(self, name: str) -> dict[str, Any]:
        """The raw nested table of built-in backend ``name`` (empty for others)."""
        tables: dict[str, dict[str, Any]] = {
            "local": self.local,
            "judge0": self.judge0,
            "sphere": self.sphere,
        }
        return tables.get(name, {})

    def backend_settings(self, name: str) -> BaseModel:
        """The validated settings of built-in backend ``name``; ``ImportError`` when that
        backend's module is not installed."""
        model = backend_config_model(name)
        if model is None:
            raise ImportError(f"the {name!r} judge backend is not installed")
        return model.model_validate(self.nested(name))
