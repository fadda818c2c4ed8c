"""The text of each page of a PDF, read with pypdf within explicit limits.

A PDF is a program for a parser: a 150 KB file can ask pypdf for minutes of work or
gigabytes of memory. Every way it can fail or overrun ends here in one ExtractError with a
one-line message, so the crawl records that source's fetch as failed and goes on.
"""

from __future__ import annotations

import io
import logging
import re
import time
from contextlib import AbstractContextManager
from typing import Any

from crawler.extract.extractor import ExtractError

# Pages read. Legal documents run to tens of pages, rarely hundreds; pypdf reads a dense page
# in about 20 ms (measured: 100 pages of 2,600 characters in 2.1 s), so 1,000 pages is ~20 s.
MAX_PDF_PAGES = 1_000
# CPU seconds one PDF may take, across every page. It covers 1,000 dense pages and bounds the
# work no count sees: a form drawn 5,000 times per page (a 150 KB file that kept pypdf busy
# for more than ten minutes), a font map parsed again for each page (150 KB: ~90 s).
MAX_PDF_CPU_SECONDS = 30.0
# Characters of text: as much as a 20 MB page, the size the diff's bounds are measured on.
MAX_PDF_TEXT_CHARS = 20_000_000
# Decoded bytes of one stream (pypdf's default is 75 MB: a 200 KB FlateDecode bomb then
# peaked at 225 MB). A dense page's content stream is tens of KB.
MAX_PDF_STREAM_BYTES = 20_000_000
# Tokens of one content stream (pypdf's default is 2,000,000: 8.6 s and 349 MB for one
# stream). A dense text page has a few thousand; a detailed vector drawing tens of thousands.
MAX_PDF_STREAM_TOKENS = 500_000

_SPACE = re.compile(r"\s+")
_MESSAGE_CHARS = 160  # of pypdf's own message, quoted in ours


class _OverBudget(BaseException):
    """The CPU budget ran out. A BaseException so that pypdf, which swallows any Exception
    raised while it reads a form XObject, cannot catch it and carry on."""


def page_texts(body: bytes, url: str) -> list[str]:
    """The text of each page, in order; ExtractError (one line, naming the URL) when the PDF
    is unreadable, encrypted or beyond a limit."""
    from pypdf.errors import FileNotDecryptedError, LimitReachedError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed-but-readable files warn a lot
    try:
        with _limits():
            return _read(body, time.thread_time() + MAX_PDF_CPU_SECONDS)
    except ExtractError as exc:
        raise ExtractError(f"{exc}: {url}") from None
    except _OverBudget:
        seconds = f"{MAX_PDF_CPU_SECONDS:g} s"
        raise ExtractError(f"PDF needs more than {seconds} of CPU to read: {url}") from None
    except FileNotDecryptedError:
        raise ExtractError(f"encrypted PDF: it needs a password: {url}") from None
    except LimitReachedError as exc:
        raise ExtractError(f"PDF too large to read safely ({_said(exc)}): {url}") from None
    except Exception as exc:  # pypdf raises many types on bad input: all mean "unreadable"
        raise ExtractError(f"unreadable PDF ({type(exc).__name__}: {_said(exc)}): {url}") from None


def _read(body: bytes, deadline: float) -> list[str]:
    from pypdf import PdfReader

    def spend(*_: Any) -> None:
        if time.thread_time() > deadline:
            raise _OverBudget

    reader = PdfReader(io.BytesIO(body))
    _check_pages(_declared_pages(reader))
    _check_pages(len(reader.pages))  # the tree itself: a declared count can lie
    texts: list[str] = []
    chars = 0
    for page in reader.pages:
        spend()
        texts.append(page.extract_text(visitor_operand_before=spend) or "")
        chars += len(texts[-1])
        if chars > MAX_PDF_TEXT_CHARS:
            raise ExtractError(f"PDF text is longer than {MAX_PDF_TEXT_CHARS} characters")
    spend()  # the last page may have spent it inside a form, where pypdf hides errors
    return texts


def _declared_pages(reader: Any) -> int:
    """The page count the page tree declares (0 when it declares none we can read: the tree
    itself then decides)."""
    try:
        count = reader.trailer["/Root"]["/Pages"].get("/Count")
    except Exception:  # a malformed tree: reading the pages says what is wrong with it
        return 0
    return count if isinstance(count, int) else 0


def _check_pages(count: int) -> None:
    if count > MAX_PDF_PAGES:
        raise ExtractError(f"PDF has {count} pages, more than the {MAX_PDF_PAGES} read")


def _limits() -> AbstractContextManager[Any]:
    """pypdf's own limits, tightened for the duration of one read."""
    from pypdf import apply_configuration

    return apply_configuration(
        maximum_declared_stream_length=MAX_PDF_STREAM_BYTES,
        array_based_stream_maximum_output_length=MAX_PDF_STREAM_BYTES,
        zlib_maximum_output_length=MAX_PDF_STREAM_BYTES,
        lzw_maximum_output_length=MAX_PDF_STREAM_BYTES,
        run_length_maximum_output_length=MAX_PDF_STREAM_BYTES,
        brotli_maximum_output_length=MAX_PDF_STREAM_BYTES,
        jbig2_maximum_output_length=MAX_PDF_STREAM_BYTES,
        stream_parsing_work_maximum_count=MAX_PDF_STREAM_TOKENS,
        # Nodes of the page tree visited: the pages and, with any fan-out, fewer inner nodes.
        page_tree_maximum_entries=2 * MAX_PDF_PAGES,
        # Text needs no image: never hand page bytes to an external JBIG2 decoder.
        jbig2dec_binary=None,
    )


def _said(exc: BaseException) -> str:
    """An exception's message on one short line."""
    said = _SPACE.sub(" ", str(exc)).strip() or "no detail"
    return said if len(said) <= _MESSAGE_CHARS else said[: _MESSAGE_CHARS - 1] + "…"
