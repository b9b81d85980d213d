"""The OpenAI-compatible generator against a real HTTP server speaking chat completions:
schema requests, malformed and partial answers, 429/5xx retries, token usage and cost."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from plugins.generation.backend import (
    GENERATED_TYPES,
    GeneratedType,
    GenerationFailed,
    GenerationRequest,
    UsageMeter,
)
from plugins.generation.config import OpenAIConfig
from plugins.generation.llm_schema import schema_for
from plugins.generation.openai_backend import OpenAIGenerator
from tests.fakes.chat_completions_server import ChatServer, Scripted, chat_server

REQUEST = GenerationRequest(
    source_kind="material", text="Chlorophyll is the green pigment of plants.", difficulty="easy"
)
GOOD_CHOICE: dict[str, Any] = {
    "title": "The green pigment",
    "body": "Which pigment makes leaves green?",
    "explanation": "Chlorophyll absorbs red and blue light and reflects green.",
    "tags": ["Biology", "pigments!"],
    "difficulty": "easy",
    "options": [
        {"text": "Chlorophyll", "correct": True, "feedback": "Right."},
        {"text": "Carotene", "correct": False, "feedback": "Orange, not green."},
        {"text": "Melanin", "correct": False, "feedback": "An animal pigment."},
        {"text": "Haemoglobin", "correct": False, "feedback": "Red, in blood."},
    ],
}


@pytest.fixture
async def server() -> AsyncIterator[ChatServer]:
    async with chat_server(api_key="sk-test-key") as running:
        yield running


def generator(server: ChatServer, **overrides: Any) -> OpenAIGenerator:
    config = OpenAIConfig.model_validate(
        {
            "base_url": server.base_url,
            "model": "test-model",
            "api_key": "sk-test-key",
            "backoff_seconds": 0.01,
            "retries": 2,
            "price_prompt_per_1k": 0.5,
            "price_completion_per_1k": 1.5,
            **overrides,
        }
    )
    return OpenAIGenerator(config)


async def test_a_valid_answer_becomes_a_bank_valid_draft(server: ChatServer) -> None:
    server.answer(GOOD_CHOICE)
    gen, usage = generator(server), UsageMeter()
    drafted = await gen.generate(REQUEST, "single_choice", 0, usage)
    await gen.close()
    payload = drafted.question.payload.model_dump()
    assert [o["id"] for o in payload["options"]] == ["a", "b", "c", "d"]
    assert [o["correct"] for o in payload["options"]] == [True, False, False, False]
    assert drafted.question.tags == ["generated", "biology", "pigments"]
    sent = server.requests[0]
    assert sent["model"] == "test-model"
    assert sent["max_tokens"] == 2000
    fmt = sent["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "single_choice"
    assert fmt["json_schema"]["strict"] is True
    schema = fmt["json_schema"]["schema"]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(GOOD_CHOICE)
    assert "<source>\nChlorophyll is the green pigment" in sent["messages"][1]["content"]
    assert server.headers[0]["Authorization"] == "Bearer sk-test-key"
    prompt_words = sum(len(m["content"].split()) for m in sent["messages"])
    assert usage.prompt_tokens == prompt_words
    assert usage.completion_tokens == len(json.dumps(GOOD_CHOICE).split())
    assert gen.cost(usage) == pytest.approx(
        prompt_words / 1000 * 0.5 + usage.completion_tokens / 1000 * 1.5
    )


async def test_malformed_then_partial_json_is_asked_again_with_the_error(
    server: ChatServer,
) -> None:
    server.answer('{"title": "The green pigment", "body": ')  # malformed
    text = json.dumps(GOOD_CHOICE)
    server.answer(text[: len(text) // 2], finish_reason="length")  # cut off at max_tokens
    server.answer(GOOD_CHOICE)
    usage = UsageMeter()
    drafted = await generator(server).generate(REQUEST, "single_choice", 0, usage)
    assert drafted.question.title == "The green pigment"
    assert len(server.requests) == 3
    second = server.requests[1]["messages"]
    assert second[-2] == {"role": "assistant", "content": '{"title": "The green pigment", "body": '}
    assert "not valid JSON" in second[-1]["content"]
    assert "cut off at max_tokens" in server.requests[2]["messages"][-1]["content"]
    assert usage.calls == 3  # the rejected answers were paid for and are counted


async def test_an_answer_the_bank_refuses_is_corrected(server: ChatServer) -> None:
    two_right = {**GOOD_CHOICE, "options": [{**o, "correct": True} for o in GOOD_CHOICE["options"]]}
    missing = {k: v for k, v in GOOD_CHOICE.items() if k != "explanation"}
    server.answer(two_right)
    server.answer(missing)
    server.answer(GOOD_CHOICE)
    await generator(server).generate(REQUEST, "single_choice", 0, UsageMeter())
    assert "exactly one correct option" in server.requests[1]["messages"][-1]["content"]
    assert "explanation: Field required" in server.requests[2]["messages"][-1]["content"]


async def test_gives_up_after_the_configured_retries(server: ChatServer) -> None:
    for _ in range(3):
        server.answer("not json at all")
    with pytest.raises(GenerationFailed, match="no valid answer after 3 tries: not valid JSON"):
        await generator(server).generate(REQUEST, "single_choice", 0, UsageMeter())
    assert len(server.requests) == 3


async def test_429_and_500_are_retried_honouring_retry_after(server: ChatServer) -> None:
    server.fail(429, {"Retry-After": "0"})
    server.fail(500)
    server.answer(GOOD_CHOICE)
    usage = UsageMeter()
    drafted = await generator(server).generate(REQUEST, "single_choice", 0, usage)
    assert drafted.question.title == "The green pigment"
    assert len(server.requests) == 3
    assert usage.calls == 1


async def test_server_errors_past_the_retries_fail_the_question(server: ChatServer) -> None:
    for _ in range(3):
        server.fail(503, {"Retry-After": "0"})
    with pytest.raises(GenerationFailed, match="failed 3 times; last: HTTP 503"):
        await generator(server).generate(REQUEST, "true_false", 0, UsageMeter())


async def test_a_refused_request_is_not_retried(server: ChatServer) -> None:
    server.answer(GOOD_CHOICE)
    with pytest.raises(GenerationFailed, match=r"refused the request \(HTTP 401"):
        await generator(server, api_key="wrong").generate(REQUEST, "single_choice", 0, UsageMeter())
    assert server.requests == []
    assert len(server.script) == 1


async def test_a_reply_that_is_not_a_chat_completion_is_retried(server: ChatServer) -> None:
    server.script.append(Scripted(raw=b'{"object": "error"}'))
    server.answer({k: v for k, v in GOOD_CHOICE.items() if k != "options"} | {"answer": False})
    usage = UsageMeter()
    drafted = await generator(server).generate(REQUEST, "true_false", 0, usage)
    assert drafted.question.payload.model_dump()["answer"] is False
    assert len(server.requests) == 2
    assert usage.calls == 1


async def test_json_object_mode_puts_the_schema_in_the_prompt(
    server: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEN_TEST_KEY", "sk-test-key")
    essay = {k: v for k, v in GOOD_CHOICE.items() if k != "options"} | {
        "rubric": [
            {"criterion": "Pigments", "points": 3, "description": "Names chlorophyll."},
            {"criterion": "Light", "points": 2, "description": "Red and blue absorbed."},
        ],
        "min_words": 100,
        "max_words": 0,
    }
    server.answer(essay)
    gen = generator(server, api_key="", api_key_env="GEN_TEST_KEY", json_mode="json_object")
    drafted = await gen.generate(REQUEST, "essay", 0, UsageMeter())
    sent = server.requests[0]
    assert sent["response_format"] == {"type": "json_object"}
    assert "JSON schema of the answer" in sent["messages"][1]["content"]
    payload = drafted.question.payload.model_dump()
    assert (payload["min_words"], payload["max_words"]) == (100, None)
    assert drafted.question.points == 5


async def test_a_coding_answer_carries_its_reference_solution(server: ChatServer) -> None:
    coding = {k: v for k, v in GOOD_CHOICE.items() if k != "options"} | {
        "language": "Python",
        "starter_code": "",
        "samples": [{"input": "1 2\n", "output": "3\n"}],
        "hidden": [{"input": "5 7\n", "output": "12\n"}],
        "reference_solution": "a, b = map(int, input().split())\nprint(a + b)\n",
    }
    server.answer({**coding, "hidden": []})
    server.answer(coding)
    drafted = await generator(server).generate(REQUEST, "coding", 0, UsageMeter())
    assert (
        "hidden: a coding problem needs at least one hidden test"
        in (server.requests[1]["messages"][-1]["content"])
    )
    assert drafted.reference is not None
    assert drafted.reference.language == "python"
    assert drafted.question.payload.model_dump()["languages"] == ["python"]
    assert "Write the reference solution in python" in server.requests[0]["messages"][1]["content"]


@pytest.mark.parametrize("question_type", GENERATED_TYPES)
def test_every_answer_schema_meets_strict_mode(question_type: GeneratedType) -> None:
    """OpenAI's strict mode: every object lists all its properties as required and allows no
    others, nested objects included."""
    objects: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object":
                objects.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema_for(question_type))
    assert objects
    for node in objects:
        assert node["additionalProperties"] is False
        assert set(node["required"]) == set(node["properties"])
