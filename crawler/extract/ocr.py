"""OCR of a scanned PDF (pages that are images, no text layer): Debian's poppler `pdftoppm`
draws each page, Debian's `tesseract` reads it.

Both are external programs run on untrusted input: each page gets a bounded image size and
the whole document a page cap and a wall-clock budget, enforced by killing the program. Any
failure is one ExtractError line, so the crawl records that source's fetch as failed.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from functools import lru_cache
from pathlib import Path

from crawler.extract.extractor import ExtractError

TESSERACT = "tesseract"  # Debian: tesseract-ocr (+ tesseract-ocr-eng, -deu, -fra)
PDFTOPPM = "pdftoppm"  # Debian: poppler-utils
# The directory is European: English, German and French pages (the taxonomy's languages).
# Those of them that are installed are used; English must be.
OCR_LANGUAGES = ("eng", "deu", "fra")
# Pages OCRed. A scanned legal document runs to a few tens of pages. Measured on a shared
# 2-core machine (load 9): tesseract reads a dense A4 page (55 lines, 4,100 characters) in
# 7.4 s with eng+deu+fra (6.8 s with eng alone); drawing it too, 15-23 s. A sparse page: 2 s.
MAX_OCR_PAGES = 30
# Wall-clock seconds for the whole document (drawing and reading every page), so one scan
# cannot hold a crawl's analysis (which hands over one page at a time) for more than 5 min.
MAX_OCR_SECONDS = 300.0
# Pixels of a page's long side: A4 at 300 dpi, tesseract's recommended resolution. Fixed
# whatever the page's declared size, so a page declared 200 inches wide cannot ask for a
# gigapixel image.
OCR_LONG_SIDE_PX = 3508
# The programs' whole environment (they read untrusted files: nothing of ours is passed on):
# one OpenMP thread for tesseract (its threads fight for the cores the crawl shares), the C
# locale. The programs are found on PATH (shutil.which) and run by their full path.
_ENV = {"OMP_THREAD_LIMIT": "1", "LC_ALL": "C"}
NO_TEXT_LAYER = "PDF has no text layer (install tesseract-ocr to OCR it)"


def ocr_available() -> bool:
    """Whether both programs and tesseract's English data are installed."""
    return bool(shutil.which(PDFTOPPM)) and "eng" in _languages()


@lru_cache(maxsize=1)
def _languages() -> tuple[str, ...]:
    """The OCR_LANGUAGES tesseract has data for (none when it is not installed)."""
    tesseract = shutil.which(TESSERACT)
    if not tesseract:
        return ()
    try:
        listed = subprocess.run(
            [tesseract, "--list-langs"], capture_output=True, text=True, timeout=30, env=_ENV
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(lang for lang in OCR_LANGUAGES if lang in listed)


def ocr_page_texts(body: bytes, pages: int, url: str) -> list[str]:
    """The OCRed text of each page of a PDF of `pages` pages (ExtractError, one line naming
    the URL, when OCR is not installed, the scan is beyond a limit or a program fails)."""
    if not ocr_available():
        raise ExtractError(f"{NO_TEXT_LAYER}: {url}")
    if pages > MAX_OCR_PAGES:
        raise ExtractError(f"scanned PDF has {pages} pages, more than the {MAX_OCR_PAGES} OCRed")
    deadline = time.monotonic() + MAX_OCR_SECONDS
    with tempfile.TemporaryDirectory(prefix="citewatch-ocr-") as tmp:
        pdf = Path(tmp) / "scan.pdf"
        pdf.write_bytes(body)
        texts = []
        for page in range(1, pages + 1):
            image = Path(tmp) / "page"
            _run(
                [_path(PDFTOPPM), "-f", str(page), "-l", str(page), "-singlefile", "-gray", "-png",
                 "-scale-to", str(OCR_LONG_SIDE_PX), str(pdf), str(image)],
                deadline, url,
            )  # fmt: skip
            langs = "+".join(_languages())
            read = [_path(TESSERACT), f"{image}.png", "stdout", "-l", langs]
            texts.append(_run(read, deadline, url))
            Path(f"{image}.png").unlink(missing_ok=True)
    return texts


def _path(program: str) -> str:
    """A program's full path (ocr_available checked that it is installed)."""
    return shutil.which(program) or program


def _run(argv: list[str], deadline: float, url: str) -> str:
    """One program's standard output; ExtractError when it fails or overruns the budget."""
    left = deadline - time.monotonic()
    name = Path(argv[0]).name
    if left <= 0:
        raise ExtractError(f"OCR needs more than {MAX_OCR_SECONDS:g} s: {url}")
    try:
        done = subprocess.run(argv, capture_output=True, timeout=left, env=_ENV, check=False)
    except subprocess.TimeoutExpired:
        raise ExtractError(f"OCR needs more than {MAX_OCR_SECONDS:g} s: {url}") from None
    except OSError as exc:
        raise ExtractError(f"cannot run {name}: {exc.strerror or exc}: {url}") from None
    if done.returncode != 0:
        said = " ".join(done.stderr.decode("utf-8", "replace").split())[:160] or "no detail"
        raise ExtractError(f"{name} failed on this PDF (code {done.returncode}: {said}): {url}")
    return done.stdout.decode("utf-8", "replace")
