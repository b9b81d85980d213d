"""The ``openai`` generator: any server speaking OpenAI's chat-completions protocol.

One question per request. The answer must be JSON for the type's schema (see
:mod:`~plugins.generation.llm_schema`) and valid bank content; when it is not (malformed JSON,
an answer cut off at ``max_tokens``, a missing field, a single-choice with two right options)
the model is shown its answer and the error and asked again, up to ``retries`` times. Every
answer's token usage goes to the job's meter, rejected ones included, since they were paid for.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from pydantic import ValidationError

from plugins.generation.backend import (
    Drafted,
    GeneratedType,
    GenerationFailed,
    GenerationRequest,
    UsageMeter,
)
from plugins.generation.chat_client import ChatClient, MalformedReply
from plugins.generation.config import OpenAIConfig
from plugins.generation.llm_schema import ANSWER_MODELS, response_format, to_drafted
from plugins.generation.prompts import correction, messages

log = logging.getLogger(__name__)


class OpenAIGenerator:
    name = "openai"

    def __init__(self, config: OpenAIConfig) -> None:
        self.config = config
        key = config.api_key or os.environ.get(config.api_key_env, "")
        self.client = ChatClient(config, key)

    async def generate(
        self,
        request: GenerationRequest,
        question_type: GeneratedType,
        number: int,
        usage: UsageMeter,
    ) -> Drafted:
        mode = self.config.json_mode
        chat = messages(request, question_type, with_schema=mode == "json_object")
        fmt = response_format(question_type, mode)
        tries = 1 + self.config.retries
        problem = ""
        for _ in range(tries):
            try:
                reply = await self.client.complete(chat, fmt)
            except MalformedReply as error:
                problem = str(error)
                continue
            usage.add(reply.prompt_tokens, reply.completion_tokens)
            log.info(
                "generation: %s %s answered with %d prompt + %d completion tokens",
                self.config.model,
                question_type,
                reply.prompt_tokens,
                reply.completion_tokens,
            )
            try:
                if reply.finish_reason == "length":
                    raise ValueError(
                        "the answer was cut off at max_tokens; write a shorter question"
                    )
                data: Any = json.loads(reply.content)
                answer = ANSWER_MODELS[question_type].model_validate(data)
                return to_drafted(question_type, answer)
            except (ValueError, ValidationError) as error:
                problem = _describe(error)
                chat = [*chat, {"role": "assistant", "content": reply.content}, correction(problem)]
        raise GenerationFailed(f"no valid answer after {tries} tries: {problem}")

    def cost(self, usage: UsageMeter) -> float:
        return (
            usage.prompt_tokens / 1000 * self.config.price_prompt_per_1k
            + usage.completion_tokens / 1000 * self.config.price_completion_per_1k
        )

    async def close(self) -> None:
        await self.client.close()


def _describe(error: Exception) -> str:
    """A validation error in a few lines a model (and a person) can act on."""
    if isinstance(error, ValidationError):
        parts = [
            f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}"
            for e in error.errors()[:5]
        ]
        return "; ".join(parts)
    if isinstance(error, json.JSONDecodeError):
        return f"not valid JSON ({error.msg} at character {error.pos})"
    return str(error)
