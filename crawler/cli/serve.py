"""`citewatch serve`: the web app over the database (crawler/web)."""

from __future__ import annotations

from pathlib import Path

import click

from crawler.cli.support import cli_errors, open_store


@click.command()
@click.argument("catalog", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--behind-proxy",
    is_flag=True,
    help="Trust X-Forwarded-For/-Proto from 127.0.0.1 (a local https reverse proxy); "
    "cookies get the Secure flag.",
)
@click.pass_context
def serve(
    ctx: click.Context, catalog: str | None, host: str, port: int, behind_proxy: bool
) -> None:
    """Serve the web app: the review queue, the reviewers' site live, and the JSON API.

    CATALOG (default: the last crawl's) is the one a "set rating" decision writes back to.
    """
    import uvicorn

    from crawler.web import WebSettings, create_app
    from crawler.web.live import catalog_path

    with cli_errors():
        store = open_store(ctx)
        chosen = catalog_path(store, Path(catalog) if catalog else None)
    app = create_app(WebSettings(store, chosen, secure_cookies=behind_proxy))
    click.echo(f"citewatch serve: http://{host}:{port}/ (Ctrl-C stops)", err=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        proxy_headers=behind_proxy,
        forwarded_allow_ips="127.0.0.1" if behind_proxy else None,
        log_level="warning",
        server_header=False,
    )
