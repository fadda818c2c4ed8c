"""Hostile bodies at the extraction stage, table by table: each ends in ExtractError (one line,
which the crawl records as that source's failed fetch) or in a bounded, correct extraction.

The hostile PDFs are written byte by byte by the small generators below, never downloaded.
"""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import LocalServer, Reply
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.cli import cli
from crawler.extract import pdftext
from crawler.extract.document import ExtractError, extract

URL = "https://example.test/hostile"

# --- PDF generators -------------------------------------------------------------------------

TEXT = b"BT /F1 12 Tf 72 720 Td (We process data in the EU.) Tj ET"
FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
PAGE = (
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
    b" /Resources << /Font << /F1 5 0 R >>%s >> >>"
)


def pdf_file(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """A PDF file of these objects (numbered from 1, the first is the catalog), with its xref."""
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        trailer,
        xref,
    )
    return bytes(out)


def _stream(data: bytes, entries: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), entries) + data + b"\nendstream"


def _one_page(content: bytes, resources: bytes = b"", *more: bytes) -> bytes:
    """A one-page PDF whose page shows `content` (an object: a stream) in Helvetica."""
    return pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            PAGE % resources,
            content,
            FONT,
            *more,
        ]
    )


def good_pdf() -> bytes:
    """A readable one-page PDF."""
    return _one_page(_stream(zlib.compress(TEXT), b"/Filter /FlateDecode "))


def flate_bomb() -> bytes:
    """A 100 KB content stream that inflates to 100 MB of spaces."""
    packer = zlib.compressobj(9)
    data = packer.compress(TEXT + b" ")
    chunk = b" " * 1_000_000
    for _ in range(100):
        data += packer.compress(chunk)
    return _one_page(_stream(data + packer.flush(), b"/Filter /FlateDecode "))


def huge_array() -> bytes:
    """A TJ array of 300,000 strings (pypdf's array limit is 100,000 elements)."""
    array = b"[" + b" ".join([b"(a)"] * 300_000) + b"] TJ"
    return _one_page(_stream(b"BT /F1 12 Tf 72 720 Td " + array + b" ET"))


def many_tokens() -> bytes:
    """A content stream of 600,000 tokens (200,000 `0 0 m` path operators)."""
    return _one_page(_stream(TEXT + b" " + b"0 0 m " * 200_000))


def bad_length() -> bytes:
    """A stream declaring a 100 GB /Length."""
    return _one_page(b"<< /Length 99999999999 >>\nstream\n" + TEXT + b"\nendstream")


def deep_nesting() -> bytes:
    """Arrays nested 50,000 deep in a content stream."""
    return _one_page(_stream(TEXT + b" " + b"[" * 50_000 + b"]" * 50_000 + b" Tj"))


def jbig2_stream() -> bytes:
    """A content stream encoded with JBIG2 (an image codec pypdf hands to an external binary)."""
    return _one_page(_stream(b"\x97JB2\r\n\x1a\n" + b"\x00" * 100, b"/Filter /JBIG2Decode "))


def _encrypted(user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(good_pdf())))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted() -> bytes:
    """A PDF that needs a user password to open."""
    return _encrypted("secret")


