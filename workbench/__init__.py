"""The reviewer workbench: review, correct and decide in the browser, each decision signed with a passkey.

FastAPI + Jinja2 pages and a little plain JavaScript, served on 127.0.0.1 and
addressed as ``http://localhost:PORT``. It calls the approvals core and
publishes through a function handed to it (``serve_workbench(settings,
publish, homes)``, with the lookup of each document's home ledger), so it
never imports Prefect. Exports load on first use
(``docval.lazy``): ``docval --help`` must not import FastAPI or DuckDB.
"""

from docval.lazy import lazy_exports

_EXPORTS = {
    "Homes": "workbench.app",
    "Publish": "workbench.app",
    "WorkbenchError": "workbench.errors",
    "create_app": "workbench.app",
    "invite_link": "workbench.app",
    "serve_workbench": "workbench.app",
    "workbench_url": "workbench.app",
}

__all__ = sorted(_EXPORTS)  # each name is imported from its module on first use
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
