"""Prefect flows, deployments and the folder watcher: thin orchestration over the other packages.

The public surface below is the light, Prefect-free part (policy, roles and
signed decisions, the gate's checks, claiming). The Prefect pieces live in
``flows.batch`` (processing flow), ``flows.approval`` (approval gate flow),
``flows.serve`` (deployments) and ``flows.appliance`` (``docval up``) and are
imported where they run, so importing ``flows`` does not start Prefect.
"""

from docval.lazy import lazy_exports

_EXPORTS = {
    "ApprovalRequest": "flows.gate",
    "Claimed": "flows.claim",
    "DecisionInput": "flows.policy",
    "FlowError": "flows.errors",
    "Policy": "flows.policy",
    "PolicyDecision": "flows.policy",
    "Role": "flows.roles",
    "RolesFile": "flows.roles",
    "SignedDecision": "flows.roles",
    "Verdict": "flows.gate",
    "check_attempt": "flows.gate",
    "claim_file": "flows.claim",
    "load_policy": "flows.policy",
    "load_roles": "flows.roles",
    "parse_token": "flows.roles",
    "sign_decision": "flows.roles",
}

__all__ = sorted(_EXPORTS)  # each name is imported from its module on first use
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
