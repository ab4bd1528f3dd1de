"""The reviewer workbench: review, correct and decide in the browser, each decision signed with a passkey.

FastAPI + Jinja2 pages and a little plain JavaScript, served on 127.0.0.1 and
addressed as ``http://localhost:PORT``. It calls the approvals core and
publishes through a function handed to it (``serve_workbench(settings,
publish)``), so it never imports Prefect.
"""

from workbench.app import Publish, create_app, invite_link, serve_workbench, workbench_url
from workbench.errors import WorkbenchError

__all__ = ["Publish", "WorkbenchError", "create_app", "invite_link", "serve_workbench", "workbench_url"]
