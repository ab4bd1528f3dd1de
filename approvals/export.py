"""Evidence an auditor checks with OpenSSH alone: ``allowed_signers`` and one file pair per SSH-signed decision.

``ssh-keygen -Y verify -f allowed_signers -I PERSON -n docval-decision -s decisions/<seq>.sig
< decisions/<seq>.statement`` checks a decision without docval's code; shards' decisions go to
``decisions/<shard>/<seq>.*`` because seqs repeat across ledgers. ``allowed_signers`` lists every key anyone
ever held (no time limits: when a key was valid is the enrolment history's job, which verify.py checks).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from approvals.audit import roster_versions
from approvals.entries import APPROVAL_GRANTED, PERSON_CHANGED
from approvals.statement import DecisionStatement
from ledger import Entry

__all__ = ["write_signed_decisions"]


def write_signed_decisions(directory: Path, ledgers: dict[str | None, Iterable[bytes]]) -> int:
    """Write ``allowed_signers`` (from the root's enrolment, key ``None``) and the decision files; how many."""
    parsed = {shard: _entries_of(bodies, (PERSON_CHANGED, APPROVAL_GRANTED)) for shard, bodies in ledgers.items()}
    versions, _ = roster_versions(parsed.get(None, []))
    signers = dict.fromkeys(
        f"{name} {key['public_key']}\n" for name, key in versions[-1].keys_ever if key.get("kind") == "ssh-ed25519"
    )
    (directory / "allowed_signers").write_text("".join(signers), encoding="utf-8")
    written = 0
    for shard, entries in parsed.items():
        folder = directory / "decisions" / (shard or "")
        for entry in entries:
            signature = entry.data.get("signature") if entry.kind == APPROVAL_GRANTED else None
            if not isinstance(signature, dict) or signature.get("kind") != "sshsig":
                continue
            folder.mkdir(parents=True, exist_ok=True)
            statement = DecisionStatement.model_validate(entry.data["statement"])
            (folder / f"{entry.seq}.statement").write_bytes(statement.message())
            (folder / f"{entry.seq}.sig").write_text(signature["signature"], encoding="utf-8")
            written += 1
    return written


def _entries_of(bodies: Iterable[bytes], kinds: tuple[str, ...]) -> list[Entry]:
    """The entries that may be of ``kinds``: only bodies naming one are parsed (canonical JSON writes
    ``"kind":"<kind>"`` exactly), as a 100,000-document ledger holds 720,000 entries and few of these.
    A body that merely mentions a kind elsewhere is parsed too; callers still check ``entry.kind``."""
    needles = [f'"kind":"{kind}"'.encode() for kind in kinds]
    return [Entry.from_canonical(body) for body in bodies if any(needle in body for needle in needles)]
