"""Whole jobs through the configured backend: the OpenAI-compatible one against a local
chat-completions server (tokens and cost logged on the job), a generator a plugin registers
by hook, and the judge checking coding problems' reference solutions."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from storage.tables.user import User
from tests.exams.support import Client
from tests.fakes.chat_completions_server import ChatServer, chat_server
from tests.generation import judge_plugin
from tests.generation.conftest import GENERATORS, JUDGE, PASSAGE, as_user, drafts_of, finished_job
from tests.generation.test_openai_backend import GOOD_CHOICE

JOBS = "/api/v1/generation/jobs"


@pytest.fixture
async def server() -> AsyncIterator[ChatServer]:
    async with chat_server() as running:
        yield running


class TestOpenAIBackend:
    @pytest.fixture
    def generation_config(self, server: ChatServer) -> str:
        return (
            'backend = "openai"\n[generation.openai]\n'
            f'base_url = "{server.base_url}"\nmodel = "local-model"\napi_key_env = "UNSET_KEY"\n'
            "retries = 1\nbackoff_seconds = 0.01\n"
            "price_prompt_per_1k = 2.0\nprice_completion_per_1k = 4.0\n"
        )

    async def test_tokens_and_cost_are_logged_per_job(
        self,
        client: Client,
        examiner: User,
        server: ChatServer,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        server.answer("{broken")
        server.answer(GOOD_CHOICE)
        server.fail(500)
        server.fail(429, {"Retry-After": "0"})
        caplog.set_level(logging.INFO, logger="plugins.generation")
        response = await client.post(
            JOBS,
            json={"source_kind": "topic", "text": "Plant pigments", "counts": {"single_choice": 2}},
            headers=as_user(examiner),
        )
        job = await finished_job(client, examiner, (await response.json())["id"])
        assert (job["backend"], job["done"], job["failed"]) == ("openai", 2, 1)
        assert job["errors"][0]["number"] == 2
        assert "failed 2 times; last: HTTP 429" in job["errors"][0]["message"]
        assert "Authorization" not in server.headers[0]  # no key configured: none sent
        sent = list(server.requests)
        prompt = sum(sum(len(m["content"].split()) for m in r["messages"]) for r in sent[:2])
        completion = len(["{broken"]) + len(json.dumps(GOOD_CHOICE).split())
        assert (job["prompt_tokens"], job["completion_tokens"]) == (prompt, completion)
        assert job["cost"] == pytest.approx(prompt / 1000 * 2 + completion / 1000 * 4, abs=1e-6)
        assert f"{prompt} prompt + {completion} completion tokens" in caplog.text
        assert "The green pigment" in sent[2]["messages"][1]["content"]  # asks for a new one
        drafts = await drafts_of(client, examiner, job["id"])
        assert [d["title"] for d in drafts] == ["The green pigment"]


class TestPluginGeneratorAndJudge:
    @pytest.fixture
    def generation_config(self) -> str:
        return 'backend = "scripted"\n'

    @pytest.fixture
    def extra_plugins(self) -> tuple[str, ...]:
        return (JUDGE, GENERATORS)

    async def test_reference_solutions_are_run_before_a_problem_is_offered(
        self, client: Client, examiner: User
    ) -> None:
        judge_plugin.calls.clear()
        response = await client.post(
            JOBS,
            json={
                "source_kind": "syllabus",
                "text": "Week 1: input and output",
                "counts": {"coding": 4, "essay": 1, "true_false": 1, "multiple_choice": 1},
                "language": "python",
            },
            headers=as_user(examiner),
        )
        assert response.status == 202, await response.text()
        job = await finished_job(client, examiner, (await response.json())["id"])
        assert (job["backend"], job["done"], job["failed"]) == ("scripted", 7, 4)
        messages = {(e["type"], e["number"]): e["message"] for e in job["errors"]}
        assert messages == {
            ("essay", 1): "the scripted generator writes no essay",
            ("multiple_choice", 1): "unexpected error: the plugin crashed",
            ("coding", 2): "the reference solution passes only 25% of its own tests; "
            "the problem was not offered",
            ("coding", 4): "the judge could not run the reference solution "
            "(sandbox unreachable); try again later",
        }
        assert (job["prompt_tokens"], job["completion_tokens"], job["cost"]) == (700, 350, 0.07)
        drafts = await drafts_of(client, examiner, job["id"])
        by_title = {d["title"]: d for d in drafts}
        assert by_title["Sum of numbers 1"]["reference_status"] == "passed"
        assert by_title["Sum of numbers 3"]["reference_status"] == "not_verified"
        assert by_title["Statement 1"]["reference_status"] == "not_applicable"
        assert [c["response"]["language"] for c in judge_plugin.calls] == ["python"] * 4
        assert judge_plugin.calls[0]["payload"]["hidden"] == [
            {"input": "5 7\n", "output": "12\n", "weight": 1.0}
        ]
        approve = await client.post(
            f"/api/v1/generation/drafts/{by_title['Sum of numbers 1']['id']}/approve",
            json={},
            headers=as_user(examiner),
        )
        question = await client.get(
            f"/api/v1/questions/{(await approve.json())['question_id']}",
            headers=as_user(examiner),
        )
        payload: dict[str, Any] = (await question.json())["content"]["payload"]
        assert payload["hidden"][0]["output"] == "12\n"
        assert "reference" not in payload


class TestUnknownBackend:
    @pytest.fixture
    def generation_config(self) -> str:
        return 'backend = "nonexistent"\n'

    async def test_starting_a_job_says_the_backend_is_missing(
        self, client: Client, examiner: User
    ) -> None:
        response = await client.post(
            JOBS,
            json={"source_kind": "material", "text": PASSAGE, "counts": {"essay": 1}},
            headers=as_user(examiner),
        )
        assert response.status == 422
        assert "'nonexistent' is not installed" in (await response.json())["error"]["message"]
