"""Catalog loading and validation: the public catalog format, its errors and the taxonomy."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from crawler.catalog.model import (
    CatalogError,
    CatalogErrors,
    load_catalog,
    normalize_rating,
    parse_duration,
)
from crawler.catalog.taxonomy import default_taxonomy
from diffs.topics import match_terms

REPO = Path(__file__).resolve().parents[1]
SEED_CRITERIA = (
    "on-prem",
    "private-cloud",
    "eu-saas",
    "hybrid",
    "dpa",
    "no-training",
    "open-source",
    "server-location",
    "data-retention",
)

VALID = """
id: t1
name: Tool One
vendor: Vendor
summary: A tool.
verdict: conditional
sources:
  - id: s1
    url: https://example.com/privacy
    kind: privacy-policy
    every: 1d
    select: main
    exclude: [".cookie-banner", "nav"]
    render: false
  - id: s2
    url: http://example.com/dpa
ratings:
  no-training:
    rating: partial
    summary: Partly.
    sources: [s1, s2]
    evidence:
      - source: s1
        quote: we do not train on your data
"""


def write(root: Path, files: dict[str, str]) -> Path:
    """A catalog folder with these files (paths relative to the catalog)."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    (root / "tools").mkdir(exist_ok=True)
    return root


def errors_of(root: Path) -> tuple[CatalogError, ...]:
    """The errors load_catalog reports for a catalog folder."""
    with pytest.raises(CatalogErrors) as info:
        load_catalog(root)
    return info.value.errors


