"""``[detector_identity]``: one typed section for the detector, the enrollment embeddings and the
verification endpoint, so the threshold that decides "same person" is the same everywhere."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

SECTION = "detector_identity"


class IdentityConfig(BaseModel):
    """``[detector_identity]`` in plugins.toml."""

    enabled: bool = Field(
        True,
        description="Compare the live face with the enrolled reference, compute the embeddings "
        "of enrolled photos and serve the verification endpoint.",
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto",
        description="dlib chooses its device when it is built: auto uses what the installed "
        "dlib was built for (the CPU for the dlib-bin wheel); cuda refuses to load a CPU-only "
        "build and cpu a CUDA one, with that reason.",
    )
    threshold: float = Field(
        0.6,
        gt=0,
        lt=2,
        description="Largest embedding distance still counted as the same person (dlib's "
        "calibration; measured: the same person 0.1-0.32, other people 0.69-0.88).",
    )
    interval_s: float = Field(
        10.0,
        ge=1,
        le=30,
        description="Per attempt, seconds between embeddings while the same face stays in view; "
        "exam start, a face that reappears and a first mismatch are checked at once.",
    )
    look_interval_s: float = Field(
        1.0,
        gt=0,
        le=10,
        description="Per attempt, seconds between the cheap face look that notices a face "
        "reappearing.",
    )
    min_face_px: int = Field(
        40,
        ge=16,
        le=1000,
        description="Faces narrower than this (pixels) are not compared: status skipped.",
    )
    max_faces: int = Field(
        3, ge=1, le=10, description="Faces compared per frame, largest first; any may match."
    )
    forget_after_s: float = Field(
        600.0,
        ge=10,
        le=86400,
        description="An attempt with no frame for this long is forgotten; its next frame counts "
        "as an exam start.",
    )
    embedding_processes: int = Field(
        1,
        ge=1,
        le=16,
        description="Worker processes that compute embeddings (dlib holds Python's GIL while "
        "it computes, so it runs outside the server process); each uses up to one core.",
    )
    verify_max_bytes: int = Field(
        2 * 1024 * 1024,
        ge=16 * 1024,
        le=20 * 1024 * 1024,
        description="Largest live capture POST /api/v1/identity/verify accepts.",
    )
    verify_per_minute: int = Field(
        10,
        ge=1,
        le=600,
        description="Verifications one candidate may ask for per minute (each costs an "
        "embedding); more are answered 429.",
    )
    catch_up_interval_s: float = Field(
        300.0,
        ge=10,
        le=86400,
        description="Seconds between sweeps that embed enrolled photos still without an "
        "embedding (a missed enrollment.added message) and delete orphaned embeddings.",
    )
