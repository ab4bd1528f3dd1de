"""``docval keys ...`` and ``docval ledger ...``: the ledger from the shell, for operators, scripts and tests."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]

keys_app = typer.Typer(help="The ledger's Ed25519 signing key.", no_args_is_help=True)
ledger_app = typer.Typer(help="The signed, Merkle-chained audit ledger.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.add_typer(ledger_app, name="ledger")


def _open():
    from docval.settings import load_settings
    from ledger import Ledger

    return Ledger.open(load_settings())


@keys_app.command("init")
def keys_init(
    if_missing: Annotated[bool, typer.Option("--if-missing", help="Succeed quietly when the key exists.")] = False,
) -> None:
    """Create the ledger signing key (0600) and its verifier key; refuses to overwrite."""
    from docval.settings import load_settings
    from ledger.keys import anchor_path, init_keys, load_anchor

    settings = load_settings()
    if if_missing and anchor_path(settings.ledger_keys_dir).exists():
        typer.echo(f"ledger key exists: {load_anchor(settings.ledger_keys_dir)}")
        return
    typer.echo(f"ledger key created: {init_keys(settings.ledger_keys_dir, settings.ledger.key_name)}")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Hand signing over to a new key; the old key signs the handover, recorded as a key.rotated entry.

    An operator action, ledgered as such (actor ``operator``): no person's name is typed in.
    """
    ledger = _open()
    seq = ledger.rotate_key("operator")
    typer.echo(f"key rotated at seq {seq}: {ledger.verifier_key()}")


@ledger_app.command("append")
def ledger_append() -> None:
    """Append entries read from stdin: one JSON object {kind, doc, actor, data} per line, in one transaction."""
    from docval.events import PERSON_ATTRIBUTED
    from ledger import EntryDraft, LedgerError

    drafts = []
    for number, line in enumerate(sys.stdin.read().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
            drafts.append(EntryDraft(value["kind"], value.get("doc"), value["actor"], value.get("data", {})))
        except (ValueError, KeyError, TypeError) as exc:
            raise LedgerError(f"stdin line {number}: expected {{kind, doc, actor, data}} JSON ({exc})") from None
        if value["kind"] in PERSON_ATTRIBUTED:  # only the approvals core writes these, after checking a signature
            raise LedgerError(f"stdin line {number}: {value['kind']} entries are signed by a person, not appended")
    for seq in _open().append_many(drafts):
        typer.echo(seq)


@ledger_app.command("checkpoint")
def ledger_checkpoint() -> None:
    """Sign a checkpoint now if entries are unsigned, and print the latest checkpoint."""
    typer.echo(_open().checkpoint(), nl=False)


@ledger_app.command("verify")
def ledger_verify() -> None:
    """Recompute tree, chain, signatures and every checkpoint of the ledger and of every shard; exit 1 naming
    the shard and the first bad seq."""
    from approvals.audit import check_installation  # people's signatures: the approvals core re-checks them
    from docval.settings import load_settings
    from ledger.verify_shards import verify_installation

    report = verify_installation(load_settings())
    typer.echo(report.summary())
    people = check_installation(load_settings())
    typer.echo(
        "\n".join(f"people: {problem}" for problem in people) or "people: every person-attributed entry is signed"
    )
    if not report.ok or people:
        raise typer.Exit(1)


@ledger_app.command("anchor")
def ledger_anchor(
    shard: Annotated[list[str] | None, typer.Option(help="Anchor only this shard (repeatable); default: all.")] = None,
) -> None:
    """Fold every shard's latest signed checkpoint into this (root) ledger and sign; exit 1 if one is refused."""
    from docval.settings import load_settings
    from ledger.anchor import anchor_shards

    report = anchor_shards(load_settings(), shard)
    typer.echo(report.summary())
    if report.refused:
        raise typer.Exit(1)


@ledger_app.command("shard-env")
def ledger_shard_env(name: str) -> None:
    """Print the environment (`export` lines) that makes a docval process write ledger shard NAME."""
    from docval.settings import load_settings
    from docval.shards import shard_env

    for key, value in shard_env(load_settings(), name).items():
        typer.echo(f"export {key}={value}")


@ledger_app.command("prove")
def ledger_prove(seq: Annotated[int, typer.Option(help="Sequence number of the entry.")]) -> None:
    """Print a C2SP tlog-proof of entry SEQ against the latest checkpoint."""
    from ledger.proofs import tlog_proof

    typer.echo(tlog_proof(_open(), seq), nl=False)


@ledger_app.command("export")
def ledger_export(directory: Path) -> None:
    """Write entries.jsonl, checkpoint, ledger.vkey, manifest.json, verify.py, allowed_signers and decisions/."""
    from approvals.export import write_signed_decisions  # people's decisions, checkable with ssh-keygen alone
    from ledger.export import write_manifest

    _open().export(directory)
    with (directory / "entries.jsonl").open("rb") as entries:
        write_signed_decisions(directory, {None: (line.rstrip(b"\n") for line in entries)})
    write_manifest(directory)  # re-sealed over the decision files
    typer.echo(f"exported to {directory}; check with: python {directory / 'verify.py'} {directory}")
