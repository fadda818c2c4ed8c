"""`citewatch probe`: a dry run for onboarding — fetch, extract and look up every evidence
quote of the selected sources, storing nothing."""

from crawler.probe.report import QuoteProbe, SourceProbe, probe_source
from crawler.probe.runner import ProbeReport, probe_catalog

__all__ = ["ProbeReport", "QuoteProbe", "SourceProbe", "probe_catalog", "probe_source"]
