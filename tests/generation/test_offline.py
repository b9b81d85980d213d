"""The offline generator on a real passage: every question it writes is valid bank content
whose right answer can be found in the material, and what it cannot do it says."""

from __future__ import annotations

import pytest

from plugins.generation.backend import GenerationFailed, GenerationRequest, UsageMeter
from plugins.generation.offline import OfflineGenerator
from plugins.generation.text_analysis import definitions, key_terms, sentences
from tests.generation.conftest import PASSAGE

REQUEST = GenerationRequest(source_kind="material", text=PASSAGE, difficulty="medium")
FLAT = " ".join(PASSAGE.split())


def test_the_passage_is_read_into_sentences_terms_and_definitions() -> None:
    lines = sentences(PASSAGE)
    assert len(lines) == 17
    assert not any(line.startswith("#") for line in lines)
    terms = [t.text.lower() for t in key_terms(PASSAGE)]
    for expected in ("calvin cycle", "carbon dioxide", "glucose", "chloroplast", "oxygen"):
        assert expected in terms
    for filler in ("the", "which", "green", "takes place", "chloroplasts"):
        assert filler not in terms
    assert [d.term for d in definitions(PASSAGE)] == [
        "Photosynthesis",
        "Chlorophyll",
        "Stomata",
        "Cellular respiration",
        "Fermentation",
    ]


async def test_single_choice_blanks_a_key_term_and_offers_terms_of_the_same_kind() -> None:
    generator = OfflineGenerator()
    seen_bodies = set()
    for number in range(4):
        drafted = await generator.generate(REQUEST, "single_choice", number, UsageMeter())
        question = drafted.question
        payload = question.payload.model_dump()
        options = payload["options"]
        right = [o["text"] for o in options if o["correct"]]
        assert len(right) == 1
        assert len(options) == 4
        assert len({o["text"].lower() for o in options}) == 4
        cloze = question.body.split("> ", 1)[1]
        assert "_____" in cloze
        assert cloze.replace("_____", right[0]) in FLAT  # the blank restores the sentence
        assert "generated" in question.tags
        assert right[0].lower() in question.tags
        seen_bodies.add(question.body)
    assert len(seen_bodies) == 4


async def test_true_false_alternates_true_and_swapped_statements() -> None:
    generator = OfflineGenerator()
    answers = []
    for number in range(4):
        question = (await generator.generate(REQUEST, "true_false", number, UsageMeter())).question
        statement = question.body.split("> ", 1)[1]
        answer = question.payload.model_dump()["answer"]
        assert (statement in FLAT) is answer
        answers.append(answer)
    assert answers == [True, False, True, False]


async def test_short_answer_asks_for_the_defined_term() -> None:
    question = (
        await OfflineGenerator().generate(REQUEST, "short_answer", 1, UsageMeter())
    ).question
    assert question.payload.model_dump()["accepted"][0]["value"] == "Chlorophyll"
    assert "the green pigment that absorbs light" in question.body
    assert "Chlorophyll" not in question.body


async def test_multiple_choice_mixes_true_and_changed_statements() -> None:
    question = (
        await OfflineGenerator().generate(REQUEST, "multiple_choice", 0, UsageMeter())
    ).question
    options = question.payload.model_dump()["options"]
    assert any(o["correct"] for o in options)
    assert not all(o["correct"] for o in options)
    for option in options:
        assert (option["text"] in FLAT) is option["correct"]


async def test_essay_has_a_rubric_built_from_the_main_terms() -> None:
    question = (await OfflineGenerator().generate(REQUEST, "essay", 0, UsageMeter())).question
    rubric = question.payload.model_dump()["rubric"]
    main = [t.text for t in key_terms(PASSAGE)[:3]]
    assert [c["criterion"] for c in rubric[:3]] == [f"Explains {t}" for t in main]
    assert question.points == sum(c["points"] for c in rubric)
    assert all(t in question.body for t in main)


async def test_what_it_cannot_do_is_a_clear_failure() -> None:
    generator = OfflineGenerator()
    with pytest.raises(GenerationFailed, match="does not write coding problems"):
        await generator.generate(REQUEST, "coding", 0, UsageMeter())
    short = GenerationRequest(source_kind="topic", text="Photosynthesis", difficulty="easy")
    with pytest.raises(GenerationFailed, match="too short"):
        await generator.generate(short, "single_choice", 0, UsageMeter())
    with pytest.raises(GenerationFailed, match="only 17 sentence"):
        await generator.generate(REQUEST, "true_false", 17, UsageMeter())
    usage = UsageMeter()
    await generator.generate(REQUEST, "true_false", 0, usage)
    assert (usage.calls, generator.cost(usage)) == (0, 0.0)
