"""Near-duplicate detection: character n-gram TF-IDF cosine between question texts.

Deterministic and dependency-free on purpose: it needs no model download, gives the same
answer on every machine, and catches what examiners mostly meet (the same question reworded,
re-punctuated or with options reordered). It does not catch paraphrases that share few
words; an embedding model would, at the cost of a large dependency (see docs/generation.md).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

N = 3
_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s]")


def question_text(title: str, body: str, payload: Mapping[str, Any]) -> str:
    """What two questions must share to be the same question: the body and option texts.

    The title is left out when there is a body: it is the bank's label, which examiners rename
    freely, and a renamed copy is still a copy."""
    options = " ".join(str(o.get("text", "")) for o in payload.get("options", []))
    return f"{body} {options}" if body.strip() else f"{title} {options}"


def _grams(text: str) -> Counter[str]:
    flat = _SPACE.sub(" ", _PUNCT.sub(" ", text.lower())).strip()
    padded = f" {flat} "
    return Counter(padded[i : i + N] for i in range(max(len(padded) - N + 1, 0)))


def most_similar(
    texts: Sequence[str], corpus: Iterable[tuple[int, str]]
) -> list[tuple[int | None, float]]:
    """For each text, the id of the most similar corpus entry and the cosine (0-1).

    IDF is computed over corpus and texts together, so n-grams every question shares (the
    "which of the following" of a bank) weigh little.
    """
    entries = list(corpus)
    query_grams = [_grams(t) for t in texts]
    corpus_grams = [_grams(t) for _, t in entries]
    documents = query_grams + corpus_grams
    df: Counter[str] = Counter()
    for grams in documents:
        df.update(grams.keys())
    total = len(documents)

    def vector(grams: Counter[str]) -> dict[str, float]:
        weights = {g: c * (math.log((1 + total) / (1 + df[g])) + 1.0) for g, c in grams.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        return {g: w / norm for g, w in weights.items()}

    corpus_vectors = [vector(g) for g in corpus_grams]
    results: list[tuple[int | None, float]] = []
    for grams in query_grams:
        q = vector(grams)
        best: tuple[int | None, float] = (None, 0.0)
        for (question_id, _), c in zip(entries, corpus_vectors, strict=True):
            score = sum(w * c.get(g, 0.0) for g, w in q.items())
            if score > best[1]:
                best = (question_id, min(score, 1.0))
        results.append(best)
    return results