def _pages(count: int, declared: int) -> bytes:
    """`count` pages sharing one content stream, in a two-level tree declaring `declared`."""
    fanout = 500
    nodes = (count + fanout - 1) // fanout
    first_node, first_page = 5, 5 + nodes
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % (first_node + i) for i in range(nodes)), declared),
        _stream(TEXT),
        FONT,
    ]
    for node in range(nodes):
        kids = range(first_page + node * fanout, first_page + min(count, (node + 1) * fanout))
        objects.append(
            b"<< /Type /Pages /Parent 2 0 R /Kids [%s] /Count %d >>"
            % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
        )
    page = (
        b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents 3 0 R"
        b" /Resources << /Font << /F1 4 0 R >> >> >>"
    )
    objects.extend(page % (first_node + p // fanout) for p in range(count))
    return pdf_file(objects)


def hundred_thousand_pages() -> bytes:
    """100,000 pages (16 MB)."""
    return _pages(100_000, 100_000)


def lying_page_count() -> bytes:
    """5,000 pages under a page tree that declares one."""
    return _pages(5_000, 1)


# (id, body, the ExtractError's message)
HOSTILE_PDFS: list[tuple[str, Callable[[], bytes], str]] = [
    ("flate-bomb", flate_bomb, r"PDF too large to read .*decompress"),
    ("too-many-array-elements", huge_array, r"PDF too large to read .*array"),
    ("too-many-tokens", many_tokens, r"PDF too large to read .*tokens"),
    ("bad-stream-length", bad_length, r"PDF too large to read .*length"),
    ("deep-nesting", deep_nesting, r"unreadable PDF \(RecursionError"),
    ("jbig2-stream", jbig2_stream, r"unreadable PDF \(DependencyError: jbig2dec"),
    ("encrypted", encrypted, r"encrypted PDF: it needs a password"),
    ("100000-pages", hundred_thousand_pages, r"PDF has 100000 pages, more than the 1000 read"),
    ("lying-page-count", lying_page_count, r"PDF too large to read .*page tree"),
]


@pytest.mark.parametrize(
    ("build", "message"), [r[1:] for r in HOSTILE_PDFS], ids=[r[0] for r in HOSTILE_PDFS]
)
def test_hostile_pdf_is_an_extract_error(build: Callable[[], bytes], message: str) -> None:
    with pytest.raises(ExtractError, match=message) as caught:
        extract(build(), content_type="application/pdf", url=URL)
    error = str(caught.value)
    assert "\n" not in error and len(error) <= 300
    assert error.endswith(URL)


def test_a_pdf_with_an_empty_user_password_still_reads() -> None:
    result = extract(_encrypted(""), content_type="application/pdf", url=URL)
    assert result.blocks == ("We process data in the EU.",)


# --- work that no pypdf limit counts: the PDF's CPU budget ---------------------------------


def form_bomb() -> bytes:
    """A page that draws a form XObject of 20,000 path operators 5,000 times: 100 M operators
    from 150 KB (more than ten minutes of pypdf without a budget)."""
    content = TEXT + b" " + b"q /X0 Do Q " * 5_000
    form = _stream(
        b"BT /F1 12 Tf (x) Tj ET " + b"0 0 m " * 20_000,
        b"/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /Font << /F1 5 0 R >> >> ",
    )
    return _one_page(_stream(content), b" /XObject << /X0 6 0 R >>", form)


def font_bomb() -> bytes:
    """200 pages sharing a font whose ToUnicode map has 50,000 entries, parsed again for each
    page: 150 KB that take pypdf about 90 s."""
    lines = [b"begincmap 1 begincodespacerange <0000> <FFFF> endcodespacerange"]
    for start in range(0, 50_000, 100):
        lines.append(b"100 beginbfchar")
        lines.extend(b"<%04X> <%04X>" % (i, 65 + i % 26) for i in range(start, start + 100))
        lines.append(b"endbfchar")
    lines.append(b"endcmap")
    cmap = _stream(zlib.compress(b"\n".join(lines)), b"/Filter /FlateDecode ")
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 5 0 R >>"
    kids = b" ".join(b"%d 0 R" % (6 + i) for i in range(200))
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R"
        b" /Resources << /Font << /F1 4 0 R >> >> >>"
    )
    return pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [" + kids + b"] /Count 200 >>",
            _stream(TEXT),
            font,
            cmap,
            *[page] * 200,
        ]
    )


@pytest.mark.parametrize("build", [form_bomb, font_bomb], ids=["form-bomb", "font-bomb"])
def test_pdf_work_is_bounded_by_its_cpu_budget(
    build: Callable[[], bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdftext, "MAX_PDF_CPU_SECONDS", 0.5)  # the default is far longer
    with pytest.raises(ExtractError, match=r"PDF needs more than 0.5 s of CPU to read"):
        extract(build(), content_type="application/pdf", url=URL)


def test_pdf_text_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdftext, "MAX_PDF_TEXT_CHARS", 100)
    body = _pages(10, 10)  # 10 pages of 26 characters
    with pytest.raises(ExtractError, match=r"PDF text is longer than 100 characters"):
        extract(body, content_type="application/pdf", url=URL)
    assert len(extract(_pages(3, 3), content_type="application/pdf", url=URL).blocks) == 3


