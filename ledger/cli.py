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
witness_app = typer.Typer(
    help="A C2SP tlog-witness for other parties to run (its own key and state).", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.add_typer(ledger_app, name="ledger")
    app.add_typer(witness_app, name="witness")


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
def keys_rotate(
    key: Annotated[Path, typer.Option("--key", help="An admin's OpenSSH private key (a .pub: the key in ssh-agent).")],
) -> None:
    """Hand signing over to a new key, ordered by an admin: the admin signs both keys, the old key signs the
    handover, recorded as a key.rotated entry. Exit 0 rotated, 1 refused (the reason printed), 2 other error."""
    from approvals.actions import rotation_consent
    from approvals.errors import ApprovalsError
    from docval.settings import load_settings
    from ledger import Ledger

    settings = load_settings()
    ledger = Ledger.open(settings)
    try:
        admin, consent = rotation_consent(settings, key)
        seq = ledger.rotate_key(admin, consent)
    except ApprovalsError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"key rotated at seq {seq} by {admin}: {ledger.verifier_key()}")


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
    """Sign a checkpoint now if entries are unsigned, submit it to the witnesses, and print the latest
    checkpoint with its cosignatures; a witness that did not cosign is named on stderr (exit status 0)."""
    from ledger.witnessing import cosignature_lines, cosigned_note, submit

    ledger = _open()
    ledger.checkpoint()
    for status in submit(ledger, force=True):
        typer.echo(status.line(), err=True)
    typer.echo(cosigned_note(ledger.latest_checkpoint() or "", cosignature_lines(ledger)), nl=False)


@ledger_app.command("verify")
def ledger_verify(
    vkey: Annotated[Path | None, typer.Option(help="The log's verifier key as the auditor holds it.")] = None,
    witness_key: Annotated[
        list[Path] | None,
        typer.Option(help="A witness's verifier key file ('<key>' or '<url> <key>'); repeatable."),
    ] = None,
    quorum: Annotated[int, typer.Option(help="Cosignatures required (0: one per --witness-key).")] = 0,
    allow_unsigned_tail: Annotated[
        bool, typer.Option("--allow-unsigned-tail", help="Pass even if entries beyond the latest checkpoint exist.")
    ] = False,
) -> None:
    """Recompute tree, chain, signatures and every checkpoint of the ledger and of every shard; exit 1 naming
    the shard and the first bad seq, when entries no checkpoint signs exist, when a pinned key (--vkey,
    --witness-key) does not hold for the root ledger, or when a person-attributed entry is not signed by a
    person enrolled at that point."""
    from approvals.audit import check_installation  # people's signatures: the approvals core re-checks them
    from docval.settings import load_settings
    from ledger.verify_pins import verify_pins
    from ledger.verify_shards import verify_installation

    settings = load_settings()
    report = verify_installation(settings)
    typer.echo(report.summary(allow_unsigned_tail=allow_unsigned_tail))
    ok = report.holds(allow_unsigned_tail=allow_unsigned_tail)
    people = check_installation(settings)
    typer.echo(
        "\n".join(f"people: {problem}" for problem in people) or "people: every person-attributed entry is signed"
    )
    ok = ok and not people
    if vkey is not None or witness_key:
        pins = verify_pins(
            _open(), _pinned_log_key(vkey), [_pinned_witness(path) for path in witness_key or []], quorum,
            allow_unsigned_tail=allow_unsigned_tail,
        )  # fmt: skip
        for line in pins.lines():
            typer.echo(line)
        ok = ok and pins.ok
    if not ok:
        raise typer.Exit(1)


def _pinned_log_key(path: Path | None):
    from ledger import LedgerError
    from ledger.bundle_verify import VerifierKey, VerifyError

    if path is None:
        return None
    try:
        return VerifierKey.parse(path.read_text(encoding="utf-8").splitlines()[0])
    except (VerifyError, IndexError, OSError) as exc:
        raise LedgerError(f"--vkey {path}: {exc or 'empty file'}") from None


def _pinned_witness(path: Path):
    from ledger import LedgerError
    from ledger.bundle_verify import VerifyError, Witness

    try:
        return Witness.parse(path.read_text(encoding="utf-8").strip().splitlines()[-1])
    except (VerifyError, IndexError, OSError) as exc:
        raise LedgerError(f"--witness-key {path}: {exc or 'empty file'}") from None


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


@witness_app.command("init")
def witness_init(
    directory: Path,
    name: Annotated[str, typer.Option(help="The witness's key name (a schema-less URL naming it).")] = "",
) -> None:
    """Create a witness in DIRECTORY (key 0600, state folders 0700); the last line printed is its verifier key."""
    import socket

    from ledger.witness import init_witness

    verifier = init_witness(directory, name or f"{socket.gethostname()}/docval-witness")
    typer.echo(f"witness created in {directory}; give this verifier key to the logs and auditors:")
    typer.echo(str(verifier))


@witness_app.command("add-log")
def witness_add_log(
    directory: Path,
    origin: Annotated[str, typer.Option(help="The log's checkpoint origin (first line of its checkpoints).")],
    vkey: Annotated[Path, typer.Option(help="The log's verifier key file (its ledger.vkey; one key a line).")],
) -> None:
    """Accept checkpoints of ORIGIN signed by a key in VKEY (run again with the new key after a rotation)."""
    from ledger.witness import add_log

    keys = add_log(directory, origin, vkey.read_text(encoding="utf-8"))
    typer.echo(f"witness accepts {origin} signed by " + ", ".join(f"{k.name}+{k.key_id.hex()}" for k in keys))


@witness_app.command("serve")
def witness_serve(
    directory: Path,
    listen: Annotated[str, typer.Option(help="HOST:PORT to listen on; the C2SP endpoints are under it.")],
) -> None:
    """Answer POST /add-checkpoint (C2SP tlog-witness) until stopped."""
    from ledger.witness import serve

    host, _, port = listen.rpartition(":")
    server = serve(directory, host, int(port))
    typer.echo(f"witness serving http://{listen} (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
