"""Study material out of an upload: PDF (text layer via pypdf), Markdown or plain text.

Scanned PDFs have no text layer; they are refused with a message saying so rather than
producing an empty job. The file type is decided from its content (``%PDF-`` magic), then its
name, never from the browser's content type alone.
"""

from __future__ import annotations

import io
import logging

from core.errors import InvalidInput

log = logging.getLogger(__name__)
TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".text", "")


class MaterialRejected(InvalidInput):
    code = "material_invalid"


def extract_text(data: bytes, filename: str) -> str:
    """The file's text; raises :class:`MaterialRejected` with a reason a person can act on."""
    if not data.strip():
        raise MaterialRejected("the file is empty")
    if data.startswith(b"%PDF-"):
        return _pdf_text(data)
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in TEXT_SUFFIXES:
        raise MaterialRejected(f"{filename!r} is not a PDF, Markdown or plain-text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MaterialRejected("the file is not UTF-8 text; save it as UTF-8 or PDF") from None


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader  # noqa: PLC0415  (only uploads of PDFs need it)
    from pypdf.errors import PdfReadError  # noqa: PLC0415

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise MaterialRejected("the PDF is encrypted; upload an unprotected copy")
        text = "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, ValueError, KeyError) as error:
        raise MaterialRejected(f"the PDF cannot be read ({error})") from None
    if not text.strip():
        raise MaterialRejected(
            "the PDF has no text layer (a scan?); upload a PDF with selectable text"
        )
    return text
