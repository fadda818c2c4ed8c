"""Scanned PDFs: a PDF with no text layer is read by OCR (tesseract), recorded as pdf-ocr;
two scans of one page that OCR reads a little differently do not alert, a changed sentence
does; without tesseract the fetch fails saying why. The scans are made here: text drawn on
an image with Pillow, with speckles, a slight rotation and blur, saved as a PDF.

Without tesseract the OCR tests skip, except under CI (CI set), where they fail.
"""

from __future__ import annotations

import functools
import io
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from crawler.cli import cli
from crawler.extract import extract
from crawler.extract.ocr import ocr_available
from diffs.ocr import ocr_noise
from diffs.significance import assess
from diffs.text import diff_blocks
from tests.conftest import LocalServer, Reply

ROOT = Path(__file__).resolve().parents[1]
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Debian: fonts-dejavu-core
LINES = (
    "Data Processing Addendum",
    "",
    "We process customer data only in the European Union and we keep it for thirty days.",
    "We do not use your Input and Output to train our models, unless you opt in.",
    "Sub-processors are listed in Annex 3 and notified thirty days in advance.",
    "The controller may object to a new sub-processor within fourteen days.",
)
KEEP = LINES[2]
CHANGED = tuple(line.replace("thirty days.", "ninety days.") if line == KEEP else line
                for line in LINES)  # fmt: skip
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
# Two scans (seeds) that this noise makes tesseract 5 read differently (checked below).
NOISY, OTHER_NOISE = 100, 101


@pytest.fixture(scope="module")
def tesseract() -> None:
    """Skip (fail under CI) without tesseract, its English data and pdftoppm."""
    if not ocr_available():
        if os.environ.get("CI"):
            pytest.fail("tesseract-ocr is not installed, and CI must run the OCR tests")
        pytest.skip("tesseract is not installed (apt-get install tesseract-ocr poppler-utils)")


def scanned_pdf(lines: tuple[str, ...], seed: int, specks: int = 800) -> bytes:
    """A one-page A4 scan at 150 dpi: the lines drawn as an image, specks of dust, a slight
    rotation and blur (each seed its own), saved as a PDF with no text layer."""
    rnd = random.Random(seed)
    page = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(FONT), 22) if FONT.exists() else ImageFont.load_default(22)
    for row, line in enumerate(lines):
        draw.text((80, 120 + 40 * row), line, fill=0, font=font)
    for _ in range(specks):
        x, y, r = rnd.randrange(1240), rnd.randrange(1754), rnd.choice((0, 1, 1, 2))
        draw.ellipse((x, y, x + r, y + r), fill=rnd.randrange(0, 120))
    page = page.rotate(rnd.uniform(-0.6, 0.6), fillcolor=255, resample=Image.Resampling.BICUBIC)
    page = page.filter(ImageFilter.GaussianBlur(0.7))
    out = io.BytesIO()
    page.save(out, "PDF", resolution=150)
    return out.getvalue()


@functools.cache
def reading(lines: tuple[str, ...], seed: int) -> tuple[str, ...]:
    """The OCR text of a scan (each scan is read once: a page takes seconds)."""
    return read(scanned_pdf(lines, seed))


def read(body: bytes) -> tuple[str, ...]:
    extraction = extract(body, content_type="application/pdf", url="https://example.test/s.pdf")
    assert extraction.method == "pdf-ocr/1"
    return extraction.blocks


def test_a_scanned_pdf_is_read_by_ocr(tesseract: None) -> None:
    blocks = read(scanned_pdf(LINES, 1, specks=0))
    assert blocks[0] == "Data Processing Addendum"
    assert "We do not use your Input and Output to train our models, unless you opt in." in blocks


def test_two_scans_of_one_page_read_differently_are_ocr_noise(tesseract: None) -> None:
    first, second = reading(LINES, NOISY), reading(LINES, OTHER_NOISE)
    diff = diff_blocks(first, second)
    assert first != second  # the noise made OCR read the page differently
    assert assess(diff).significant  # which, read as any page's text, would alert
    verdict = ocr_noise(diff)
    assert verdict is not None and verdict.tier == "noise" and "OCR noise" in verdict.reason


def test_a_changed_sentence_in_a_scan_is_no_ocr_noise(tesseract: None) -> None:
    first, changed = reading(LINES, NOISY), reading(CHANGED, OTHER_NOISE)
    diff = diff_blocks(first, changed)
    assert assess(diff).significant and ocr_noise(diff) is None


