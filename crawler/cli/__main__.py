"""`python -m crawler.cli`: how `run` starts its crawl children."""

from crawler.cli import main

main()
