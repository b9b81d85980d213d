"""Near-duplicate scores: the same question reworded or re-punctuated scores high, a different
question on the same topic scores low, and the best match is the one reported."""

from __future__ import annotations

from plugins.generation.similarity import most_similar, question_text

BANK = [
    (1, "Which pigment absorbs red and blue light in plant leaves?"),
    (2, "Where in the chloroplast does the Calvin cycle take place?"),
    (3, "What gas do stomata let into the leaf during the day?"),
]


def test_rewording_and_punctuation_are_still_duplicates() -> None:
    [(best, score)] = most_similar(["which PIGMENT absorbs red & blue light in plant leaves"], BANK)
    assert best == 1
    assert score > 0.9
    [(best, score)] = most_similar(
        ["Which pigment absorbs red and blue light in the leaves of plants?"], BANK
    )
    assert best == 1
    assert score > 0.8


def test_a_different_question_on_the_same_topic_is_not() -> None:
    [(best, score)] = most_similar(["Name the enzyme that fixes carbon dioxide."], BANK)
    assert score < 0.3
    assert best in (None, 1, 2, 3)
    [(_, score)] = most_similar(
        ["Which colouring substance in foliage takes up red and blue wavelengths?"], BANK
    )
    assert score < 0.5  # a paraphrase in other words is beyond this measure (docs say so)


def test_body_and_options_make_the_text_and_an_empty_bank_matches_nothing() -> None:
    payload = {"options": [{"text": "Chlorophyll"}, {"text": "Carotene"}]}
    assert question_text("Title", "Body", payload) == "Body Chlorophyll Carotene"
    assert question_text("Title", " ", {}) == "Title "
    assert most_similar(["anything"], []) == [(None, 0.0)]
