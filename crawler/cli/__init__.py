"""The `citewatch` command line: a thin click layer, the only place errors become exit codes."""

from crawler.cli.commands import cli, main

__all__ = ["cli", "main"]
