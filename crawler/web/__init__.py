"""The web app (`citewatch serve`): the reviewers' site live, the review queue and its
actions, accounts with roles, and a token-authenticated JSON API."""

from crawler.web.app import WebSettings, create_app

__all__ = ["WebSettings", "create_app"]
