"""The bundle's fast writers against independent oracles: each proof file against the ledger's own proof of
the entry, every proof of random trees against the verifier, and the zip against plain ``ZipFile.writestr``."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import Ledger
from ledger.bundle_verify import TLOG_PROOF_HEADER, Checkpoint, VerifierKey, leaf_hash, split_note, verify_tlog_proof
from ledger.keys import SigningKey, sign_note
from ledger.proofs import tlog_proof_from
from reports.bundle import zip_bundle
from reports.proofs import MemoryTree, ProofTexts

_KEY = SigningKey.generate("example.org/log")


def test_each_bundle_proof_is_the_ledgers_own_proof_carrying_the_entry(filled: Ledger) -> None:
    """The ledger answers proofs from its stored subtree hashes in DuckDB; the bundle's text must be that
    proof with the entry as its ``extra`` line, byte for byte, for every entry of a real ledger."""
    note = filled.latest_checkpoint()
    assert note is not None
    bodies = [entry.canonical for entry in filled.entries()]
    texts = ProofTexts(MemoryTree([leaf_hash(body) for body in bodies]), bodies, note)
    key = VerifierKey.parse(filled.verifier_key())
    assert len(bodies) > 64  # past the levels whose path text is shared
    with filled.reader() as reader:
        own = [tlog_proof_from(reader, seq).removeprefix(TLOG_PROOF_HEADER + "\n") for seq in range(len(bodies))]
    for seq, body in enumerate(bodies):
        text = texts.proof(seq).decode()
        assert text == f"{TLOG_PROOF_HEADER}\nextra {base64.b64encode(body).decode()}\n{own[seq]}"
        assert verify_tlog_proof(text, body, key).size == len(bodies)


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 700), data=st.data())
def test_every_proof_of_a_random_tree_verifies_and_names_its_path(size: int, data: st.DataObject) -> None:
    bodies = [f'{{"n":{i}}}'.encode() for i in range(size)]
    tree = MemoryTree([leaf_hash(body) for body in bodies])
    note = sign_note(Checkpoint("example.org/log", size, tree.root).body(), _KEY)
    texts = ProofTexts(tree, bodies, note)
    for seq in {0, size - 1, *data.draw(st.lists(st.integers(0, size - 1), max_size=20))}:
        text = texts.proof(seq).decode()
        assert verify_tlog_proof(text, bodies[seq], _KEY.verifier).size == size
        head, _, proof_note = text.partition("\n\n")
        assert proof_note == note and split_note(proof_note)[0] == Checkpoint("example.org/log", size, tree.root).body()
        assert [base64.b64decode(line) for line in head.split("\n")[3:]] == tree.audit_path(seq)


def _writestr_zip(directory: Path, target: Path) -> None:
    """The bundle zip as plain ``ZipFile.writestr`` writes it: the format zip_bundle promises."""
    names = sorted(path.relative_to(directory).as_posix() for path in directory.rglob("*") if path.is_file())
    with zipfile.ZipFile(target, "w") as archive:
        for name in names:
            info = zipfile.ZipInfo(f"{directory.name}/{name}", (1980, 1, 1, 0, 0, 0))
            info.external_attr, info.create_system = 0o644 << 16, 3
            stored = "/proofs/" in f"/{name}"
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            archive.writestr(info, (directory / name).read_bytes(), compresslevel=None if stored else 1)


def test_the_zip_has_the_bytes_writestr_gives(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    files = {
        "entries.jsonl": b'{"seq":0}\n' * 5000,
        "manifest.json": b"{}\n",
        "README.md": b"read me\n",
        "proofs/d1/9.proof": b"nine\n",
        "proofs/d1/10.proof": b"ten\n",  # sorts before 9: names, not numbers
        "proofs/d2/0.proof": b"",
        "shards/w1/proofs/d3/4.proof": bytes(range(256)) * 8,
        "shards/w1/entries.jsonl": b'{"seq":0}\n' * 10,
        "decisions/7.statement": b"statement\n",
    }
    for name, data in files.items():
        (bundle / name).parent.mkdir(parents=True, exist_ok=True)
        (bundle / name).write_bytes(data)
    zip_bundle(bundle, tmp_path / "fast.zip")
    _writestr_zip(bundle, tmp_path / "plain.zip")
    fast = (tmp_path / "fast.zip").read_bytes()
    assert hashlib.sha256(fast).digest() == hashlib.sha256((tmp_path / "plain.zip").read_bytes()).digest()
    with zipfile.ZipFile(tmp_path / "fast.zip") as archive:
        assert archive.testzip() is None
        assert {name.removeprefix("bundle/"): archive.read(name) for name in archive.namelist()} == files
        stored = {info.filename for info in archive.infolist() if info.compress_type == zipfile.ZIP_STORED}
        assert stored == {f"bundle/{name}" for name in files if "/proofs/" in f"/{name}"}