# (case, tool file text, entry, field, words of the message)
ERROR_CASES = [
    ("missing tool id", VALID.replace("id: t1\n", ""), "tool", "id", "required"),
    ("missing name", VALID.replace("name: Tool One\n", ""), "tool t1", "name", "required"),
    ("id not a slug", VALID.replace("id: t1", "id: Tool One"), "tool", "id", "slug"),
    ("name not text", VALID.replace("name: Tool One", "name: [a]"), "tool t1", "name", "text"),
    ("unknown tool key", VALID + "vendorr: x\n", "tool t1", "vendorr", "'vendor'"),
    (
        "sources not a list",
        VALID.replace("sources:\n  - id: s1", "sources: s1\nx:\n  - id: s1"),
        "tool t1",
        "sources",
        "list",
    ),
    (
        "missing source id",
        VALID.replace("  - id: s2\n", "  - kind: dpa\n"),
        "source 2",
        "id",
        "required",
    ),
    (
        "missing url",
        VALID.replace("    url: http://example.com/dpa\n", ""),
        "source s2",
        "url",
        "required",
    ),
    (
        "url not http",
        VALID.replace("http://example.com/dpa", "ftp://example.com/dpa"),
        "source s2",
        "url",
        "http",
    ),
    ("url relative", VALID.replace("http://example.com/dpa", "/dpa"), "source s2", "url", "http"),
    (
        "bad kind",
        VALID.replace("kind: privacy-policy", "kind: policy"),
        "source s1",
        "kind",
        "privacy-policy",
    ),
    ("bad duration", VALID.replace("every: 1d", "every: 1 day"), "source s1", "every", "30m"),
    ("duration a number", VALID.replace("every: 1d", "every: 3600"), "source s1", "every", "30m"),
    ("zero duration", VALID.replace("every: 1d", "every: 0h"), "source s1", "every", "positive"),
    ("bad css", VALID.replace("select: main", "select: 'div['"), "source s1", "select", "CSS"),
    ("bad exclude", VALID.replace('"nav"]', '"a >> b"]'), "source s1", "exclude", "CSS"),
    (
        "select not strings",
        VALID.replace("select: main", "select: [1]"),
        "source s1",
        "select",
        "string",
    ),
    (
        "render not bool",
        VALID.replace("render: false", "render: yes"),
        "source s1",
        "render",
        "true or false",
    ),
    (
        "unknown source key",
        VALID.replace("render: false", "rendr: false"),
        "source s1",
        "rendr",
        "'render'",
    ),
    ("duplicate source id", VALID.replace("id: s2", "id: s1"), "source s1", "id", "duplicate"),
    (
        "bad rating",
        VALID.replace("rating: partial", "rating: maybe"),
        "rating no-training",
        "rating",
        "maybe",
    ),
    (
        "missing rating",
        VALID.replace("    rating: partial\n", ""),
        "rating no-training",
        "rating",
        "required",
    ),
    (
        "missing rating sources",
        VALID.replace("    sources: [s1, s2]\n", ""),
        "rating no-training",
        "sources",
        "required",
    ),
    (
        "empty rating sources",
        VALID.replace("sources: [s1, s2]", "sources: []"),
        "rating no-training",
        "sources",
        "at least one",
    ),
    (
        "rating cites unknown source",
        VALID.replace("sources: [s1, s2]", "sources: [s1, s9]"),
        "rating no-training",
        "sources",
        "'s9'",
    ),
    (
        "unknown criterion",
        VALID.replace("  no-training:", "  no-trainig:"),
        "rating no-trainig",
        "criterion",
        "'no-training'",
    ),
    (
        "unknown rating key",
        VALID.replace("summary: Partly.", "sumary: Partly."),
        "rating no-training",
        "sumary",
        "'summary'",
    ),
    (
        "evidence not a list",
        VALID.replace("    evidence:\n", "    evidence: x\n    e:\n"),
        "rating no-training",
        "evidence",
        "list",
    ),
    (
        "evidence source not cited",
        VALID.replace("      - source: s1", "      - source: s3"),
        "rating no-training, evidence 1",
        "source",
        "'s3'",
    ),
    (
        "empty quote",
        VALID.replace("quote: we do not train on your data", "quote: ''"),
        "rating no-training, evidence 1",
        "quote",
        "empty",
    ),
    (
        "missing quote",
        VALID.replace("        quote: we do not train on your data\n", ""),
        "rating no-training, evidence 1",
        "quote",
        "required",
    ),
    (
        "unknown evidence key",
        VALID.replace("quote: we do", "qoute: we do"),
        "rating no-training, evidence 1",
        "qoute",
        "'quote'",
    ),
    ("empty file", "", "tool", "file", "empty"),
    ("file is a list", "- id: t1\n", "tool", "file", "mapping"),
    ("syntax error", VALID.replace("name: Tool One", "name: [Tool"), "line", "yaml", ""),
    (
        "duplicate key",
        VALID.replace("name: Tool One", "name: Tool One\nname: Again"),
        "line 4",
        "yaml",
        "duplicate key 'name'",
    ),
    (
        "unquoted ? rating",
        VALID.replace("rating: partial", "rating: ?"),
        "line",
        "yaml",
        "'?' in quotes",
    ),
]