def _catalog(folder: Path, server: LocalServer) -> Path:
    (folder / "tools").mkdir(parents=True)
    (folder / "tools" / "acme.yaml").write_text(
        f"id: acme\nname: Acme\nsources:\n  - id: dpa\n    url: {server.url('/dpa.pdf')}\n"
        "    kind: dpa\nratings:\n  data-retention:\n    rating: yes\n    sources: [dpa]\n"
        f"    evidence:\n      - source: dpa\n        quote: {KEEP}\n",
        "utf-8",
    )
    return folder


def _crawl(db: str, folder: Path) -> dict[str, object]:
    done = CliRunner().invoke(
        cli, ["--db", db, "crawl", str(folder), "--json", *FAST], obj={}, catch_exceptions=False
    )
    assert done.exit_code == 0, done.output
    (source,) = json.loads(done.stdout)["sources"]
    out: dict[str, object] = source
    return out


def _pdf(body: bytes) -> Reply:
    return Reply(200, body, {"Content-Type": "application/pdf"})


def test_crawls_record_ocr_noise_quietly_and_alert_on_a_changed_sentence(
    tesseract: None, http_server: LocalServer, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'cw.db'}"
    folder = _catalog(tmp_path / "catalog", http_server)
    scans = (scanned_pdf(LINES, NOISY), scanned_pdf(LINES, OTHER_NOISE))
    http_server.route("/dpa.pdf", _pdf(scans[0]), _pdf(scans[1]), _pdf(scanned_pdf(CHANGED, 7)))
    assert _crawl(db, folder)["outcome"] == "new"
    again = _crawl(db, folder)
    assert again["outcome"] == "changed" and again["tier"] == "noise"
    assert again["significant"] is False and again["flags"] == []
    changed = _crawl(db, folder)
    assert changed["outcome"] == "changed" and changed["significant"] is True
    assert changed["flags"] == ["data-retention"]
    listed = CliRunner().invoke(cli, ["--db", db, "changes", "--all", "--json"], obj={})
    noise, real = json.loads(listed.stdout)
    assert noise["tier"] == "noise" and "OCR noise" in noise["reason"]  # kept, in the lower tier
    assert real["tier"] == "substantive"


def test_without_tesseract_a_scan_is_a_failed_fetch_saying_so(
    http_server: LocalServer, tmp_path: Path
) -> None:
    scan = scanned_pdf(LINES, 1, specks=0)
    (tmp_path / "scan.pdf").write_bytes(scan)
    nowhere = {**os.environ, "PATH": str(tmp_path / "no-programs")}  # tesseract not installed
    done = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "extract", str(tmp_path / "scan.pdf")],
        capture_output=True, text=True, env=nowhere, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith(
        "Error: PDF has no text layer (install tesseract-ocr to OCR it): file://"
    )
    http_server.route("/dpa.pdf", _pdf(scan))
    folder = _catalog(tmp_path / "catalog", http_server)
    crawled = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "--db", f"sqlite:///{tmp_path / 'cw.db'}", "crawl",
         str(folder), "--json", *FAST],
        capture_output=True, text=True, env=nowhere, cwd=ROOT, timeout=300, check=False,
    )  # fmt: skip
    assert crawled.returncode == 4, crawled.stderr[-2000:]
    (source,) = json.loads(crawled.stdout)["sources"]
    assert source["outcome"] == "failed" and source["failure_class"] == "suspicious"
    assert "PDF has no text layer (install tesseract-ocr to OCR it)" in source["error"]


# What tesseract made of two scans of one page (seen in the scans above), and real edits.
READ = "We process customer data only in the European Union and we keep it for thirty days."
GARBLED = "| We process customer data only.in the European Union and we keep it for thity days."


@pytest.mark.parametrize(
    ("old", "new", "noise"),
    [
        (READ, GARBLED, True),  # a speck read as "|", a lost space, a lost letter
        ("you opt in. Les données sont hébergées", "you optin. Les donnßes sont hébergées", True),
        (READ, READ.replace("thirty", "ninety"), False),  # a real word for another
        (READ, READ.replace("European Union", "United Kingdom"), False),
        (READ, READ.replace("only ", ""), False),  # a word that turns the statement around
        (READ, READ.replace("thirty days", "30 days"), False),  # a number
        (READ, READ.replace("Union", "Union (EU)"), False),  # no stray reading is 2 letters
        (READ, READ.replace("Union", "Union or the US"), False),
        # "customer" is still a word of the page: one real word became another.
        (READ, READ.replace("customer", "customers"), False),
        (READ, READ.replace("process", "procéss").replace("Union", "Unlon"), True),
    ],
)
def test_ocr_noise_is_only_ocr_shaped_edits(old: str, new: str, noise: bool) -> None:
    diff = diff_blocks(
        ("# DPA", old, "Annex 3 lists customer contacts."),
        ("# DPA", new, "Annex 3 lists customer contacts."),
    )
    assert (ocr_noise(diff) is not None) is noise
