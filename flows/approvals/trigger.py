"""Starting the publish of a decided document from a command: ONE function (``start_publish``), no Prefect import.

``docval approve|reject`` is a short process whose own start-up counts toward the decision's latency, and
importing Prefect alone costs it about 0.9 s of CPU. So it first hands the document to the running appliance
(``flows.handoff``: published in-process within a fraction of a second); with no appliance
listening (a cluster's served deployments, ``docval up`` stopped) it creates a run of the served
``publish-decision/publish`` deployment through the Prefect server's REST API, which the serving process
picks up like any scheduled run. Either way only ids travel; the publish flow derives everything from the
ledger.
"""

from __future__ import annotations

import base64
import os

from docval.settings import Settings
from flows.errors import FlowError
from flows.handoff import hand_off

__all__ = ["PUBLISH_DEPLOYMENT", "PUBLISH_FLOW", "start_publish"]

PUBLISH_FLOW = "publish-decision"
PUBLISH_DEPLOYMENT = f"{PUBLISH_FLOW}/publish"
REST_SECONDS = 30.0


def start_publish(settings: Settings, doc: str, shard: str | None) -> str:
    """Start publishing a decided document (the appliance's in-process run, else a served run); the run's id."""
    handed = hand_off(settings, doc)
    return handed if handed is not None else served_run(settings, doc, shard)


def served_run(settings: Settings, doc: str, shard: str | None) -> str:
    """A Scheduled run of the publish deployment, created with two REST calls (what ``run_deployment`` does)."""
    import httpx

    flow, name = PUBLISH_DEPLOYMENT.split("/")
    run = {"parameters": {"doc_id": doc, "shard": shard}, "name": f"publish-{doc[:16]}", "tags": ["approval"]}
    api = settings.flows.prefect_api_url
    try:
        with httpx.Client(base_url=api, headers=_login(), timeout=REST_SECONDS) as client:
            found = client.get(f"/deployments/name/{flow}/{name}")
            if found.status_code == httpx.codes.NOT_FOUND:
                raise FlowError("no served publish deployment; the next `docval up` publishes decided documents")
            found.raise_for_status()
            created = client.post(f"/deployments/{found.json()['id']}/create_flow_run", json=run)
            created.raise_for_status()
            return str(created.json()["id"])
    except httpx.HTTPError as exc:  # server down or unreachable: the decision stands, publishing waits for the sweep
        raise FlowError(f"publishing could not start ({type(exc).__name__}); the next `docval up` does it") from None


def _login() -> dict[str, str]:
    """The Prefect client's Basic login, where the server needs one (``PREFECT_API_AUTH_STRING``, docs/security.md)."""
    login = os.environ.get("PREFECT_API_AUTH_STRING")
    return {"Authorization": "Basic " + base64.b64encode(login.encode()).decode()} if login else {}
