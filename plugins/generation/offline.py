"""The offline generator: questions from study material with no network and no model.

It reads the material with :mod:`~plugins.generation.text_analysis` and builds each type from
the material's own sentences, so every answer can be checked against the text it quotes:

- single choice: a sentence with a key term blanked out; distractors are other key terms of the
  same kind (names for names, phrases for phrases) so none is absurd at a glance;
- multiple choice: which statements agree with the material (true sentences and copies with a
  key term swapped);
- true/false: a sentence as written (true) or with a term swapped (false);
- short answer: "X is Y" definitions, asking for X;
- essay: the main terms, with a rubric of one criterion per term.

It does not write coding problems: that needs a model (use the ``openai`` backend).
"""

from __future__ import annotations

import re

from plugins.generation.backend import (
    Drafted,
    GeneratedType,
    GenerationFailed,
    GenerationRequest,
    UsageMeter,
    question_in,
)
from plugins.generation.text_analysis import (
    Term,
    definitions,
    find_term,
    key_terms,
    sentences,
)

OPTION_IDS = "abcdefgh"
_TAG = re.compile(r"[^\w .:+#/-]")


class OfflineGenerator:
    name = "offline"

    async def generate(
        self,
        request: GenerationRequest,
        question_type: GeneratedType,
        number: int,
        usage: UsageMeter,
    ) -> Drafted:
        material = request.text
        if question_type == "coding":
            raise GenerationFailed(
                "the offline generator does not write coding problems; choose the openai backend"
            )
        terms = key_terms(material)
        if len(terms) < 2:
            raise GenerationFailed(
                "the material is too short to find key terms; paste a few paragraphs of prose"
            )
        build = {
            "single_choice": _single_choice,
            "multiple_choice": _multiple_choice,
            "true_false": _true_false,
            "short_answer": _short_answer,
            "essay": _essay,
        }[question_type]
        content = build(material, terms, number)
        content.setdefault("difficulty", request.difficulty)
        return Drafted(question=question_in(content))

    def cost(self, usage: UsageMeter) -> float:
        return 0.0

    async def close(self) -> None:
        return None


def _cloze_candidates(material: str, terms: list[Term]) -> list[tuple[str, Term]]:
    """(sentence, term) pairs, most informative first: each sentence with its best key term."""
    rank = {t.text.lower(): i for i, t in enumerate(terms)}
    pairs: list[tuple[int, str, Term]] = []
    for sentence in sentences(material):
        present = [t for t in terms if find_term(sentence, t.text)]
        if present:
            best = min(present, key=lambda t: rank[t.text.lower()])
            pairs.append((rank[best.text.lower()] - len(present), sentence, best))
    pairs.sort(key=lambda p: p[0])
    return [(sentence, term) for _, sentence, term in pairs]


def _pick(items: list[tuple[str, Term]], number: int, what: str) -> tuple[str, Term]:
    if number >= len(items):
        raise GenerationFailed(
            f"the material has only {len(items)} sentence(s) usable for {what}; "
            "ask for fewer or add material"
        )
    return items[number]


def _distractors(terms: list[Term], answer: Term, sentence: str, count: int) -> list[str]:
    """Other key terms, the same kind first, none already in the sentence."""
    others = [
        t
        for t in terms
        if t.text.lower() != answer.text.lower()
        and not find_term(sentence, t.text)
        and t.text.lower() not in answer.text.lower()
        and answer.text.lower() not in t.text.lower()
    ]
    same = [t for t in others if t.kind == answer.kind]
    rest = [t for t in others if t.kind != answer.kind]
    return [t.text for t in (same + rest)[:count]]


def _swap(sentence: str, term: Term, replacement: str) -> str:
    match = find_term(sentence, term.text)
    assert match is not None
    return sentence[: match.start()] + replacement + sentence[match.end() :]


def _tags(*texts: str) -> list[str]:
    tags = ["generated"]
    for text in texts:
        tag = _TAG.sub("", text.lower()).strip()[:64]
        if tag and tag[0].isalnum() and tag not in tags:
            tags.append(tag)
    return tags[:5]


def _title(prefix: str, text: str) -> str:
    short = text if len(text) <= 70 else text[:67].rsplit(" ", 1)[0] + "…"
    return f"{prefix}: {short}"[:200]


