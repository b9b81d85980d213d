"""Precision and recall of violations against labelled windows.

Counting is per violation kind over time windows, not per frame, because a violation is what a
proctor sees: one "no face" badge for a 6 s absence is right, however many frames it spans.

- A label is *found* when a predicted violation of its kind overlaps it (the label widened by
  the tolerance on both sides: a rule's ``gap_s`` ends a violation a little after the truth).
  recall = found labels / labels.
- A prediction is *right* when it overlaps a label of its kind (same widening).
  precision = right predictions / predictions.

A kind with no labels has no recall (None); one with no predictions has no precision (None).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

Window = tuple[float, float]


@dataclass
class KindScore:
    labels: int = 0
    found: int = 0
    predicted: int = 0
    right: int = 0

    @property
    def precision(self) -> float | None:
        return self.right / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.found / self.labels if self.labels else None

    def add(self, other: KindScore) -> None:
        self.labels += other.labels
        self.found += other.found
        self.predicted += other.predicted
        self.right += other.right

    def as_dict(self) -> dict[str, float | int | None]:
        rounded = {k: None if v is None else round(v, 3) for k, v in self._ratios().items()}
        return {
            "labels": self.labels,
            "found": self.found,
            "predicted": self.predicted,
            "right": self.right,
            **rounded,
        }

    def _ratios(self) -> dict[str, float | None]:
        return {"precision": self.precision, "recall": self.recall}


def _overlaps(a: Window, b: Window, tolerance: float) -> bool:
    return a[0] <= b[1] + tolerance and b[0] - tolerance <= a[1]


def score(labels: Iterable[Window], predicted: Iterable[Window], tolerance: float) -> KindScore:
    """One kind in one clip: ``labels`` and ``predicted`` are (start, end) windows."""
    truth, guesses = list(labels), list(predicted)
    return KindScore(
        labels=len(truth),
        found=sum(any(_overlaps(p, t, tolerance) for p in guesses) for t in truth),
        predicted=len(guesses),
        right=sum(any(_overlaps(p, t, tolerance) for t in truth) for p in guesses),
    )
