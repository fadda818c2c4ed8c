"""The catalog's limits: each bounds what a broken or hostile catalog can cost to check.

They bound bytes and nesting, not counts: 100,000 sources must load (a generated catalog of
10,000 tool files with 10 sources each is 12 MB of YAML, 29 s of CPU and 69 MB of memory).
"""

from __future__ import annotations

from datetime import timedelta

# One YAML file (a tool file or taxonomy.yaml). The example tool is 8 KB; 1 MiB holds a tool
# with 10,000 sources and parses (pure-Python PyYAML) in about 4 s and 100 MB.
MAX_FILE_BYTES = 1 << 20

# All tool files together: 10× the 100,000-source catalog above. Loading costs about 6 bytes
# of memory per byte of YAML, so the largest accepted catalog stays under 1 GB.
MAX_CATALOG_BYTES = 128 << 20

# Collections inside collections. The format needs 5 (tool, ratings, rating, evidence list,
# evidence); PyYAML composes nested collections by recursion, 2 frames per level, and hits
# Python's 1,000-frame limit (a RecursionError) near 450 levels.
MAX_NESTING = 32

# Nodes that aliases (*name) add when expanded. A shared list of sources or selectors reused by
# every rating of a tool adds a few hundred; a "billion laughs" document adds 10⁹ (9 levels of
# 9 aliases) and made `check` grow past 2 GB.
MAX_ALIAS_NODES = 10_000

# Tool, source and criterion ids name report files (`sources/<tool>/<source>.html`, at most
# 255 bytes on common file systems) and fill database columns of 200 characters.
MAX_ID_CHARS = 64

# Scrapy's UrlLengthMiddleware silently drops a request whose URL (percent-encoded) is longer
# than URLLENGTH_LIMIT, 2,083 by default: such a source would never be fetched.
MAX_URL_CHARS = 2083

# A CSS selector of `select:`/`exclude:`. Real ones are under 100 characters; cssselect's
# translation recurses 3 frames per combinator, class or nested :is(), so nesting is bounded
# too (a 500-combinator selector raised RecursionError).
MAX_SELECTOR_CHARS = 1000
MAX_SELECTOR_NESTING = 64

# `every:` (and `run --every`/`--backoff`). A page looked at less than once a year is not
# watched; 10⁹ days overflowed Python's timedelta. The text is short (`1d12h` is 5 characters),
# which keeps int() away from numbers of thousands of digits.
MAX_EVERY = timedelta(days=366)
MAX_DURATION_CHARS = 32

# How much of a value an error message quotes: enough to recognise it, one line at any size.
PREVIEW_CHARS = 60

# A selection file's size limit. A name is at most 129 characters (two ids of MAX_ID_CHARS and
# a slash); 100,000 typical names are about 4 MB. 128 MiB, the catalog's own byte limit, holds
# any selection of the largest catalog and bounds what a wrong file costs to read.
MAX_SELECTION_BYTES = 128 << 20
