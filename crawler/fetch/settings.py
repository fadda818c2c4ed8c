"""Scrapy settings for citewatch crawls: polite, quiet, and strict about what counts as a body."""

from __future__ import annotations

from crawler import environment  # lowercase names: Scrapy takes every UPPERCASE one as a setting
from crawler.run import limits

BOT_NAME = "citewatch"  # names the crawler in Scrapy's own log lines and stats
SPIDER_MODULES = ["spiders"]  # the generic `sources` spider lives there
NEWSPIDER_MODULE = "spiders"  # where `scrapy genspider` would put a site-specific spider

# Identify ourselves so site owners can reach us (Scrapy's "avoid getting banned" advice).
USER_AGENT = "citewatch/0.1 (+https://github.com/citewatch/citewatch)"
ROBOTSTXT_OBEY = True  # we fetch other people's legal pages: ask first
ROBOTSTXT_USER_AGENT = "citewatch"  # the token robots.txt groups are matched against

DOWNLOADER_MIDDLEWARES = {
    # First of all, so a result's elapsed_ms covers the robots.txt wait, retries and redirects.
    "crawler.fetch.middlewares.FetchTimingMiddleware": 50,
    # Stock RobotsTxtMiddleware lets concurrent requests to one host bypass robots.txt in
    # Scrapy 2.14-2.19 (research §2.2); the subclass takes its place at the same priority.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.fetch.middlewares.SafeRobotsTxtMiddleware": 100,
    # Above RetryMiddleware (550) so its process_response sees a 429/503 first.
    "crawler.fetch.middlewares.RetryAfterMiddleware": 560,
    # Same places as the stock ones: redirects to non-http(s) or unusable URLs and bodies in
    # an undecodable charset become classified failed fetches (crawler/fetch/middlewares.py).
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.fetch.middlewares.SafeMetaRefreshMiddleware": 580,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.fetch.middlewares.SafeRedirectMiddleware": 600,
}
# IPv4 and IPv6, and the gate that refuses non-public destinations (crawler/fetch/resolver.py).
TWISTED_DNS_RESOLVER = "crawler.fetch.resolver.GuardedResolver"
# Our setting: non-public addresses a crawl may connect to (crawler/fetch/destinations.py):
# none by default; true for all, or a comma-separated list of networks. Test rigs and intranet
# catalogs set it, or the CITEWATCH_ALLOW_PRIVATE environment variable (crawler/environment.py).
CITEWATCH_ALLOW_PRIVATE = environment.read_environment().allow_private or False
ITEM_PIPELINES = {
    "crawler.fetch.pipelines.ResultWriterPipeline": 300,  # results go to files, not a DB
    "crawler.fetch.pipelines.PageItemPipeline": 900,  # then a JSON-friendly item for `-o FILE`
}

CONCURRENT_REQUESTS = 16  # many hosts in parallel is fine; per-host politeness is below
CONCURRENT_REQUESTS_PER_DOMAIN = 1  # one request per host at a time
DOWNLOAD_DELAY = limits.DOWNLOAD_DELAY_S  # between requests to one host; `run` sizes batches by it
AUTOTHROTTLE_ENABLED = True  # slow down further when a host answers slowly
AUTOTHROTTLE_START_DELAY = limits.DOWNLOAD_DELAY_S  # start at DOWNLOAD_DELAY, not Scrapy's 5 s
AUTOTHROTTLE_MAX_DELAY = 60.0  # a slow host still gets checked within a run
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0  # matches CONCURRENT_REQUESTS_PER_DOMAIN
RETRY_AFTER_MAX_DELAY = 120.0  # our setting: a longer Retry-After gives up until the next run
# Our setting (read by the parent, not Scrapy): failed fetches in a row before a source is
# "broken" and its ratings are flagged. 3: one bad run is a blip, a daily source failing for
# three days is dead or blocked.
BROKEN_AFTER = 3

COOKIES_ENABLED = False  # stable, session-free fetches; a cookie must not change what we see
HTTPCACHE_ENABLED = False  # a cache can serve a stale page and hide a change (research §2.1)
TELNETCONSOLE_ENABLED = False  # no open port on an unattended machine
REMOTE_CONTROL_ENABLED = False  # 2.19's default-on server executes arbitrary Python: off

DOWNLOAD_MAXSIZE = 20 * 1024 * 1024  # legal pages and PDFs are far smaller; a bigger body is junk
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024  # worth a log line, not a failure
DOWNLOAD_TIMEOUT = 30  # a legal page that takes longer is better retried next run
DNS_TIMEOUT = 15  # the default 60 s stalls a whole host for nothing
REDIRECT_MAX_TIMES = 10  # real policy moves take 1-3 hops; more is a loop
RETRY_TIMES = 2  # transient errors get two more tries; the next run is the real retry
DOWNLOAD_FAIL_ON_DATALOSS = True  # a truncated body must never be stored as a new version
# Soft stop of a plain `scrapy crawl` (3120 s, inside the default one-hour budget). A citewatch
# crawl passes its own, derived from its budget (crawler/run/limits.py: the one source).
CLOSESPIDER_TIMEOUT = limits.DEFAULT_LIMITS.spider_s

LOG_LEVEL = "WARNING"  # quiet; errors are reported in results, not logs
LOG_STDOUT = False  # stdout belongs to JSON output; Scrapy logs to stderr only