def _single_choice(material: str, terms: list[Term], number: int) -> dict[str, object]:
    sentence, term = _pick(_cloze_candidates(material, terms), number, "single choice")
    wrong = _distractors(terms, term, sentence, 3)
    if not wrong:
        raise GenerationFailed("no other key term of the material can serve as a distractor")
    cloze = _swap(sentence, term, "_____")
    choices = [term.text, *wrong]
    shift = number % len(choices)  # the right answer is not always first in the stored order
    choices = choices[shift:] + choices[:shift]
    options = [
        {"id": OPTION_IDS[i], "text": text, "correct": text == term.text}
        for i, text in enumerate(choices)
    ]
    return {
        "type": "single_choice",
        "title": _title("Complete", cloze),
        "body": f"Which term completes the statement?\n\n> {cloze}",
        "payload": {"type": "single_choice", "options": options},
        "explanation": f"The material says: “{sentence}”",
        "tags": _tags(term.text),
    }


def _multiple_choice(material: str, terms: list[Term], number: int) -> dict[str, object]:
    candidates = _cloze_candidates(material, terms)
    picked = [candidates[i] for i in range(number * 2, number * 2 + 4) if i < len(candidates)]
    if len(picked) < 3:
        raise GenerationFailed(
            "the material has too few usable sentences for another multiple-choice question"
        )
    statements: list[tuple[str, bool]] = []
    for index, (sentence, term) in enumerate(picked):
        wrong = _distractors(terms, term, sentence, 1) if index % 2 else []
        statements.append((_swap(sentence, term, wrong[0]), False) if wrong else (sentence, True))
    options = [
        {"id": OPTION_IDS[i], "text": text, "correct": correct}
        for i, (text, correct) in enumerate(statements)
    ]
    explanation = "\n".join(f"- {s} ({'agrees' if ok else 'changed'})" for s, ok in statements)
    return {
        "type": "multiple_choice",
        "title": _title("Which statements agree with the material", picked[0][1].text),
        "body": "Select every statement that agrees with the material.",
        "payload": {"type": "multiple_choice", "options": options},
        "explanation": f"Original sentences were kept or had one term swapped:\n\n{explanation}",
        "tags": _tags(*(term.text for _, term in picked[:3])),
    }


def _true_false(material: str, terms: list[Term], number: int) -> dict[str, object]:
    sentence, term = _pick(_cloze_candidates(material, terms), number, "true/false")
    wrong = _distractors(terms, term, sentence, 1) if number % 2 else []
    statement = _swap(sentence, term, wrong[0]) if wrong else sentence
    return {
        "type": "true_false",
        "title": _title("True or false", statement),
        "body": f"True or false?\n\n> {statement}",
        "payload": {"type": "true_false", "answer": not wrong},
        "explanation": f"The material says: “{sentence}”",
        "tags": _tags(term.text),
    }


def _short_answer(material: str, terms: list[Term], number: int) -> dict[str, object]:
    found = definitions(material)
    if number < len(found):
        item = found[number]
        return {
            "type": "short_answer",
            "title": _title("Name the term", item.meaning),
            "body": f"Which term does the material describe as: “{item.meaning}”?",
            "payload": {"type": "short_answer", "accepted": [{"value": item.term}]},
            "explanation": f"The material says: “{item.sentence}”",
            "tags": _tags(item.term),
        }
    # Past the definitions, a blanked sentence asks for the term in the candidate's own words.
    sentence, term = _pick(_cloze_candidates(material, terms), number - len(found), "short answer")
    cloze = _swap(sentence, term, "_____")
    return {
        "type": "short_answer",
        "title": _title("Fill the gap", cloze),
        "body": f"Write the missing term.\n\n> {cloze}",
        "payload": {"type": "short_answer", "accepted": [{"value": term.text}]},
        "explanation": f"The material says: “{sentence}”",
        "tags": _tags(term.text),
    }


def _essay(material: str, terms: list[Term], number: int) -> dict[str, object]:
    start = number * 3
    main = terms[start : start + 3]
    if len(main) < 2:
        raise GenerationFailed("the material has too few key terms for another essay prompt")
    listed = ", ".join(t.text for t in main[:-1]) + f" and {main[-1].text}"
    rubric = [
        {
            "criterion": f"Explains {t.text}"[:200],
            "points": 2,
            "description": f"States what {t.text} is and its role, as in the material.",
        }
        for t in main
    ]
    rubric.append(
        {
            "criterion": "Connections and structure",
            "points": 2,
            "description": "Relates the terms to each other in an ordered, clear answer.",
        }
    )
    return {
        "type": "essay",
        "title": _title("Essay", f"{listed}")[:200],
        "body": f"Explain {listed}, and how they relate to each other, using the material.",
        "payload": {"type": "essay", "rubric": rubric, "min_words": 150, "max_words": 600},
        "points": float(sum(c["points"] for c in rubric)),  # type: ignore[misc]
        "explanation": "Key terms the material builds on: " + listed + ".",
        "tags": _tags(*(t.text for t in main)),
    }
