"""The environment is read in one place (crawler/environment.py) and passed on as values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import cli
from crawler.environment import read_environment
from crawler.notify.settings import load_settings
from storage import Store, database_url

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("crawler", "spiders", "storage", "reports", "diffs")
# The one reader, and the supervisor that hands the whole environment to its children.
ALLOWED = {Path("crawler/environment.py"), Path("crawler/run/supervisor.py")}
READS = re.compile(r"\bos\.environ\b|\bgetenv\b|\benvvar\s*=|\bfrom os import\b.*\benviron\b")


def test_no_other_module_reads_the_environment() -> None:
    readers = sorted(
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if path.relative_to(ROOT) not in ALLOWED and READS.search(path.read_text(encoding="utf-8"))
    )
    assert readers == []


def test_read_environment_takes_the_citewatch_variables() -> None:
    env = read_environment({"CITEWATCH_DB": "sqlite:///x.db", "CITEWATCH_NOTIFY": "n.toml"})
    assert (env.db_url, env.notify_file) == ("sqlite:///x.db", "n.toml")
    assert read_environment({"CITEWATCH_DB": "", "CITEWATCH_NOTIFY": ""}).db_url is None
    assert read_environment({}).notify_file is None


def test_named_variables_stay_out_of_repr() -> None:
    env = read_environment({"CW_SMTP_PASSWORD": "s3cret"})
    assert env.named("CW_SMTP_PASSWORD") == "s3cret"
    assert env.named("CW_UNSET") is None
    assert "s3cret" not in repr(env)


def test_database_url_prefers_the_option_then_the_environment() -> None:
    assert database_url("sqlite:///a.db", "sqlite:///b.db") == "sqlite:///a.db"
    assert database_url(None, "sqlite:///b.db") == "sqlite:///b.db"
    assert database_url(None, None) == "sqlite:///citewatch.db"


def test_citewatch_db_is_the_database_without_db(tmp_path: Path) -> None:
    db = tmp_path / "from-env.db"
    result = CliRunner().invoke(
        cli, ["status", "--json"], obj={}, env={"CITEWATCH_DB": f"sqlite:///{db}"}
    )
    # status only reads: the database CITEWATCH_DB names is looked for, and not created.
    assert result.exit_code == 1 and f"no database at {db}" in result.output, result.output
    assert not db.exists()
    Store.open(f"sqlite:///{db}").close()
    result = CliRunner().invoke(
        cli, ["status", "--json"], obj={}, env={"CITEWATCH_DB": f"sqlite:///{db}"}
    )
    assert result.exit_code == 0, result.output


def test_notify_settings_look_named_variables_up_in_the_given_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "notify.toml"
    path.write_text(
        "[email]\nhost = 'h'\nfrom = 'f'\nto = 'x'\nuser = 'u'\npassword_env = 'CW_PW'\n"
        "[apprise]\nurls_env = 'CW_URLS'\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("CW_PW", "from-the-process")
    settings = load_settings(path, read_environment({"CW_PW": "given", "CW_URLS": "json://h/x"}))
    assert settings.email is not None and settings.email.password() == "given"
    assert settings.apprise_urls == ("json://h/x",)
    assert "given" not in repr(settings)
