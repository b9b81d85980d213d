"""The test-case judges of the fake Sphere Engine account (tests/fakes/sphere_server.py).

1 and 2 behave like Sphere Engine's built-ins ("ignores extra white spaces", "ignores
floating-point errors up to 0.01"); 3 is an exact judge, the kind of custom judge an account
may add for byte-for-byte comparison.
"""

from __future__ import annotations

import math

JUDGES = {1: "Ignores extra white spaces", 2: "Ignores FP errors up to 10^-2", 3: "Exact"}


def same_output(expected: str, actual: str, judge: int) -> bool:
    if judge == 3:
        return expected == actual
    want, got = expected.split(), actual.split()
    if judge == 1 or len(want) != len(got):
        return want == got
    for w, g in zip(want, got, strict=True):
        try:
            if not math.isclose(float(w), float(g), rel_tol=0, abs_tol=0.01):
                return False
        except ValueError:
            if w != g:
                return False
    return True
