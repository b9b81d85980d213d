"""Writing the bank as GIFT.

Every text is escaped (``~ = # { } :`` and backslash) and kept on one line (``\\n``), because a
blank line ends a question in GIFT and Markdown bodies have blank lines. What GIFT cannot say
goes on a ``// [invigilator] {...}`` comment line that Moodle ignores and
:mod:`~plugins.questions.gift` reads back, so a GIFT export round-trips through the bank.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from plugins.questions.gift import META_PREFIX, SPECIAL
from plugins.questions.interchange import ExportItem, ExportResult, escape_star
from plugins.questions.moodle_xml_export import category_text


class _Skip(Exception):
    """This question cannot be written in GIFT; the message says why."""


def export(items: Sequence[ExportItem]) -> ExportResult:
    chunks: list[str] = []
    result = ExportResult(text="", exported=0)
    category: list[str] = []
    for item in items:
        try:
            block, meta = _answer_block(item)
        except _Skip as reason:
            result.skipped.append((item.id, str(reason)))
            continue
        if item.category_path and item.category_path != category:
            category = item.category_path
            chunks.append(f"$CATEGORY: {category_text(category)}\n")
        lines = []
        if item.tags:
            lines.append("// " + " ".join(f"[tag:{tag}]" for tag in item.tags))
        meta = {"points": float(item.points), "difficulty": item.difficulty, **meta}
        lines.append(f"// {META_PREFIX} {json.dumps(meta, sort_keys=True, ensure_ascii=False)}")
        general = f"####{escape(item.explanation)}" if item.explanation else ""
        lines.append(f"::{escape(item.title)}::[markdown]{escape(item.body)}{{{block}{general}}}")
        chunks.append("\n".join(lines) + "\n")
        result.exported += 1
    result.text = "\n".join(chunks)
    return result


def escape(text: str) -> str:
    out = "".join("\\" + char if char in SPECIAL else char for char in text)
    return out.replace("\r\n", "\n").replace("\n", "\\n")


def _answer_block(item: ExportItem) -> tuple[str, dict[str, Any]]:
    """The text between the braces, and the metadata GIFT cannot carry."""
    payload = item.payload
    kind = item.type
    if kind in ("single_choice", "multiple_choice"):
        meta: dict[str, Any] = {}
        if not payload.get("shuffle_options", True):
            meta["shuffle_options"] = False
        options = payload["options"]
        if kind == "single_choice":
            marks = ["=" if o["correct"] else "~" for o in options]
        else:
            k = sum(bool(o["correct"]) for o in options)
            share = f"{100 / k:.5f}".rstrip("0").rstrip(".")
            marks = [f"~%{'' if o['correct'] else '-'}{share}%" for o in options]
            meta["scoring"] = payload.get("scoring", "partial")
        answers = [
            f"{mark}{escape(o['text'])}"
            + (f"#{escape(o['feedback'])}" if o.get("feedback") else "")
            for mark, o in zip(marks, options, strict=True)
        ]
        return " ".join(answers), meta
    if kind == "true_false":
        return ("T" if payload["answer"] else "F"), {}
    if kind == "numeric":
        meta = {"unit": payload["unit"]} if payload.get("unit") else {}
        return f"#{float(payload['answer'])!r}:{float(payload.get('tolerance', 0))!r}", meta
    if kind == "short_answer":
        accepted = payload["accepted"]
        if any(a["match"] == "regex" for a in accepted):
            raise _Skip("GIFT short answers cannot carry regular-expression answers")
        meta = {"match": "exact"} if all(a["match"] == "exact" for a in accepted) else {}
        return " ".join(f"={escape(escape_star(a['value']))}" for a in accepted), meta
    if kind == "essay":
        meta = {k: payload[k] for k in ("min_words", "max_words") if payload.get(k) is not None}
        if payload.get("rubric"):
            meta["rubric"] = payload["rubric"]
        return "", meta
    raise _Skip(f"GIFT has no {kind} question type")
