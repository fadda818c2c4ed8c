"""Start-up cost: `citewatch status` loads only what it needs, and a database already at the
newest schema revision opens without Alembic (issue 15: status at 10,000 sources)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from crawler.cli.support import cli_errors
from storage import Store
from storage.store import head_revision

ROOT = Path(__file__).resolve().parent.parent
# Modules `status` has no use for: the fetch child's and the scheduler's libraries, extraction,
# the report writers, Alembic (the database is already at head).
NOT_FOR_STATUS = ("scrapy", "apscheduler", "lxml", "jinja2", "alembic", "pdfminer", "psutil")

# Run `citewatch status --json`, then print the top-level modules the process loaded.
PROBE = """
import json, sys
from crawler.cli.commands import cli
try:
    cli.main(sys.argv[1:], prog_name="citewatch", obj={})
except SystemExit as exc:
    assert not exc.code, exc.code
print(json.dumps(sorted({name.partition(".")[0] for name in sys.modules})), file=sys.stderr)
"""


def _loaded(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return set(loaded)


def _catalog(folder: Path) -> Path:
    (folder / "tools").mkdir(parents=True)
    (folder / "tools" / "acme.yaml").write_text(
        "id: acme\nname: Acme\nsources:\n  - id: privacy\n    url: https://acme.example/p\n",
        encoding="utf-8",
    )
    return folder


def test_status_loads_no_crawl_extraction_report_or_alembic_module(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cw.db'}"
    Store.open(db).close()  # created and migrated: status opens a database at head
    loaded = _loaded("--db", db, "status", "--json", "--catalog", str(_catalog(tmp_path / "c")))
    assert "sqlalchemy" in loaded  # the probe did run the command
    assert loaded.isdisjoint(NOT_FOR_STATUS), sorted(loaded & set(NOT_FOR_STATUS))


def _opens(path: Path) -> bool:
    """Open the database in a fresh process; whether that loaded Alembic."""
    probe = "import sys; from storage import Store; Store.open(sys.argv[1], create=False).close()"
    probe += "; print('alembic' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe, f"sqlite:///{path}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip() == "True"


def _revision(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        (version,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(version)


def test_a_database_at_head_opens_without_alembic(tmp_path: Path) -> None:
    path = tmp_path / "cw.db"
    Store.open(f"sqlite:///{path}").close()
    assert _opens(path) is False
    assert _revision(path) == head_revision()


def test_an_older_database_is_still_migrated_on_open(tmp_path: Path) -> None:
    path = tmp_path / "cw.db"
    previous = sorted((ROOT / "storage" / "migrations" / "versions").glob("0*.py"))[-2]
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "storage" / "migrations"))
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:  # the schema an older citewatch left
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, previous.name.partition("_")[0])
    engine.dispose()
    assert _opens(path) is True
    assert _revision(path) == head_revision()


def test_head_revision_is_the_newest_migration_file() -> None:
    versions = sorted((ROOT / "storage" / "migrations" / "versions").glob("0*.py"))
    assert head_revision() == versions[-1].name.partition("_")[0]


def test_stage_errors_imported_lazily_still_become_one_line_errors() -> None:
    from crawler.extract.extractor import ExtractError
    from crawler.fetch.request import FetchError

    for error in (ExtractError("no text\nat all"), FetchError("refused")):
        with pytest.raises(click.ClickException) as caught, cli_errors():
            raise error
        assert "\n" not in caught.value.message
    with pytest.raises(RuntimeError), cli_errors():  # not a stage error: a bug, not mapped
        raise RuntimeError("internal")