@pytest.mark.parametrize(
    ("text", "entry", "field", "words"),
    [case[1:] for case in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
def test_error_names_file_entry_and_field(
    tmp_path: Path, text: str, entry: str, field: str, words: str
) -> None:
    root = write(tmp_path, {"tools/t1.yaml": text})
    errors = errors_of(root)
    assert any(
        e.file.endswith("t1.yaml") and e.entry.startswith(entry) and e.field == field
        for e in errors
    ), [str(e) for e in errors]
    hit = next(e for e in errors if e.entry.startswith(entry) and e.field == field)
    assert words in hit.message
    assert f"t1.yaml: {hit.entry}: {field}: " in str(hit)


def test_every_error_of_every_file_is_reported_at_once(tmp_path: Path) -> None:
    bad = VALID.replace("name: Tool One\n", "").replace("kind: privacy-policy", "kind: x")
    root = write(tmp_path, {"tools/a.yaml": bad, "tools/b.yaml": "id: [\n"})
    errors = errors_of(root)
    assert {(Path(e.file).name, e.field) for e in errors} >= {
        ("a.yaml", "name"),
        ("a.yaml", "kind"),
        ("b.yaml", "yaml"),
    }
    with pytest.raises(CatalogErrors) as info:
        load_catalog(root)
    assert len(str(info.value).splitlines()) == len(errors)  # one line per error for `check`
    assert isinstance(info.value, CatalogError)  # callers catching CatalogError still work


def test_tool_ids_are_unique_across_files(tmp_path: Path) -> None:
    root = write(tmp_path, {"tools/a.yaml": VALID, "tools/b.yml": VALID})
    (error,) = errors_of(root)
    assert (Path(error.file).name, error.entry, error.field) == ("b.yml", "tool t1", "id")
    assert "a.yaml" in error.message


def test_missing_tools_folder_and_not_a_folder(tmp_path: Path) -> None:
    (error,) = errors_of(tmp_path)
    assert error.field == "tools"
    file = tmp_path / "catalog.yaml"
    file.write_text("x: 1\n", encoding="utf-8")
    (error,) = errors_of(file)
    assert "not a folder" in error.message


def test_minimal_form(tmp_path: Path) -> None:
    minimal = """
    id: t
    name: T
    sources:
      - id: s
        url: https://example.com/
    ratings:
      dpa:
        rating: unknown
        sources: [s]
    """
    root = write(tmp_path, {"tools/t.yaml": minimal, "tools/bare.yaml": "id: bare\nname: Bare\n"})
    catalog = load_catalog(root)
    tool = catalog.tool("t")
    source = tool.source("s")
    assert (source.kind, source.every, source.select, source.render) == ("other", None, (), "auto")
    (rating,) = tool.ratings
    assert (rating.criterion, rating.rating, rating.sources, rating.evidence) == (
        "dpa",
        "unknown",
        ("s",),
        (),
    )
    assert catalog.tool("bare").sources == ()
    assert tool.file.endswith("t.yaml")


def test_full_form(tmp_path: Path) -> None:
    tool = load_catalog(write(tmp_path, {"tools/t1.yaml": VALID})).tool("t1")
    assert (tool.vendor, tool.verdict) == ("Vendor", "conditional")
    s1 = tool.source("s1")
    assert s1.select == ("main",) and s1.exclude == (".cookie-banner", "nav")
    assert s1.every == timedelta(days=1)
    (evidence,) = tool.ratings[0].evidence
    assert (evidence.source, evidence.quote) == ("s1", "we do not train on your data")


@pytest.mark.parametrize(
    ("written", "rating"),
    [
        ("yes", "yes"),
        ("'no'", "no"),
        ("Partial", "partial"),
        ("✅", "yes"),
        ("⚠️", "partial"),
        ("⚠", "partial"),
        ("❌", "no"),
        ("'?'", "unknown"),
    ],
)
def test_rating_words_and_symbols(tmp_path: Path, written: str, rating: str) -> None:
    text = VALID.replace("rating: partial", f"rating: {written}")
    tool = load_catalog(write(tmp_path, {"tools/t1.yaml": text})).tool("t1")
    assert tool.ratings[0].rating == rating


def test_yes_and_no_stay_text_in_yaml(tmp_path: Path) -> None:
    """YAML 1.1 would read `rating: no` as false; the catalog reads it as the word."""
    text = VALID.replace("rating: partial", "rating: no")
    assert load_catalog(write(tmp_path, {"tools/t1.yaml": text})).tools[0].ratings[0].rating == "no"
    assert normalize_rating(" ✅ ") == "yes"
    with pytest.raises(ValueError):
        normalize_rating("maybe")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("30m", 1800),
        ("12h", 43200),
        ("1d", 86400),
        ("2w", 1209600),
        ("1d12h", 129600),
        (" 6h ", 21600),
    ],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "1", "d", "1y", "-1d", "1.5h", "0m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


TAXONOMY = """
criteria:
  - id: no-training
    label: No training (ours)
    topics:
      en: [learn*]
  - id: sso
    label: Single sign-on
    description: SAML or OIDC login.
    topics:
      en: [SSO, single sign-on, SAML]
      de: [Single Sign-on]
"""


def test_catalog_taxonomy_replaces_same_ids_and_adds_new_ones(tmp_path: Path) -> None:
    sso = "  sso:\n    rating: yes\n    sources: [s1]\n"
    root = write(tmp_path, {"taxonomy.yaml": TAXONOMY, "tools/t1.yaml": VALID + sso})
    catalog = load_catalog(root)
    ids = [c.id for c in catalog.criteria]
    assert ids == [*SEED_CRITERIA, "sso"]
    assert catalog.criterion("no-training").label == "No training (ours)"
    assert catalog.criterion("no-training").topics == {"en": ("learn*",)}
    assert catalog.criterion("dpa") == next(c for c in default_taxonomy() if c.id == "dpa")
    assert catalog.tool("t1").ratings[1].criterion == "sso"


def test_catalog_taxonomy_can_drop_the_defaults(tmp_path: Path) -> None:
    text = TAXONOMY.replace("criteria:", "include_defaults: false\ncriteria:")
    root = write(tmp_path, {"taxonomy.yaml": text, "tools/t1.yaml": VALID})
    assert [c.id for c in load_catalog(root).criteria] == ["no-training", "sso"]
    (error,) = errors_of(write(tmp_path, {"tools/t1.yaml": VALID.replace("no-training", "dpa")}))
    assert (error.entry, error.field) == ("rating dpa", "criterion")


TAXONOMY_ERRORS = [
    ("missing label", "- id: x\n", "criterion x", "label"),
    ("bad id", "- id: X Y\n  label: L\n", "criterion 1", "id"),
    ("unknown key", "- id: x\n  label: L\n  lable: M\n", "criterion x", "lable"),
    (
        "bad language",
        "- id: x\n  label: L\n  topics: {english: [a]}\n",
        "criterion x",
        "topics.english",
    ),
    ("bare star", "- id: x\n  label: L\n  topics: {en: ['*']}\n", "criterion x", "topics.en"),
    (
        "terms not strings",
        "- id: x\n  label: L\n  topics: {en: [1]}\n",
        "criterion x",
        "topics.en",
    ),
    ("duplicate id", "- id: x\n  label: L\n- id: x\n  label: M\n", "criterion x", "id"),
    ("not a list", "criteria: x\n", "taxonomy", "criteria"),
    ("unknown top key", "criteria: []\nextra: 1\n", "taxonomy", "extra"),
    (
        "unknown source kind",
        "criteria:\n- id: x\n  label: L\n  source_kinds: [contract]\n",
        "criterion x",
        "source_kinds",
    ),
]


@pytest.mark.parametrize(
    ("text", "entry", "field"),
    [case[1:] for case in TAXONOMY_ERRORS],
    ids=[case[0] for case in TAXONOMY_ERRORS],
)
def test_taxonomy_errors(tmp_path: Path, text: str, entry: str, field: str) -> None:
    errors = errors_of(write(tmp_path, {"taxonomy.yaml": text}))
    assert any(
        e.file.endswith("taxonomy.yaml") and e.entry == entry and e.field == field for e in errors
    ), [str(e) for e in errors]


def test_default_taxonomy_has_the_seed_criteria_in_three_languages() -> None:
    criteria = default_taxonomy()
    assert tuple(c.id for c in criteria) == SEED_CRITERIA
    for c in criteria:
        assert c.label and c.description
        for lang in ("en", "de", "fr"):
            assert 8 <= len(c.topics[lang]) <= 40, (c.id, lang)
        generic = {"data", "service", "services", "use", "information", "personal data"}
        assert not generic & {t.lower() for t in c.terms()}, c.id


@pytest.mark.parametrize(
    ("criterion", "passage"),
    [
        ("no-training", "We may use your Input and Output to train our models."),
        ("no-training", "Sie können der Nutzung für Trainingszwecke widersprechen."),
        ("no-training", "Nous n’utilisons pas vos données pour l’entraînement de nos modèles."),
        ("no-training", "unless Customer has opted-out of training"),
        ("data-retention", "Ihre Daten werden nach 30 Tagen automatisch gelöscht."),
        ("data-retention", "Inputs are deleted after 30 days."),
        ("data-retention", "Les journaux sont automatiquement supprimés après 30 jours."),
        ("data-retention", "Zero data retention is available on request."),
        ("server-location", "Les données sont stockées dans des centres de données en France."),
        ("server-location", "Daten werden außerhalb der EU verarbeitet."),
        ("dpa", "Mistral AI acts as a processor under the Data Processing Addendum."),
        ("dpa", "Der Auftragsverarbeitungsvertrag regelt die Weisungen des Kunden."),
        ("on-prem", "Models can be self-hosted on your own infrastructure."),
        ("on-prem", "Déploiement sur site sur vos propres serveurs."),
        ("open-source", "Our open-weight models are released under Apache 2.0."),
        ("private-cloud", "Dedizierte Instanzen in einem deutschen Rechenzentrum."),
        ("eu-saas", "Service hébergé en Europe, géré par nos soins."),
        ("hybrid", "A hybrid deployment keeps retrieval on premises."),
    ],
)
def test_default_vocabulary_matches_real_wording(criterion: str, passage: str) -> None:
    terms = next(c for c in default_taxonomy() if c.id == criterion).terms()
    assert match_terms(passage, terms)[0], (criterion, passage)


@pytest.mark.parametrize(
    ("criterion", "passage"),
    [
        # The erasure right is in every policy: deleting is about retention only with a period.
        ("data-retention", "You can delete your account at any time."),
        ("data-retention", "Sie können die Löschung Ihrer Daten verlangen."),
        ("data-retention", "Vous pouvez supprimer votre compte à tout moment."),
        # A company's seat or governing law is not where data is stored.
        ("server-location", "Perplexity AI, Inc. is located in San Francisco, United States."),
        ("no-training", "The retrained staff will answer your request."),
    ],
)
def test_default_vocabulary_ignores_near_misses(criterion: str, passage: str) -> None:
    terms = next(c for c in default_taxonomy() if c.id == criterion).terms()
    assert not match_terms(passage, terms)[0], (criterion, passage)


def test_default_vocabulary_stays_quiet_on_boilerplate() -> None:
    passage = "These Terms govern your access to the Services. Contact us at legal@example.com."
    for c in default_taxonomy():
        assert not match_terms(passage, c.terms())[0], c.id


def test_example_catalog_loads() -> None:
    catalog = load_catalog(REPO / "examples" / "catalog")
    tool = catalog.tool("mistral-api")
    assert (tool.vendor, tool.verdict) == ("Mistral AI", "conditional")
    assert len(tool.sources) == 9
    ratings = {r.criterion: r.rating for r in tool.ratings}
    assert ratings == {
        "on-prem": "yes",
        "private-cloud": "partial",
        "eu-saas": "partial",
        "hybrid": "partial",
        "dpa": "yes",
        "no-training": "partial",
        "open-source": "yes",
        "server-location": "partial",
        "data-retention": "partial",
    }
    assert all(r.evidence for r in tool.ratings)


def test_demo_catalog_matches_the_example_and_its_pages(tmp_path: Path) -> None:
    from crawler.demo import site_root, write_catalog
    from crawler.extract.document import extract
    from diffs.anchors import locate

    demo = load_catalog(write_catalog("http://127.0.0.1:8000", tmp_path)).tool("mistral-api")
    example = load_catalog(REPO / "examples" / "catalog").tool("mistral-api")
    assert demo.ratings == example.ratings
    assert [s.id for s in demo.sources] == [s.id for s in example.sources]
    site = site_root()

    def page(source: str, version: str) -> str:
        folder = site / source
        name = f"{version}.html" if (folder / f"{version}.html").is_file() else "v1.html"
        body = (folder / name).read_bytes()
        return extract(body, content_type="text/html", url=f"http://127.0.0.1/{source}").text

    for rating in demo.ratings:
        for e in rating.evidence:
            assert demo.source(e.source).url == f"http://127.0.0.1:8000/{e.source}"
            for version in ("v1", "v2"):
                assert locate(e.quote, page(e.source, version)).status == "found", e.quote
    quote = next(r for r in demo.ratings if r.criterion == "no-training").evidence[1].quote
    assert locate(quote, page("privacy-policy", "v3")).status != "found"
    for source in ("privacy-policy", "dpa"):
        v1, v2 = page(source, "v1").splitlines(), page(source, "v2").splitlines()
        assert [a for a, b in zip(v1, v2, strict=True) if a != b] == ["Updated 3 days ago"]