# --- markup and text ------------------------------------------------------------------------


def _page(head: str, body: str) -> bytes:
    return f"<html><head>{head}</head><body><main>{body}</main></body></html>".encode()


# (id, body, content type, the blocks it now reads as)
READABLE = [
    (
        "nul-in-html",
        _page("", "<p>We keep\x00 chat logs\x00 for 30 days.</p>"),
        "text/html",
        ("We keep chat logs for 30 days.",),
    ),
    (
        "nuls-after-4kb",
        _page("", "<p>" + "Words here. " * 400 + "</p><p>Then a\x00 NUL.</p>"),
        "text/html",
        (("Words here. " * 400).strip(), "Then a NUL."),
    ),
    (
        "nul-in-text",
        b"We keep\x00 chat logs for 30 days.\n\nThen we delete them.",
        "text/plain",
        ("We keep chat logs for 30 days.", "Then we delete them."),
    ),
    *(
        (
            f"meta-charset-{codec}",
            _page(f"<meta charset={codec}>", "<p>Caf\u00e9 data stays in the EU.</p>"),
            "text/html",
            ("Café data stays in the EU.",),
        )
        for codec in ("hex", "base64", "rot13", "uu", "zlib", "bz2", "quopri", "idna")
    ),
    (
        "header-charset-not-a-text-encoding",
        _page("", "<p>Caf\u00e9 data stays in the EU.</p>"),
        "text/html; charset=hex_codec",
        ("Café data stays in the EU.",),
    ),
    (
        "meta-charset-unicode-escape",  # decoded, it made a lone surrogate: lxml cut the page
        _page("<meta charset=unicode_escape>", r"<p>Data \ud800 stays.</p><p>Kept.</p>"),
        "text/html",
        (r"Data \ud800 stays.", "Kept."),
    ),
    (
        "meta-charset-utf-7",  # no browser decodes UTF-7: markup hidden in it stays text
        _page("<meta charset=utf-7>", "<p>Data +ADw-b+AD4-stays+ADw-/b+AD4-.</p>"),
        "text/html",
        ("Data +ADw-b+AD4-stays+ADw-/b+AD4-.",),
    ),
    (
        "meta-charset-unknown",
        _page("<meta charset=x-no-such-charset>", "<p>Caf\u00e9.</p>"),
        "text/html",
        ("Café.",),
    ),
]


@pytest.mark.parametrize(
    ("body", "content_type", "blocks"), [r[1:] for r in READABLE], ids=[r[0] for r in READABLE]
)
def test_hostile_markup_still_reads(body: bytes, content_type: str, blocks: tuple[str]) -> None:
    assert extract(body, content_type=content_type, url=URL).blocks == blocks


# (id, body, content type): bodies that are not text at all
BINARY = [
    ("control-bytes", b"\x00\x01\x02\x03" * 100, "text/html"),
    ("png-as-html", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "text/html"),
    ("utf-16-without-bom", "<p>We keep data.</p>".encode("utf-16-le") * 20, "text/html"),
]


@pytest.mark.parametrize(
    ("body", "content_type"), [r[1:] for r in BINARY], ids=[r[0] for r in BINARY]
)
def test_binary_bodies_are_still_rejected(body: bytes, content_type: str) -> None:
    with pytest.raises(ExtractError, match="not text"):
        extract(body, content_type=content_type, url=URL)


# --- the crawl: a hostile body is that source's failed fetch, the others are recorded ------

HTML = {"Content-Type": "text/html; charset=utf-8"}
CATALOG = """id: acme
name: Acme AI
sources:
  - id: dpa
    url: {dpa}
  - id: docs
    url: {docs}
ratings:
  dpa:
    rating: yes
    sources: [dpa, docs]
"""
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


