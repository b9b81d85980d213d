"""Reading study material without a model: sentences, key terms and definitions.

Deliberately small and deterministic (the offline generator must run anywhere, with no
network and no weights): sentences are split on end punctuation, key terms are the most
frequent noun-like words and word pairs (stop words, verbs-by-suffix and adverbs left out),
and a definition is a sentence of the form "X is/are/means/refers to Y". It reads English
prose; lists, tables and formulas give it little to work with (see docs/generation.md).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

_FENCE = re.compile(r"```.*?```", re.S)
_MARKUP = re.compile(r"^\s{0,3}(?:#{1,6}\s+|[-*+]\s+|\d+[.)]\s+|>\s?)", re.M)
_INLINE = re.compile(r"[*_`]+|\[([^\]]*)\]\([^)]*\)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]|[A-Za-z]")
_DEFINITION = re.compile(
    r"^(?:(?:An?|The)\s+)?(?P<term>[A-Za-z][\w' -]{1,48}?)\s+"
    r"(?:is|are|refers to|means|is defined as|is called)\s+(?P<rest>.{12,})$"
)
STOP_WORDS = frozenset(
    """a about above after again against all also although am an and any are as at be because
    been before being below between both but by can cannot could did do does doing down during
    each either even every few for from further had has have having he her here hers him his
    how however i if in into is it its itself just may me might more most much must my neither
    no nor not now of off often on once one only or other our ours out over own same she
    should so some such than that the their theirs them then there these they this those
    through thus to too under until up upon us very was we were what when where whether which
    while who whom whose why will with within without would yet you your also called known
    used using use uses many several two three first second new well like make makes made
    called way ways part parts example examples include includes including different important
    main called given mean means refers refer defined describe described form forms kind kinds
    type types number lot lots take takes taken place places happen happens power powers let
    lets mostly mainly small large green red blue close open less far next same hot dry cold
    wet high low good bad overall release releases process processes produce produces produced
    build builds""".split()  # noqa: SIM905  (a word list reads better as text)
)
_NOT_NOUN_SUFFIXES = ("ly", "ing", "ed", "ize", "ise", "ous", "ful", "ive", "able", "ible")
_NOUN_SUFFIXES = ("tion", "sion", "ment", "ness", "ity", "ism", "ase", "ogy", "ics", "ance", "ence")


@dataclass(frozen=True)
class Term:
    text: str
    score: float
    kind: str  # "name" (capitalised), "phrase" (two words), "concept" (-tion, -ity…), "word"


@dataclass(frozen=True)
class Definition:
    term: str
    meaning: str
    sentence: str


def plain_text(material: str) -> str:
    """Markdown to plain prose: fences, heading and list markers and inline markup removed."""
    text = _FENCE.sub(" ", material)
    text = _MARKUP.sub("", text)
    return _INLINE.sub(lambda m: m.group(1) or "", text)


def sentences(material: str) -> list[str]:
    """Sentences of 6-60 words, in order, each once. Headings and list items without end
    punctuation become their own (short) lines and are mostly filtered by the word count."""
    found: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=[A-Z#*-])", plain_text(material)):
        flat = " ".join(block.split())
        for piece in _SENTENCE_END.split(flat):
            part = piece.strip()
            if 6 <= len(words(part)) <= 60 and part[-1:] in ".!?" and part not in found:
                found.append(part)
    return found


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def _noun_like(word: str) -> bool:
    lower = word.lower()
    if lower in STOP_WORDS or len(lower) < 4:
        return False
    return lower.endswith(_NOUN_SUFFIXES) or not lower.endswith(_NOT_NOUN_SUFFIXES)


def key_terms(material: str, limit: int = 40) -> list[Term]:
    """The material's key terms, best first: frequency times inverse sentence frequency over
    noun-like words and two-word phrases, so a term the whole text is about outranks one
    repeated in a single sentence, and filler words never appear."""
    lines = sentences(material)
    if not lines:
        return []
    counts: Counter[str] = Counter()
    spread: Counter[str] = Counter()
    surface: dict[str, Counter[str]] = {}
    for line in lines:
        tokens = words(line)
        seen: set[str] = set()
        for i, token in enumerate(tokens):
            candidates = [token] if _noun_like(token) else []
            if i + 1 < len(tokens) and _noun_like(token) and _noun_like(tokens[i + 1]):
                candidates.append(f"{token} {tokens[i + 1]}")
            for candidate in candidates:
                key = candidate.lower()
                counts[key] += 1
                surface.setdefault(key, Counter())[candidate] += 1
                seen.add(key)
        spread.update(seen)
    _merge_plurals(counts, spread, surface)
    total = len(lines)
    scored: list[Term] = []
    for key, count in counts.items():
        if " " in key and count < 2:
            continue  # a word pair seen once is a coincidence, not a term
        idf = math.log(1 + total / spread[key])
        score = count * idf * (1.5 if " " in key else 1.0)
        text = surface[key].most_common(1)[0][0]
        scored.append(Term(text=text, score=score, kind=_kind(text)))
    scored.sort(key=lambda t: (-t.score, t.text.lower()))
    return _drop_covered(scored)[:limit]


def _merge_plurals(
    counts: Counter[str], spread: Counter[str], surface: dict[str, Counter[str]]
) -> None:
    """Count "chloroplasts" as "chloroplast" when both occur: one term, not two distractors."""
    for key in [k for k in counts if k.endswith("s") and k[:-1] in counts]:
        singular = key[:-1]
        counts[singular] += counts.pop(key)
        spread[singular] = max(spread[singular], spread.pop(key))
        surface.pop(key, None)


def _kind(text: str) -> str:
    if " " in text:
        return "phrase"
    if text[:1].isupper():
        return "name"
    if text.lower().endswith(_NOUN_SUFFIXES):
        return "concept"
    return "word"


def _drop_covered(terms: list[Term]) -> list[Term]:
    """A single word ranked below a phrase that contains it is the phrase's echo: drop it."""
    phrases = [t.text.lower() for t in terms if " " in t.text]
    kept: list[Term] = []
    for term in terms:
        lower = term.text.lower()
        if " " not in lower and any(
            lower in p.split() and _rank(terms, p) < _rank(terms, lower) for p in phrases
        ):
            continue
        kept.append(term)
    return kept


def _rank(terms: list[Term], lower: str) -> int:
    return next(i for i, t in enumerate(terms) if t.text.lower() == lower)


def definitions(material: str) -> list[Definition]:
    """Sentences shaped "X is Y": the short-answer generator asks for X given Y."""
    found: list[Definition] = []
    for line in sentences(material):
        match = _DEFINITION.match(line)
        if match is None:
            continue
        term = match["term"].strip()
        parts = term.lower().split()
        if (
            len(parts) > 4
            or parts[-1] in STOP_WORDS
            or any(p.endswith(("ed", "ing")) for p in parts)
        ):
            continue
        found.append(Definition(term=term, meaning=match["rest"].rstrip(".!? "), sentence=line))
    return found


def find_term(sentence: str, term: str) -> re.Match[str] | None:
    """Where ``term`` occurs in ``sentence`` as whole words, any case."""
    return re.search(rf"(?<![\w-]){re.escape(term)}(?![\w-])", sentence, re.I)
