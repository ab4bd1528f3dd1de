"""Prefect flows, deployments and the folder watcher: thin orchestration over the other packages.

The public surface below is the light, Prefect-free part (policy, claiming). The Prefect pieces live in
``flows.batch`` (processing flow), ``flows.approvals`` (publishing decided documents, approval deadlines,
enrolment and decision commands around the ``approvals`` core), ``flows.serve`` (deployments) and
``flows.appliance`` (``docval up``) and are imported where they run, so importing ``flows`` does not start
Prefect.
"""

from docval.lazy import lazy_exports

_EXPORTS = {
    "Claimed": "flows.claim",
    "DecisionInput": "flows.policy",
    "FlowError": "flows.errors",
    "Policy": "flows.policy",
    "PolicyDecision": "flows.policy",
    "claim_file": "flows.claim",
    "load_policy": "flows.policy",
}

__all__ = sorted(_EXPORTS)  # each name is imported from its module on first use
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
