"""The labelled set: a folder with ``manifest.json`` (or ``manifest.toml``) describing clips.

A clip is what one candidate's camera and microphone delivered for a few seconds, with the
violations a proctor would expect marked as time windows. Frames are sampled at ``fps`` (the
analysis rate of live proctoring) from still images held for some seconds each, or from a
video; audio is one WAV file. Times are seconds from the start of the clip, so the temporal
rules run with their real timings without anything waiting for a clock.

Example (JSON; TOML has the same shape)::

    {"clips": [{"name": "face_then_empty", "fps": 2,
                "frames": [{"image": "astronaut.png", "seconds": 6},
                           {"image": "coffee.png", "seconds": 6}],
                "labels": [{"kind": "no_face", "start": 6, "end": 12}]}]}
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

MANIFEST_NAMES = ("manifest.json", "manifest.toml")


class ManifestError(ValueError):
    """The set cannot be read: the message says which file and what is wrong."""


class Still(BaseModel):
    """One image held in front of the camera for ``seconds``."""

    model_config = ConfigDict(extra="forbid")

    image: str = Field(min_length=1, description="path relative to the set folder")
    seconds: float = Field(gt=0, le=3600)


class Label(BaseModel):
    """A violation a proctor expects: ``kind`` held from ``start`` to ``end`` (clip seconds)."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=64)
    start: float = Field(ge=0)
    end: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Label:
        if self.end < self.start:
            raise ValueError(f"label {self.kind!r} ends ({self.end}) before it starts")
        return self


class Clip(BaseModel):
    """One labelled clip: frames (stills or a video), audio, or both."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    fps: float = Field(2.0, gt=0, le=30, description="frames analysed per second")
    frames: list[Still] = Field(default_factory=list)
    video: str | None = Field(None, description="a video file; sampled at fps")
    video_seconds: float | None = Field(None, gt=0, description="use only the first seconds")
    audio: str | None = Field(None, description="a WAV file (any rate; mono or stereo)")
    labels: list[Label] = Field(default_factory=list)
    note: str = ""

    @model_validator(mode="after")
    def _has_media(self) -> Clip:
        if not self.frames and self.video is None and self.audio is None:
            raise ValueError(f"clip {self.name!r} has no frames, video or audio")
        if self.frames and self.video is not None:
            raise ValueError(f"clip {self.name!r} has both frames and a video: choose one")
        return self


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    tolerance_s: float = Field(
        1.0, ge=0, le=60, description="a violation this close to a label still matches it"
    )
    clips: list[Clip] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Manifest:
        names = [clip.name for clip in self.clips]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"clip names used twice: {', '.join(twice)}")
        return self


def media_paths(clip: Clip) -> list[str]:
    paths = [still.image for still in clip.frames]
    return paths + [p for p in (clip.video, clip.audio) if p is not None]


def load_manifest(folder: Path) -> Manifest:
    """The validated manifest of ``folder``; every file it names must exist."""
    found = [folder / name for name in MANIFEST_NAMES if (folder / name).is_file()]
    if not found:
        raise ManifestError(f"{folder}: no {' or '.join(MANIFEST_NAMES)}")
    path = found[0]
    try:
        text = path.read_text(encoding="utf-8")
        raw = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
        manifest = Manifest.model_validate(raw)
    except (OSError, ValueError) as error:  # JSON/TOML syntax and ValidationError alike
        detail = str(error) if not isinstance(error, ValidationError) else _short(error)
        raise ManifestError(f"{path.name}: {detail}") from error
    missing = [
        f"{clip.name}: {name}"
        for clip in manifest.clips
        for name in media_paths(clip)
        if not (folder / name).is_file()
    ]
    if missing:
        raise ManifestError(f"{path.name}: missing files: {'; '.join(missing)}")
    return manifest


def _short(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'manifest'}: {e['msg']}" for e in error.errors()
    )