@pytest.mark.parametrize("build", [jbig2_stream, deep_nesting], ids=["jbig2", "deep-nesting"])
def test_a_hostile_pdf_fails_alone_in_a_crawl(
    build: Callable[[], bytes], http_server: LocalServer, tmp_path: Path
) -> None:
    http_server.route("/dpa.pdf", Reply(200, build(), {"Content-Type": "application/pdf"}))
    docs = "<html><body><main><p>" + "Read the API reference. " * 20 + "</p></main></body></html>"
    http_server.route("/docs", Reply(200, docs.encode(), HTML))
    catalog = tmp_path / "cat"
    (catalog / "tools").mkdir(parents=True)
    (catalog / "tools" / "acme.yaml").write_text(
        CATALOG.format(dpa=http_server.url("/dpa.pdf"), docs=http_server.url("/docs"))
    )
    db = f"sqlite:///{tmp_path / 'c.db'}"
    result = CliRunner().invoke(
        cli, ["--db", db, "crawl", str(catalog), "--json", *FAST], obj={}, catch_exceptions=False
    )
    assert result.exit_code == 3, result.output  # recorded, and one of its sources failed
    by_source = {s["source"]: s for s in json.loads(result.output)["sources"]}
    assert by_source["docs"]["outcome"] == "new"
    assert by_source["dpa"]["outcome"] == "failed"
    assert by_source["dpa"]["failure_class"] == "suspicious"
    assert "PDF" in by_source["dpa"]["error"] and "\n" not in by_source["dpa"]["error"]


# --- property: whatever the bytes, the extractor raises nothing but ExtractError ------------

_FRAGMENTS = [
    "<html>", "<head>", "<meta charset=", "hex", "utf-16", "utf-7", "x-unknown", ">",
    "<body>", "<main>", "<p>", "</p>", "<nav>", "<a href='/x'>", "</a>", "<li>", "<ul>",
    "<table><tr><td>", "<script>", "</script>", "<!--", "-->", "<![CDATA[", "<?xml ?>",
    "<button aria-controls='x'>", "<div id='x' hidden>", "<h1>", "# ", "» ", "Accept all",
    "We keep data.", "\x00", "\ufeff", "\u202e", "\ud7ff", " ", "\n", "&amp;", "&#0;",
    "&#xD800;", "%PDF-1.4", "Caf\u00e9",
]  # fmt: skip
_BODIES = st.one_of(
    st.binary(max_size=2_000),
    st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map(lambda p: "".join(p).encode()),
    st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map(
        lambda p: "".join(p).encode("utf-16", "surrogatepass")
    ),
    st.binary(max_size=600).map(lambda tail: good_pdf()[:200] + tail),
    st.integers(0, 700).map(lambda cut: good_pdf()[:cut]),
)
_TYPES = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "text/html", "text/html; charset=hex", "text/html; charset=utf-16",
            "text/plain; charset=utf-7", "text/plain", "application/pdf", "image/png",
            "application/octet-stream", "application/xhtml+xml; charset=bz2", "text/xml",
        ]
    ),
    st.text(max_size=40),
)  # fmt: skip
_SELECTORS = st.lists(
    st.one_of(st.sampled_from(["main", "p", "#x", ".a b", "p[", "::x", "a:nth-child(2n)"]),
              st.text(max_size=12)),
    max_size=3,
)  # fmt: skip


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(body=_BODIES, content_type=_TYPES, select=_SELECTORS, exclude=_SELECTORS)
def test_extract_raises_only_extract_errors(
    body: bytes, content_type: str | None, select: list[str], exclude: list[str]
) -> None:
    try:
        result = extract(body, content_type=content_type, url=URL, select=select, exclude=exclude)
    except ExtractError as exc:
        assert "\n" not in str(exc)
        return
    assert result.blocks and all(block and "\n" not in block for block in result.blocks)
    assert all("\x00" not in block for block in result.blocks)


def test_a_text_node_over_10_mb_is_read() -> None:
    # libxml2 dropped it silently: a 15 MB one-paragraph page read as its title alone.
    paragraph = "Customer data is kept for thirty days. " * 400_000
    body = f"<html><body><h1>Policy</h1><p>{paragraph}END</p></body></html>".encode()
    blocks = extract(body, content_type="text/html", url=URL).blocks
    assert blocks == ("# Policy", paragraph + "END")
