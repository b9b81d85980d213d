"""The demo question bank ``seed-demo`` creates: a short "Introduction to Python" set.

It has every question type at least twice, so a demo exam can draw pools by tag and difficulty
and exercise every grading path. Seeding is idempotent by title among the ``demo``-tagged
questions: running it again (or after a partial run) creates only what is missing.
"""

from __future__ import annotations

from typing import Any

from core.services import Services
from plugins.questions.categories import create_category, find_category
from plugins.questions.models import QuestionFilter, QuestionIn
from plugins.questions.queries import list_questions
from plugins.questions.service import create_question

CATEGORY = "Introduction to Python"
FIZZBUZZ_15 = [
    "FizzBuzz" if n % 15 == 0 else "Fizz" if n % 3 == 0 else "Buzz" if n % 5 == 0 else str(n)
    for n in range(1, 16)
]


def _choice(*options: tuple[str, bool], feedback: str = "") -> list[dict[str, Any]]:
    return [
        {
            "id": "abcdefgh"[n],
            "text": text,
            "correct": correct,
            "feedback": feedback if correct else "",
        }
        for n, (text, correct) in enumerate(options)
    ]


DEMO: list[dict[str, Any]] = [
    {
        "type": "single_choice",
        "title": "Type of a literal",
        "body": "What is the type of `3 / 2` in Python 3?",
        "payload": {
            "type": "single_choice",
            "options": _choice(("`int`", False), ("`float`", True), ("`str`", False)),
        },
        "explanation": "`/` is true division and always gives a `float`; `//` floors.",
        "tags": ["basics", "types"],
        "difficulty": "easy",
    },
    {
        "type": "single_choice",
        "title": "Immutable sequence",
        "body": "Which of these built-in types is **immutable**?",
        "payload": {
            "type": "single_choice",
            "options": _choice(
                ("`list`", False), ("`tuple`", True), ("`dict`", False), ("`set`", False)
            ),
        },
        "tags": ["collections"],
        "difficulty": "easy",
    },
    {
        "type": "multiple_choice",
        "title": "Falsy values",
        "body": "Select every value that is *falsy*.",
        "payload": {
            "type": "multiple_choice",
            "scoring": "partial",
            "options": _choice(
                ("`0`", True),
                ("`''`", True),
                ("`[0]`", False),
                ("`None`", True),
                ("`'False'`", False),
            ),
        },
        "explanation": "Zero, empty containers and `None` are falsy; a non-empty string is truthy.",
        "tags": ["basics"],
        "difficulty": "medium",
    },
    {
        "type": "multiple_choice",
        "title": "Hashable types",
        "body": "Which of these can be used as dictionary keys?",
        "points": 2,
        "payload": {
            "type": "multiple_choice",
            "scoring": "all_or_nothing",
            "options": _choice(
                ("`tuple` of ints", True),
                ("`list`", False),
                ("`frozenset`", True),
                ("`dict`", False),
            ),
        },
        "tags": ["collections"],
        "difficulty": "hard",
    },
    {
        "type": "true_false",
        "title": "Indentation",
        "body": "Indentation is part of Python's syntax.",
        "payload": {"type": "true_false", "answer": True},
        "tags": ["basics"],
        "difficulty": "easy",
    },
    {
        "type": "true_false",
        "title": "Default arguments",
        "body": "A default argument value is evaluated every time the function is called.",
        "payload": {"type": "true_false", "answer": False},
        "explanation": "Defaults are evaluated once, when `def` runs: beware mutable defaults.",
        "tags": ["functions"],
        "difficulty": "medium",
    },
    {
        "type": "numeric",
        "title": "Integer division",
        "body": "What does `17 // 5` evaluate to?",
        "payload": {"type": "numeric", "answer": 3, "tolerance": 0},
        "tags": ["basics"],
        "difficulty": "easy",
    },
    {
        "type": "numeric",
        "title": "Floating point",
        "body": "Give `round(2 ** 0.5, 2)`.",
        "payload": {"type": "numeric", "answer": 1.41, "tolerance": 0.005},
        "tags": ["basics", "types"],
        "difficulty": "medium",
    },
    {
        "type": "short_answer",
        "title": "Length function",
        "body": "Which built-in function returns the number of items in a list?",
        "payload": {
            "type": "short_answer",
            "accepted": [{"value": "len", "match": "exact"}, {"value": "len()", "match": "exact"}],
        },
        "tags": ["collections"],
        "difficulty": "easy",
    },
    {
        "type": "short_answer",
        "title": "Keyword for generators",
        "body": "Which keyword turns a function into a generator?",
        "payload": {
            "type": "short_answer",
            "accepted": [{"value": "yield( from)?", "match": "regex"}],
        },
        "tags": ["functions"],
        "difficulty": "medium",
    },
    {
        "type": "essay",
        "title": "Lists and tuples",
        "body": "Explain when you would choose a tuple over a list. Give an example.",
        "points": 5,
        "payload": {
            "type": "essay",
            "min_words": 50,
            "max_words": 300,
            "rubric": [
                {
                    "criterion": "Mutability",
                    "points": 2,
                    "description": "States that tuples cannot change.",
                },
                {
                    "criterion": "Example",
                    "points": 3,
                    "description": "A fitting use, e.g. dictionary keys or records.",
                },
            ],
        },
        "tags": ["collections"],
        "difficulty": "medium",
    },
    {
        "type": "essay",
        "title": "The GIL",
        "body": "What is the global interpreter lock and how does it affect threads?",
        "points": 5,
        "payload": {
            "type": "essay",
            "max_words": 400,
            "rubric": [
                {"criterion": "Definition", "points": 2},
                {"criterion": "Consequences", "points": 3},
            ],
        },
        "tags": ["concurrency"],
        "difficulty": "hard",
    },
    {
        "type": "coding",
        "title": "Sum of a list",
        "body": "Read integers separated by spaces from standard input and print their sum.",
        "points": 3,
        "payload": {
            "type": "coding",
            "languages": ["python"],
            "starter_code": {"python": "numbers = input().split()\n"},
            "samples": [{"input": "1 2 3\n", "output": "6\n"}],
            "hidden": [{"input": "10 -4\n", "output": "6\n"}, {"input": "0\n", "output": "0\n"}],
        },
        "tags": ["functions"],
        "difficulty": "easy",
    },
    {
        "type": "coding",
        "title": "FizzBuzz",
        "body": "Print the numbers 1 to *n* (read from input), replacing multiples of 3 by "
        "`Fizz`, of 5 by `Buzz` and of both by `FizzBuzz`.",
        "points": 4,
        "payload": {
            "type": "coding",
            "languages": ["python", "javascript"],
            "samples": [{"input": "5\n", "output": "1\n2\nFizz\n4\nBuzz\n"}],
            "hidden": [
                {
                    "input": "15\n",
                    "output": "\n".join(FIZZBUZZ_15) + "\n",
                }
            ],
        },
        "tags": ["basics"],
        "difficulty": "medium",
    },
]


async def seed_demo_bank(services: Services) -> list[str]:
    async with services.db.session() as db:
        category = await find_category(db, name=CATEGORY, parent_id=None)
        if category is None:
            category = await create_category(db, name=CATEGORY, parent_id=None)
        existing, _ = await list_questions(db, filters=QuestionFilter(tag=["demo"], archived=None))
        titles = {version.title for _, version in existing}
        for item in DEMO:
            if item["title"] in titles:
                continue
            data = QuestionIn.model_validate(
                {**item, "tags": ["demo", "python", *item["tags"]], "category_id": category.id}
            )
            await create_question(db, data=data, author_id=None)
        _, total = await list_questions(db, filters=QuestionFilter(archived=None), limit=0)
        _, demo = await list_questions(
            db, filters=QuestionFilter(tag=["demo"], archived=None), limit=0
        )
    # The same line on every run: seed-demo's output is compared between runs.
    return [f"Question bank: {total} questions ({demo} tagged demo, in {CATEGORY!r})."]
