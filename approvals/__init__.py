"""The approvals core: who is enrolled, what a person signs, who may decide, and recording it.

Plain Python (no Prefect, no web framework) so flows/, the CLI and the reviewer workbench share one
implementation. Modules: ``statement`` (the signed bytes), ``sshsig`` and ``signatures`` (verifying both
signer kinds), ``people`` (the roster as a fold of enrolment entries), ``state`` (a document's approval
state as a fold of its entries), ``rules`` (the gate), ``record`` (verify, count and append under the
ledger's write lock), ``entries`` (ledger payloads), ``policy_input`` (what the decision policy sees of a
document, built once for the pipeline, the benchmarks and the verifier's re-derivation). ``passkey``
(WebAuthn) comes with the workbench.
"""

from approvals.errors import ApprovalsError

__all__ = ["ApprovalsError"]
