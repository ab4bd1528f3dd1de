"""The roles a person can hold. Only admins change who holds which."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["DECIDING_ROLES", "Role"]


class Role(StrEnum):
    SUBMITTER = "submitter"
    REVIEWER = "reviewer"
    SENIOR_REVIEWER = "senior_reviewer"
    PII_READER = "pii_reader"
    ADMIN = "admin"


DECIDING_ROLES = (Role.SENIOR_REVIEWER, Role.REVIEWER)  # strongest first: a decision is counted under it
