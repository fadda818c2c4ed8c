"""Scanned PDFs: a PDF with no text layer is read by OCR (tesseract), recorded as pdf-ocr;
two scans of one page that OCR reads a little differently do not alert, a changed sentence
does; without tesseract the fetch fails saying why. The scans are made here: text drawn on
an image with Pillow, with speckles, a slight rotation and blur, saved as a PDF.

Without tesseract the OCR tests skip, except under CI (CI set), where they fail.
"""

from __future__ import annotations

import io
import json
import os
import random
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


@pytest.fixture(autouse=True, scope="module")
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


def read(body: bytes) -> tuple[str, ...]:
    extraction = extract(body, content_type="application/pdf", url="https://example.test/s.pdf")
    assert extraction.method == "pdf-ocr/1"
    return extraction.blocks


def test_a_scanned_pdf_is_read_by_ocr() -> None:
    blocks = read(scanned_pdf(LINES, 1, specks=0))
    assert blocks[0] == "Data Processing Addendum"
    assert "We do not use your Input and Output to train our models, unless you opt in." in blocks


def test_two_scans_of_one_page_read_differently_are_ocr_noise() -> None:
    first, second = read(scanned_pdf(LINES, NOISY)), read(scanned_pdf(LINES, OTHER_NOISE))
    diff = diff_blocks(first, second)
    assert first != second  # the noise made OCR read the page differently
    assert assess(diff).significant  # which, read as any page's text, would alert
    verdict = ocr_noise(diff)
    assert verdict is not None and verdict.tier == "noise" and "OCR noise" in verdict.reason


def test_a_changed_sentence_in_a_scan_is_no_ocr_noise() -> None:
    first, changed = read(scanned_pdf(LINES, NOISY)), read(scanned_pdf(CHANGED, OTHER_NOISE))
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
    http_server: LocalServer, tmp_path: Path
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
