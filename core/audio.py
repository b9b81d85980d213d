"""What an audio detector is: the clips it hears and the protocol it implements.

Video is sampled: the newest frame says all there is to say, so the scheduler keeps only that.
Audio is not: a sentence spoken between two looks would be lost if only "the newest audio" were
kept. So an audio detector is handed, per attempt, everything heard since its previous run as
one contiguous clip, bounded to the last few seconds when it falls behind (see
:mod:`core.pipeline`). Models that listen carry state from one clip of a stream to the next (a
voice-activity detector's recurrent state); such a detector keeps that state per attempt and is
told through :meth:`AudioDetector.forget` when an attempt's stream went away, so a long-running
process does not accumulate the state of every candidate it ever heard.

All audio is 16 kHz mono signed 16-bit: the media layer resamples each incoming track once, at
arrival, to what speech models expect, so no detector pays for resampling again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from core.detectors import Detector, DetectorNeeds, Observation

AUDIO_RATE = 16_000  # samples per second of every clip
WINDOW_SAMPLES = 512  # 32 ms: the unit the media layer delivers and drops are counted in


@dataclass(frozen=True, eq=False)
class AudioClip:
    """Contiguous audio of one attempt, shared read-only by every audio detector.

    ``samples`` is a 1-D int16 array at :data:`AUDIO_RATE`; ``ts`` is when its LAST sample was
    heard (seconds since the epoch), so the clip covers ``[ts - duration_s, ts]``. ``context``
    is the same per-attempt mapping video frames carry (hook ``invigilator_attempt_context``).
    """

    attempt_id: str
    ts: float
    samples: np.ndarray
    context: Mapping[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return int(self.samples.size) / AUDIO_RATE

    @property
    def start_ts(self) -> float:
        return self.ts - self.duration_s


@runtime_checkable
class AudioDetector(Protocol):
    """A batched listener. It declares ``DetectorNeeds(video=False, audio=True)``.

    ``detect_audio`` gets at most one clip per attempt per call and is called from one worker
    thread at a time for a given detector, as is ``forget``, so per-attempt state needs no lock.
    ``needs.min_interval_s`` is the shortest clip it wants: an attempt's audio is held until it
    covers that long. It returns at most one observation per clip, stamped with the clip's
    ``ts``, and may return none for a clip it has nothing to say about.
    """

    @property
    def name(self) -> str: ...

    @property
    def needs(self) -> DetectorNeeds: ...

    def load(self) -> None: ...

    def detect_audio(self, clips: Sequence[AudioClip]) -> list[Observation]: ...

    def forget(self, attempt_id: str) -> None: ...


AnyDetector = Detector | AudioDetector
"""What ``invigilator_register_detectors`` may return: video and audio detectors alike."""


def mix(tracks: Sequence[np.ndarray]) -> np.ndarray:
    """One int16 signal from the audio of several tracks of one attempt (a microphone and a
    shared tab, say), aligned at their ends because each holds what arrived up to now.

    Detectors keep one stream state per attempt, so they must hear one signal; summing (with
    clipping) keeps a voice on either track audible. One track is returned as it is.
    """
    present = [t for t in tracks if t.size]
    if not present:
        return np.zeros(0, dtype=np.int16)
    if len(present) == 1:
        return present[0]
    longest = max(t.size for t in present)
    total = np.zeros(longest, dtype=np.int32)
    for track in present:
        total[longest - track.size :] += track
    return np.clip(total, -32768, 32767).astype(np.int16)
