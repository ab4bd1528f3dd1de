"""Prefect flows, deployments and the folder watcher: thin orchestration over the other packages.

The public surface below is the light, Prefect-free part (policy, roles and
signed decisions, the gate's checks, claiming). The Prefect pieces live in
``flows.batch`` (processing flow), ``flows.approval`` (approval gate flow),
``flows.serve`` (deployments) and ``flows.appliance`` (``docval up``) and are
imported where they run, so importing ``flows`` does not start Prefect.
"""

from flows.claim import Claimed, claim_file
from flows.errors import FlowError
from flows.gate import ApprovalRequest, Verdict, check_attempt
from flows.policy import DecisionInput, Policy, PolicyDecision, load_policy
from flows.roles import Role, RolesFile, SignedDecision, load_roles, parse_token, sign_decision

__all__ = [
    "ApprovalRequest",
    "Claimed",
    "DecisionInput",
    "FlowError",
    "Policy",
    "PolicyDecision",
    "Role",
    "RolesFile",
    "SignedDecision",
    "Verdict",
    "check_attempt",
    "claim_file",
    "load_policy",
    "load_roles",
    "parse_token",
    "sign_decision",
]
