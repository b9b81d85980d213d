"""The glare detector's hooks: its ``[detector_glare]`` section, the detector and its rule.

A camera that sees mostly near-white pixels sees nothing else: the candidate has turned it to a
window or a lamp, or a screen's glare washes out the picture. Face and gaze detectors then
report "no face", which blames the candidate for the wrong thing; this detector names the
cause. It needs no model: the share of pixels that are bright in every channel, measured on a
small copy of the frame, is a cheap and robust signal, and computing it for a whole batch in
one numpy expression shows how a detector pays its fixed cost once per batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from pydantic import BaseModel, Field

from core.detectors import DetectorNeeds, Frame, Observation
from core.hookspecs import hookimpl
from core.policy import Condition, Rule
from core.services import Services

SECTION = "detector_glare"
NAME = "glare"  # events are written as observation.glare; rules read that kind
INPUT_SIZE = (160, 120)  # (width, height): plenty to measure a share of pixels


class GlareConfig(BaseModel):
    """``[detector_glare]`` in plugins.toml; every field has a default, so the table is optional."""

    enabled: bool = Field(True, description="Run the glare detector.")
    threshold: int = Field(
        240, ge=1, le=255, description="a pixel this bright in every channel counts as near-white"
    )
    max_share: float = Field(
        0.3, gt=0.0, le=1.0, description="share of near-white pixels from which a frame is glare"
    )
    interval_s: float = Field(1.0, gt=0, le=60, description="per attempt, seconds between looks")


class GlareDetector:
    """Share of near-white pixels per frame, and whether it is glare (a ``Detector``)."""

    name = NAME

    def __init__(self, config: GlareConfig) -> None:
        self.config = config
        # input_size: the scheduler scales every frame to 160x120 on this detector's thread,
        # so all frames of a batch have one shape and stack into one array.
        self.needs = DetectorNeeds(
            video=True, min_interval_s=config.interval_s, input_size=INPUT_SIZE
        )

    def load(self) -> None:
        """Nothing to load; a detector with a model builds it here and raises if it is missing."""
        self.detect([Frame("load", 0.0, np.zeros((INPUT_SIZE[1], INPUT_SIZE[0], 3), np.uint8))])

    def detect(self, frames: Sequence[Frame]) -> list[Observation]:
        if not frames:
            return []
        batch = np.stack([frame.image for frame in frames])  # (n, h, w, 3) uint8 BGR
        near_white = batch.min(axis=3) >= self.config.threshold  # bright in every channel
        shares = near_white.mean(axis=(1, 2))
        means = batch.mean(axis=(1, 2, 3)) / 255.0
        return [
            Observation(
                attempt_id=frame.attempt_id,
                ts=frame.ts,
                detector=self.name,
                values={
                    "bright_share": round(float(share), 4),
                    "mean": round(float(mean), 4),
                    "glare": bool(share >= self.config.max_share),
                },
            )
            for frame, share, mean in zip(frames, shares, means, strict=True)
        ]


GLARE_RULE = Rule(
    kind="camera_glare",
    detector=NAME,  # what an exemption names to switch it off for a candidate
    label="Camera blinded by light",
    shape="state",
    sources=(f"observation.{NAME}",),
    when=Condition(field="glare", value=True),
    min_duration_s=5,  # a passing reflection is not a violation
    gap_s=2,
    severity="low",
    weight=2,
    per_minute=4,
    max_points=15,
)


@hookimpl
def invigilator_config_sections() -> Mapping[str, type[BaseModel]]:
    return {SECTION: GlareConfig}


@hookimpl
def invigilator_register_detectors(services: Services) -> Iterable[GlareDetector]:
    config = services.section(SECTION, GlareConfig)
    return [GlareDetector(config)] if config.enabled else []


@hookimpl
def invigilator_register_rules() -> Iterable[Rule]:
    return [GLARE_RULE]
