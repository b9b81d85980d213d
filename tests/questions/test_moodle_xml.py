"""Moodle XML import (a file as Moodle writes it, hostile files) and export round trips."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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

# Written as Moodle's question bank exports: category entries, CDATA, fractions, tolerance.
MOODLE_XML = (Path(__file__).parent / "data" / "moodle_sample.xml").read_text(encoding="utf-8")


async def test_import_a_moodle_export(client: Client) -> None:
    response = await import_file(client, MOODLE_XML, "moodle_xml", "&tag=imported")
    assert response.status == 200, await response.text()
    result = await response.json()
    assert result["created"] == 6
    assert len(result["question_ids"]) == 6
    assert [w["name"] for w in result["warnings"]] == ["Newton's first law"]
    assert "motion" in result["warnings"][0]["message"]

    bank = await questions_by_title(client)
    force = bank["Unit of force"]
    assert force["type"] == "single_choice"
    assert force["content"]["points"] == 2.0
    assert force["content"]["body"] == "<p>What is the SI unit of <strong>force</strong>?</p>"
    assert force["content"]["explanation"] == "<p>1 N = 1 kg·m/s².</p>"
    assert force["tags"] == ["forces", "imported", "units"]
    options = force["content"]["payload"]["options"]
    assert [(o["id"], o["text"], o["correct"]) for o in options] == [
        ("a", "Newton", True),
        ("b", "Joule", False),
        ("c", "Pascal", False),
    ]
    assert options[0]["feedback"] == "Yes & well done."

    vectors = bank["Vector quantities"]["content"]["payload"]
    assert vectors["scoring"] == "partial"
    assert vectors["shuffle_options"] is False
    assert [o["correct"] for o in vectors["options"]] == [True, True, False, False]
    assert bank["Free fall"]["content"]["payload"] == {"type": "true_false", "answer": True}
    gravity = bank["Gravity"]["content"]["payload"]
    assert (gravity["answer"], gravity["tolerance"], gravity["unit"]) == (9.81, 0.05, "m/s^2")
    short = bank["Newton's first law"]["content"]["payload"]["accepted"]
    assert short == [
        {"value": "inertia", "match": "case_insensitive"},
        {"value": "(?i).*inertia.*", "match": "regex"},
    ]
    essay = bank["Explain momentum"]
    assert essay["content"]["payload"]["min_words"] == 50
    assert essay["content"]["payload"]["max_words"] is None
    assert essay["content"]["points"] == 5.0

    categories = await (await client.get("/api/v1/question-categories")).json()
    assert [(c["name"], c["parent_id"] is None) for c in categories] == [
        ("Default for PHYS101", True),
        ("Mechanics", False),
    ]
    assert {q["category_id"] for q in bank.values()} == {categories[1]["id"]}


async def test_import_into_a_chosen_category_and_dry_run(client: Client) -> None:
    category = await (
        await client.post("/api/v1/question-categories", json={"name": "Physics"})
    ).json()
    dry = await import_file(client, MOODLE_XML, "moodle_xml", "&dry_run=true")
    assert (await dry.json())["created"] == 6
    await assert_nothing_written(client, categories=1)
    response = await import_file(
        client, MOODLE_XML, "moodle_xml", f"&category_id={category['id']}&difficulty=hard"
    )
    assert response.status == 200
    bank = await questions_by_title(client)
    assert {(q["category_id"], q["difficulty"]) for q in bank.values()} == {
        (category["id"], "hard")
    }


async def test_round_trip(client: Client) -> None:
    created = await create_bank(client)
    response = await export(client, "moodle_xml")
    assert response.headers["X-Questions-Exported"] == str(len(BANK) - 2)
    assert response.headers["X-Questions-Skipped"] == "2"  # coding and a regex short answer
    skipped_ids = {int(i) for i in response.headers["X-Questions-Skipped-Ids"].split(",")}
    assert skipped_ids == {created["Sum two numbers"], created["Pattern answer"]}
    assert response.content_type == "application/xml"
    text = await response.text()
    assert "multichoiceset" in text

    originals = await questions_by_title(client)
    for question_id in created.values():
        await client.delete(f"/api/v1/questions/{question_id}")
    imported = await import_file(client, text, "moodle_xml")
    assert imported.status == 200, await imported.text()
    assert (await imported.json())["warnings"] == []
    again = await questions_by_title(client)
    assert set(again) == set(originals) - {"Sum two numbers", "Pattern answer"}
    for title, question in again.items():
        assert comparable(question) == comparable(originals[title]), title
        assert question["category_id"] == originals[title]["category_id"], title


HOSTILE: list[tuple[str, bytes, str]] = [
    (
        "billion laughs",
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        b"<quiz><question type='essay'><name><text>&lol3;</text></name></question></quiz>",
        "DTD",
    ),
    (
        "external entity",
        b'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<quiz><question type='essay'><name><text>&xxe;</text></name></question></quiz>",
        "DTD",
    ),
    (
        "external DTD",
        b'<?xml version="1.0"?><!DOCTYPE quiz SYSTEM "http://example.com/evil.dtd"><quiz/>',
        "DTD",
    ),
    ("malformed", b"<quiz><question type='essay'><name></quiz>", "not well-formed"),
    ("not a quiz", b"<html><body/></html>", "<quiz>"),
    ("not XML at all", b"\x00\xff binary", "not well-formed"),
]


@pytest.mark.parametrize(("data", "message"), [c[1:] for c in HOSTILE], ids=[c[0] for c in HOSTILE])
async def test_hostile_files_are_refused(client: Client, data: bytes, message: str) -> None:
    response = await import_file(client, data, "moodle_xml")
    assert response.status == 422, await response.text()
    error = (await response.json())["error"]
    assert error["code"] == "import_invalid"
    assert message in error["message"]
    await assert_nothing_written(client)


async def test_oversized_file_is_413(client: Client) -> None:
    padding = "x" * (6 * 1024 * 1024)
    data = f"<quiz><!-- {padding} --></quiz>".encode()
    response = await import_file(client, data, "moodle_xml")
    assert response.status == 413
    assert (await response.json())["error"]["code"] == "payload_too_large"
    chunked = await import_file(client, _chunks(data), "moodle_xml")  # no Content-Length
    assert chunked.status == 413
    await assert_nothing_written(client)


async def _chunks(data: bytes) -> Any:
    for start in range(0, len(data), 256 * 1024):
        yield data[start : start + 256 * 1024]


async def test_one_bad_question_fails_the_whole_file(client: Client) -> None:
    bad = MOODLE_XML.replace(
        '<answer fraction="100" format="moodle_auto_format"><text>true</text>',
        '<answer fraction="0" format="moodle_auto_format"><text>true</text>',
    ).replace("<defaultgrade>5.0000000</defaultgrade>", "<defaultgrade>-1</defaultgrade>")
    bad = bad.replace(
        "</quiz>", '<question type="ddwtos"><name><text>Drag</text></name></question></quiz>'
    )
    response = await import_file(client, bad, "moodle_xml")
    assert response.status == 422
    error = (await response.json())["error"]
    assert error["code"] == "import_failed"
    problems = [(p["index"], p["name"]) for p in error["details"]]
    assert problems == [(3, "Free fall"), (6, "Explain momentum"), (7, "Drag")]
    assert "points" in error["details"][1]["message"]
    assert "skip_unsupported" in error["details"][2]["message"]
    await assert_nothing_written(client)


async def test_skip_unsupported(client: Client) -> None:
    data = MOODLE_XML.replace(
        "</quiz>", '<question type="ddwtos"><name><text>Drag</text></name></question></quiz>'
    )
    response = await import_file(client, data, "moodle_xml", "&skip_unsupported=true")
    assert response.status == 200
    result = await response.json()
    assert (result["created"], [s["name"] for s in result["skipped"]]) == (6, ["Drag"])


async def test_empty_file(client: Client) -> None:
    response = await import_file(client, b"  ", "moodle_xml")
    assert response.status == 422


async def test_odd_tags_and_long_names_are_warnings_not_failures(client: Client) -> None:
    long_name = "N" * 250
    data = (
        "<quiz><question type='truefalse'>"
        f"<name><text>{long_name}</text></name>"
        "<questiontext format='html'><text>Q</text></questiontext>"
        "<answer fraction='100'><text>false</text></answer>"
        "<answer fraction='0'><text>true</text></answer>"
        "<tags><tag><text>Q&amp;A</text></tag><tag><text>ok</text></tag></tags>"
        "</question></quiz>"
    )
    response = await import_file(client, data, "moodle_xml")
    assert response.status == 200, await response.text()
    messages = [w["message"] for w in (await response.json())["warnings"]]
    assert any("'Q&A' was dropped" in m for m in messages)
    assert any("shortened" in m for m in messages)
    [question] = (await questions_by_title(client)).values()
    assert question["tags"] == ["ok"]
    assert len(question["content"]["title"]) == 200
