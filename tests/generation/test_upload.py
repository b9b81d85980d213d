"""Study material uploaded as a file: PDF (text layer), Markdown, plain text; and every way an
upload can be wrong, each refused with its own code and nothing stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import FormData
from sqlalchemy import func, select

from core.services import Services
from plugins.generation.tables import GenerationJob
from storage.tables.user import User
from tests.exams.support import Client
from tests.generation.conftest import PASSAGE, as_user, drafts_of, finished_job
from tests.generation.pdf_kit import text_pdf

UPLOAD = "/api/v1/generation/jobs/upload"
OPTIONS = {"counts": {"short_answer": 2, "true_false": 1}}


@pytest.fixture
def generation_config() -> str:
    return "max_upload_mb = 0.01\n"  # 10 KiB: enough for the passage, easy to exceed


def form(data: bytes, name: str, options: Any = OPTIONS) -> FormData:
    body = FormData()
    if options is not None:
        body.add_field("options", options if isinstance(options, str) else json.dumps(options))
    body.add_field("file", data, filename=name, content_type="application/octet-stream")
    return body


async def upload(client: Client, user: User, body: FormData) -> tuple[int, dict[str, Any]]:
    response = await client.post(UPLOAD, data=body, headers=as_user(user))
    return response.status, await response.json()


async def test_a_pdf_is_read_through_its_text_layer(client: Client, examiner: User) -> None:
    lines = [
        "Chlorophyll is the green pigment that absorbs red and blue light in leaves.",
        "Stomata are small pores on the leaf surface that let carbon dioxide enter.",
        "The Calvin cycle fixes carbon dioxide in the stroma of the chloroplast.",
        "Glucose made in the chloroplast is stored as starch in the leaf cells.",
    ]
    status, job = await upload(client, examiner, form(text_pdf(lines), "notes.pdf"))
    assert status == 202, job
    assert (job["source_kind"], job["source_name"], job["total"]) == ("file", "notes.pdf", 3)
    await finished_job(client, examiner, job["id"])
    drafts = await drafts_of(client, examiner, job["id"])
    answers = [d["payload"]["accepted"][0]["value"] for d in drafts if d["type"] == "short_answer"]
    assert answers == ["Chlorophyll", "Stomata"]


async def test_markdown_and_text_files_are_accepted(client: Client, examiner: User) -> None:
    for name in ("notes.md", "notes.txt"):
        status, job = await upload(client, examiner, form(PASSAGE.encode(), name))
        assert status == 202, job
        done = await finished_job(client, examiner, job["id"])
        assert (done["done"], done["failed"]) == (3, 0)


@pytest.mark.parametrize(
    ("data", "name", "options", "status", "code"),
    [
        (b"x" * 11_000, "big.txt", OPTIONS, 413, "payload_too_large"),
        (b"", "empty.md", OPTIONS, 422, "material_invalid"),
        (b"%PDF-1.4\nnot really a pdf", "broken.pdf", OPTIONS, 422, "material_invalid"),
        (text_pdf([]), "scan.pdf", OPTIONS, 422, "material_invalid"),
        (b"MZ\x90\x00binary", "tool.exe", OPTIONS, 422, "material_invalid"),
        (b"\xff\xfe\x00latin", "notes.txt", OPTIONS, 422, "material_invalid"),
        (PASSAGE.encode(), "notes.md", None, 422, "validation_error"),
        (PASSAGE.encode(), "notes.md", "{not json", 422, "validation_error"),
        (PASSAGE.encode(), "notes.md", {"counts": {"poem": 1}}, 422, "validation_error"),
    ],
)
async def test_bad_uploads_are_refused_and_store_nothing(
    client: Client,
    services: Services,
    examiner: User,
    data: bytes,
    name: str,
    options: Any,
    status: int,
    code: str,
) -> None:
    got, body = await upload(client, examiner, form(data, name, options))
    assert (got, body["error"]["code"]) == (status, code), body
    async with services.db.session() as db:
        count = (await db.execute(select(func.count()).select_from(GenerationJob))).scalar_one()
    assert count == 0


async def test_an_upload_must_be_multipart_with_a_file(client: Client, examiner: User) -> None:
    response = await client.post(UPLOAD, json=OPTIONS, headers=as_user(examiner))
    assert (response.status, (await response.json())["error"]["code"]) == (
        415,
        "unsupported_media_type",
    )
    body = FormData(default_to_multipart=True)
    body.add_field("options", json.dumps(OPTIONS))
    body.add_field("other", "x")
    status, answer = await upload(client, examiner, body)
    assert (status, answer["error"]["code"]) == (422, "material_invalid")
    assert "no 'file' part" in answer["error"]["message"]
