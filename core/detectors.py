"""What a detector is: the frames it gets, the observations it returns and what it needs.

Detectors are plain objects, not hooks: a plugin builds them once at start-up (hook
``invigilator_register_detectors``) and the pipeline then calls them directly, many times a
second. ``detect`` is batched because a model's fixed cost (a call into native code, a GPU
launch) is paid once for the frames of every attempt that is due, not once per candidate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True, eq=False)
class Frame:
    """One sampled video frame of one attempt, shared read-only by every detector.

    ``image`` is ``(height, width, 3)`` uint8 BGR (converted once by the sampler);
    ``ts`` is wall-clock seconds since the epoch when it was sampled. ``context`` is what
    plugins know about the attempt (hook ``invigilator_attempt_context``), e.g. the candidate's
    enrolled face embedding or their gaze calibration, so a stateless batched detector can
    still compare each frame with that candidate's own reference.
    """

    attempt_id: str
    ts: float
    image: np.ndarray
    context: Mapping[str, Any] = field(default_factory=dict)


class Observation(BaseModel):
    """What one detector saw in one frame; rules later turn sequences of these into violations."""

    model_config = ConfigDict(frozen=True)

    attempt_id: str = Field(min_length=1, max_length=64)
    ts: float = Field(description="the frame's timestamp, seconds since the epoch")
    detector: str = Field(min_length=1, max_length=48)
    values: dict[str, Any] = Field(default_factory=dict)
    confidence: float = Field(1.0, ge=0.0, le=1.0)


@dataclass(frozen=True)
class DetectorNeeds:
    """What the scheduler must know to plan a detector's runs."""

    video: bool = True
    audio: bool = False
    min_interval_s: float = 0.5  # per attempt: a frame newer than this is not analysed again
    input_size: tuple[int, int] | None = None  # (width, height) the model wants; None = any
    device: Literal["cpu", "gpu"] = "cpu"


@runtime_checkable
class Detector(Protocol):
    """A batched model. ``load`` and ``detect`` block and are called off the event loop.

    ``detect`` is called from one worker thread at a time for a given detector, so an instance
    need not be thread-safe; it returns at most one observation per frame, for the frames'
    own attempts, and may return none for a frame it has nothing to say about.
    """

    @property
    def name(self) -> str: ...

    @property
    def needs(self) -> DetectorNeeds: ...

    def load(self) -> None: ...

    def detect(self, frames: Sequence[Frame]) -> list[Observation]: ...
