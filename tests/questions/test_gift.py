"""GIFT import (a teacher's file, broken files) and export round trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.questions.conftest import Client
from tests.questions.transfer_support import (
    BANK,
    assert_nothing_written,
    comparable,
    create_bank,
    export,
    import_file,
    questions_by_title,
)

pytestmark = pytest.mark.usefixtures("examiner")

GIFT = (Path(__file__).parent / "data" / "sample.gift.txt").read_text(encoding="utf-8")


async def test_import_a_teachers_file(client: Client) -> None:
    response = await import_file(client, GIFT, "gift")
    assert response.status == 200, await response.text()
    result = await response.json()
    assert result["created"] == 10
    warned = {w["name"]: w["message"] for w in result["warnings"]}
    assert set(warned) == {"Alps", "Several numeric answers"}

    bank = await questions_by_title(client)
    italy = bank["Capital of Italy"]
    assert italy["tags"] == ["capitals", "europe"]
    assert italy["content"]["body"] == "What is the capital of Italy?"
    assert italy["content"]["explanation"] == "Rome has been the capital since 1871."
    options = italy["content"]["payload"]["options"]
    assert [(o["text"], o["correct"], o["feedback"]) for o in options] == [
        ("Rome", True, "Yes, Roma."),
        ("Milan", False, "No, that is the fashion capital."),
        ("Naples", False, ""),
    ]
    assert italy["category_id"] is None

    rivers = bank["Rivers"]
    assert rivers["type"] == "multiple_choice"
    assert [o["correct"] for o in rivers["content"]["payload"]["options"]] == [True, True, False]
    assert rivers["category_id"] is not None

    assert bank["Alps"]["content"]["payload"] == {"type": "true_false", "answer": False}
    height = bank["Mont Blanc height"]["content"]["payload"]
    assert (height["answer"], height["tolerance"]) == (4806, 50)
    year = bank["Year range"]["content"]["payload"]
    assert (year["answer"], year["tolerance"]) == (1989, 1)
    light = bank["Several numeric answers"]["content"]["payload"]
    assert (light["answer"], light["tolerance"]) == (299792, 1000)
    loire = bank["Longest river"]["content"]["payload"]["accepted"]
    assert loire == [
        {"value": "Loire", "match": "case_insensitive"},
        {"value": "la Loire", "match": "case_insensitive"},
        {"value": "(?i).*Loire.*", "match": "regex"},
    ]
    missing_word = bank["Which ocean is west of Portugal? The _____ lies west of it."]
    assert missing_word["type"] == "short_answer"
    essay = bank["Describe"]
    assert essay["content"]["body"] == "<p>Describe the climate of Spain.</p>"
    assert essay["type"] == "essay"
    escaped = bank["Escaped: title"]
    assert escaped["content"]["body"] == "Compute 1 = 1 {ok} ~ # done"


async def test_round_trip(client: Client) -> None:
    created = await create_bank(client)
    response = await export(client, "gift")
    assert response.headers["X-Questions-Skipped"] == "2"
    assert response.content_type == "text/plain"
    assert 'filename="questions.gift.txt"' in response.headers["Content-Disposition"]
    text = await response.text()
    originals = await questions_by_title(client)
    for question_id in created.values():
        await client.delete(f"/api/v1/questions/{question_id}")
    imported = await import_file(client, text, "gift")
    assert imported.status == 200, await imported.text()
    assert (await imported.json())["warnings"] == []
    again = await questions_by_title(client)
    assert set(again) == {q["title"] for q in BANK} - {"Sum two numbers", "Pattern answer"}
    for title, question in again.items():
        assert comparable(question) == comparable(originals[title]), title
        assert question["difficulty"] == originals[title]["difficulty"], title
        assert question["category_id"] == originals[title]["category_id"], title


async def test_export_filters(client: Client) -> None:
    await create_bank(client)
    response = await export(client, "gift", "&tag=gift")
    assert response.headers["X-Questions-Exported"] == "1"
    assert "::Pick one\\: colon::" in await response.text()
    essays = await export(client, "moodle_xml", "&type=essay")
    assert essays.headers["X-Questions-Exported"] == "1"


BROKEN = [
    ("no closing brace", "::Q::Question {=a ~b", "no closing }"),
    ("no closing title", "::Q Question {=a ~b}", "title has no closing ::"),
    ("two right answers", "::Q::Question {=a =b ~c}", "several answers are marked ="),
    ("bad number", "::Q::Question {#twelve}", "not a number"),
    ("bad weight", "::Q::Question {~%abc%a ~b}", "not a number"),
    ("bad metadata", '// [invigilator] {"points": "many"}\n::Q::Question {T}', "invigilator"),
    ("invalid question", "::Q::Question {=a ~b ~c ~d ~e ~f ~g ~h ~i ~j ~k ~l ~m}", "at most 12"),
]


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
async def test_broken_question_fails_the_import(client: Client, text: str, message: str) -> None:
    data = f"::Fine::All good {{T}}\n\n{text}\n"
    response = await import_file(client, data, "gift")
    assert response.status == 422, await response.text()
    error = (await response.json())["error"]
    assert error["code"] == "import_failed"
    [detail] = error["details"]
    assert (detail["index"], detail["line"]) == (2, 3 if "invigilator" not in text else 4)
    assert message in detail["message"]
    await assert_nothing_written(client)


async def test_unsupported_and_not_utf8(client: Client) -> None:
    matching = "::M::Match {=cat -> meow =dog -> woof}\n\nJust a description.\n"
    response = await import_file(client, matching, "gift")
    assert response.status == 422
    assert len((await response.json())["error"]["details"]) == 2
    skipped = await import_file(client, matching + "\n::T::ok{T}\n", "gift", "&skip_unsupported=1")
    assert (await skipped.json())["created"] == 1
    latin1 = await import_file(client, "::Q::Caf\u00e9 {T}".encode("latin-1"), "gift")
    assert latin1.status == 422
    assert (await latin1.json())["error"]["code"] == "import_invalid"
