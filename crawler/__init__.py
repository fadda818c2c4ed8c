"""citewatch's application, one sub-package per stage of the data flow.

catalog → fetch → extract → ingest (diff, significance, flags via ``diffs``; history via
``storage``) → report / notify; ``run`` operates it unattended, ``cli`` is the command line.
"""
