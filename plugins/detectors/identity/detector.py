"""The identity detector: the live face against the candidate's enrolled reference.

An embedding costs ~65-110 ms of CPU per face, far too much for every frame of every candidate,
and the same face seen a second ago tells nothing new. So the detector looks often and cheaply
(mediapipe, a few ms, every ``look_interval_s``) and embeds only when it matters:

- the first frame of an attempt with a face in it (exam start);
- a face after a look without one (the candidate came back: is it still them?) and a look with
  more faces than the one before;
- a first mismatch, re-checked at the next look so one bad frame is not a violation;
- every ``interval_s`` while the face stays in view.

The detector sees no other detector's results, so it keeps this memory itself, per attempt, and
forgets attempts that sent no frame for ``forget_after_s``.

To keep the event log small it returns an observation only for a frame whose face it embedded,
or where the status changed (``no_face`` when the face leaves, ``skipped`` for a face too small
to compare, ``no_reference`` once for a candidate without an enrolled embedding). While the face
stays and matches that is one event per ``interval_s``; rules therefore treat the source as
sampled at that rate (``stale_s`` of ``identity_mismatch`` is larger than the longest interval).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.detectors import DetectorNeeds, Frame, Observation
from plugins.detectors.identity import faces
from plugins.detectors.identity.config import IdentityConfig

REFERENCE_KEY = "identity.reference"
"""``Frame.context`` key: the candidate's enrolled embedding (128 floats), or None when they have
none. A context without the key is one not loaded yet (the first frames of a stream): the
detector waits rather than report a missing reference it does not know is missing."""


@dataclass
class _Attempt:
    """What the detector remembers of one attempt between its frames."""

    seen_at: float
    status: faces.Status | None = None  # the last status reported
    checked_at: float | None = None  # when a face was last embedded
    faces: int = 0  # faces at the previous look
    mismatches: int = 0  # consecutive mismatching embeddings


class IdentityDetector:
    """dlib's face embedding behind the :class:`core.detectors.Detector` protocol."""

    name = "identity"

    def __init__(self, config: IdentityConfig) -> None:
        self.config = config
        self.needs = DetectorNeeds(
            video=True,
            min_interval_s=config.look_interval_s,
            device="gpu" if config.device == "cuda" else "cpu",
        )
        self._attempts: dict[str, _Attempt] = {}

    def load(self) -> None:
        """Start the embedding process, load its models and run them once, and build this
        thread's face finder, so a missing model or library fails here with its reason."""
        faces.configure(self.config.embedding_processes)
        device = faces.warm_up(self.config.device)
        self.needs = dataclasses.replace(self.needs, device="gpu" if device == "cuda" else "cpu")
        faces.find_faces(np.zeros((160, 160, 3), dtype=np.uint8))

    @property
    def tracked(self) -> int:
        """Attempts remembered now (bounded by ``forget_after_s``)."""
        return len(self._attempts)

    def detect(self, frames: Sequence[Frame]) -> list[Observation]:
        if not frames:
            return []
        newest = max(frame.ts for frame in frames)
        horizon = newest - self.config.forget_after_s
        for attempt_id in [a for a, s in self._attempts.items() if s.seen_at < horizon]:
            del self._attempts[attempt_id]
        observations: list[Observation] = []
        for frame in frames:
            observation = self._one(frame)
            if observation is not None:
                observations.append(observation)
        return observations

    def _one(self, frame: Frame) -> Observation | None:
        if REFERENCE_KEY not in frame.context:
            # The attempt's context is not loaded yet (or this is a system check): that there
            # is no reference is not known either.
            return None
        state = self._attempts.get(frame.attempt_id)
        if state is None:
            state = self._attempts[frame.attempt_id] = _Attempt(seen_at=frame.ts)
        state.seen_at = max(state.seen_at, frame.ts)
        reference = faces.as_reference(frame.context[REFERENCE_KEY])
        if reference is None:
            if state.status == "no_reference":
                return None  # said once; nothing to compare with until the next stream
            rgb = faces.rgb_of(frame.image)
            verdict = faces.Verdict("no_reference", None, len(faces.find_faces(rgb)))
            return self._report(frame, state, verdict)

        rgb = faces.rgb_of(frame.image)
        found = faces.find_faces(rgb)
        config = self.config
        candidates = faces.usable(found, config.min_face_px, config.max_faces)
        if not candidates:
            status: faces.Status = "no_face" if not found else "skipped"
            previous, state.faces = state.status, len(found)
            if status == previous:
                return None
            return self._report(frame, state, faces.Verdict(status, None, len(found)))

        due = (
            state.status not in ("match", "mismatch")  # exam start, or the face came back
            or len(found) > state.faces  # someone else came into view
            or state.mismatches == 1  # confirm a first mismatch at once
            or state.checked_at is None
            or frame.ts - state.checked_at >= config.interval_s
        )
        state.faces = len(found)
        if not due:
            return None
        verdict = faces.compare(
            rgb,
            found,
            reference,
            threshold=config.threshold,
            min_face_px=config.min_face_px,
            max_faces=config.max_faces,
        )
        state.checked_at = frame.ts
        state.mismatches = state.mismatches + 1 if verdict.status == "mismatch" else 0
        return self._report(frame, state, verdict)

    def _report(self, frame: Frame, state: _Attempt, verdict: faces.Verdict) -> Observation:
        state.status = verdict.status
        if verdict.status not in ("match", "mismatch"):
            state.mismatches = 0
        return Observation(
            attempt_id=frame.attempt_id,
            ts=frame.ts,
            detector=self.name,
            values={
                "status": verdict.status,
                "distance": verdict.distance,
                "faces": verdict.faces,
            },
            confidence=min(1.0, max(0.0, verdict.confidence)),
        )
