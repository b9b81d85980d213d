"""Import and export routes: Moodle XML and GIFT files in and out of the bank.

The import body is the file itself (any content type), read with a limit from ``[questions]
max_import_bytes``; the route's own cap is the hard ceiling of that setting, so the body-size
middleware lets a configured size through but nothing beyond the ceiling.
"""

from __future__ import annotations

from aiohttp import web

from plugins.questions.api import STAFF, author_of
from plugins.questions.config import IMPORT_HARD_CAP, QuestionsConfig
from plugins.questions.interchange import FileRejected
from plugins.questions.models import ExportQuery, ImportQuery, ImportResult
from plugins.questions.transfer import export_questions, import_file
from webapp.binding import read_body_limited
from webapp.routing import ApiRequest, ErrorSpec, Router

router = Router(prefix="/api/v1/questions", tags=["questions"])

MEDIA_TYPES = {"moodle_xml": "application/xml", "gift": "text/plain"}
FILE_NAMES = {"moodle_xml": "questions.xml", "gift": "questions.gift.txt"}


@router.post(
    "/import",
    query=ImportQuery,
    response=ImportResult,
    roles=STAFF,
    max_body_bytes=IMPORT_HARD_CAP,
    errors=[
        ErrorSpec(413, "payload_too_large", "The file is over [questions] max_import_bytes."),
        ErrorSpec(422, "import_invalid", "The file cannot be read (not XML, DTD, encoding)."),
        ErrorSpec(422, "import_failed", "Questions are invalid; details: index, name, message."),
    ],
)
async def import_questions(req: ApiRequest[None, ImportQuery]) -> ImportResult:
    """Import a Moodle XML or GIFT file sent as the request body; all or nothing.

    Every problem is reported at once (``details``: ``[{index, name, line, message}]``) and
    nothing is written unless every question is valid. ``dry_run=true`` checks only.
    Unsupported question types fail the import unless ``skip_unsupported=true``.
    """
    config = req.services.section("questions", QuestionsConfig)
    data = await read_body_limited(req.request, config.max_import_bytes)
    if not data.strip():
        raise FileRejected("the file is empty")
    async with req.services.db.session() as db:
        return await import_file(
            db, data=data, query=req.query, config=config, author_id=author_of(req)
        )


@router.get(
    "/export",
    query=ExportQuery,
    roles=STAFF,
    errors=[ErrorSpec(422, "invalid_input", "More questions match than one export may hold.")],
)
async def export_questions_file(req: ApiRequest[None, ExportQuery]) -> web.Response:
    """Download the questions matching the filters as Moodle XML or GIFT.

    Questions the format cannot carry (coding; regular-expression short answers) are left out:
    ``X-Questions-Exported`` and ``X-Questions-Skipped`` count them and
    ``X-Questions-Skipped-Ids`` lists the first hundred skipped ids.
    """
    config = req.services.section("questions", QuestionsConfig)
    async with req.services.db.session() as db:
        result = await export_questions(db, query=req.query, config=config)
    file_format = req.query.format
    return web.Response(
        text=result.text,
        content_type=MEDIA_TYPES[file_format],
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{FILE_NAMES[file_format]}"',
            "X-Questions-Exported": str(result.exported),
            "X-Questions-Skipped": str(len(result.skipped)),
            "X-Questions-Skipped-Ids": ",".join(str(i) for i, _ in result.skipped[:100]),
        },
    )
