"""Prefect flows, deployments and the folder watcher: thin orchestration over the other packages.

The public surface below is the light, Prefect-free part (policy, claiming). The Prefect pieces live in
``flows.batch`` (processing flow), ``flows.approvals`` (publishing decided documents, approval deadlines,
enrolment and decision commands around the ``approvals`` core), ``flows.serve`` (deployments) and
``flows.appliance`` (``docval up``) and are imported where they run, so importing ``flows`` does not start
Prefect.
"""

from flows.claim import Claimed, claim_file
from flows.errors import FlowError
from flows.policy import DecisionInput, Policy, PolicyDecision, load_policy

__all__ = [
    "Claimed",
    "DecisionInput",
    "FlowError",
    "Policy",
    "PolicyDecision",
    "claim_file",
    "load_policy",
]
