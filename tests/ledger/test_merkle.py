"""RFC 9162 conformance: every shared vector, plus properties over random trees."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle

SHARED = Path(os.environ.get("DOCVAL_SHARED_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"))
VECTORS = SHARED / "merkle-vectors"


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value) if value else b""


def _probes(kind: str) -> list[Path]:
    return sorted((VECTORS / "testdata" / kind).rglob("*.json"))


def _basic() -> dict:
    return json.loads((VECTORS / "rfc6962_basic.json").read_text())


def _tree(leaves: list[bytes]) -> dict[merkle.Node, bytes]:
    completed, _ = merkle.extend(0, [], [merkle.leaf_hash(leaf) for leaf in leaves])
    return {(level, first + i): value for level, first, values in completed for i, value in enumerate(values)}


def test_vector_folder_is_complete() -> None:
    assert len(_probes("inclusion")) == 98
    assert len(_probes("consistency")) == 98


@pytest.mark.parametrize("path", _probes("inclusion"), ids=lambda p: str(p.relative_to(VECTORS / "testdata")))
def test_inclusion_probe(path: Path) -> None:
    probe = json.loads(path.read_text())
    proof = [_b64(item) for item in probe["proof"] or []]
    args = (probe["leafIdx"], probe["treeSize"], _b64(probe["leafHash"]), proof, _b64(probe["root"]))
    if probe.get("wantErr"):
        with pytest.raises(merkle.VerifyError):
            merkle.verify_inclusion(*args)
    else:
        merkle.verify_inclusion(*args)


@pytest.mark.parametrize("path", _probes("consistency"), ids=lambda p: str(p.relative_to(VECTORS / "testdata")))
def test_consistency_probe(path: Path) -> None:
    probe = json.loads(path.read_text())
    proof = [_b64(item) for item in probe["proof"] or []]
    args = (probe["size1"], probe["size2"], proof, _b64(probe["root1"]), _b64(probe["root2"]))
    if probe.get("wantErr"):
        with pytest.raises(merkle.VerifyError):
            merkle.verify_consistency(*args)
    else:
        merkle.verify_consistency(*args)


def test_basic_primitives_and_roots() -> None:
    basic = _basic()
    for primitive in basic["primitives"]:
        if primitive["op"] == "sha256":
            assert merkle.EMPTY_ROOT.hex() == primitive["hash"]
        elif primitive["op"] == "leaf":
            assert merkle.leaf_hash(bytes.fromhex(primitive["input_hex"])).hex() == primitive["hash"]
        else:
            left, right = bytes.fromhex(primitive["left_hex"]), bytes.fromhex(primitive["right_hex"])
            assert merkle.node_hash(left, right).hex() == primitive["hash"]
    leaves = [bytes.fromhex(leaf) for leaf in basic["leaves_hex"]]
    for size, root in enumerate(basic["roots_by_size"]):
        _, border = merkle.extend(0, [], [merkle.leaf_hash(leaf) for leaf in leaves[:size]])
        assert merkle.root_of(border).hex() == root


def test_basic_proofs_are_generated_exactly() -> None:
    basic = _basic()
    nodes = _tree([bytes.fromhex(leaf) for leaf in basic["leaves_hex"]])
    for case in basic["inclusion"]:
        ranges = merkle.inclusion_ranges(case["leaf_index"], case["tree_size"])
        assert [h.hex() for h in merkle.assemble(ranges, nodes)] == case["proof"]
    for case in basic["consistency"]:
        ranges = merkle.consistency_ranges(case["size1"], case["size2"])
        assert [h.hex() for h in merkle.assemble(ranges, nodes)] == case["proof"]


@pytest.mark.parametrize("case", range(8))
def test_basic_negative_cases_fail(case: int) -> None:
    basic = _basic()
    cases = [("inclusion", c) for c in basic["negative_inclusion"]] + [
        ("consistency", c) for c in basic["negative_consistency"]
    ]
    for kind, item in cases[case::8]:
        with pytest.raises(merkle.VerifyError):
            if kind == "inclusion":
                merkle.verify_inclusion(
                    item["leaf_index"], item["tree_size"], bytes.fromhex(item["leaf_hash"]),
                    [bytes.fromhex(p) for p in item["proof"]], bytes.fromhex(item["root"]),
                )  # fmt: skip
            else:
                merkle.verify_consistency(
                    item["size1"], item["size2"], [bytes.fromhex(p) for p in item["proof"]],
                    bytes.fromhex(item["root1"]), bytes.fromhex(item["root2"]),
                )  # fmt: skip


def _reference_root(leaves: list[bytes]) -> bytes:
    """RFC 9162 MTH written out recursively, independent of the code under test."""
    if not leaves:
        return merkle.EMPTY_ROOT
    if len(leaves) == 1:
        return merkle.leaf_hash(leaves[0])
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return merkle.node_hash(_reference_root(leaves[:k]), _reference_root(leaves[k:]))


def _flip(proof: list[bytes], which: int, bit: int) -> list[bytes]:
    target = which % len(proof)
    value = bytearray(proof[target])
    value[(bit // 8) % 32] ^= 1 << (bit % 8)
    return [bytes(value) if i == target else item for i, item in enumerate(proof)]


sizes = st.integers(min_value=1, max_value=300)


@settings(max_examples=150, deadline=None)
@given(size=sizes, data=st.data())
def test_inclusion_proofs_verify_and_any_bit_flip_fails(size: int, data: st.DataObject) -> None:
    leaves = [i.to_bytes(4, "big") for i in range(size)]
    nodes, root = _tree(leaves), _reference_root(leaves)
    index = data.draw(st.integers(0, size - 1))
    proof = merkle.assemble(merkle.inclusion_ranges(index, size), nodes)
    merkle.verify_inclusion(index, size, merkle.leaf_hash(leaves[index]), proof, root)
    if proof:
        flipped = _flip(proof, data.draw(st.integers(0, 64)), data.draw(st.integers(0, 255)))
        with pytest.raises(merkle.VerifyError):
            merkle.verify_inclusion(index, size, merkle.leaf_hash(leaves[index]), flipped, root)
    with pytest.raises(merkle.VerifyError):
        merkle.verify_inclusion(index, size, merkle.leaf_hash(b"not in the tree"), proof, root)


@settings(max_examples=150, deadline=None)
@given(size=sizes, data=st.data())
def test_consistency_proofs_verify_and_any_bit_flip_fails(size: int, data: st.DataObject) -> None:
    leaves = [i.to_bytes(4, "big") for i in range(size)]
    nodes = _tree(leaves)
    old = data.draw(st.integers(1, size))
    old_root, new_root = _reference_root(leaves[:old]), _reference_root(leaves)
    proof = merkle.assemble(merkle.consistency_ranges(old, size), nodes)
    merkle.verify_consistency(old, size, proof, old_root, new_root)
    if proof:
        flipped = _flip(proof, data.draw(st.integers(0, 64)), data.draw(st.integers(0, 255)))
        with pytest.raises(merkle.VerifyError):
            merkle.verify_consistency(old, size, flipped, old_root, new_root)


@given(st.integers(0, 40), st.integers(0, 2**20))
def test_node_positions_are_postorder_and_invertible(level: int, index: int) -> None:
    assert merkle.position_node(merkle.node_position(level, index)) == (level, index)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=8))
def test_extending_in_any_batches_builds_the_same_tree(batches: list[int]) -> None:
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(sum(batches))]
    nodes: dict[merkle.Node, bytes] = {}
    border: list[bytes] = []
    size = 0
    for count in batches:
        completed, border = merkle.extend(size, border, leaves[size : size + count])
        for level, first, values in completed:
            for i, value in enumerate(values):
                assert (level, first + i) not in nodes
                nodes[(level, first + i)] = value
        size += count
        assert merkle.root_of(border) == _reference_root([i.to_bytes(4, "big") for i in range(size)])
    assert nodes == _tree([i.to_bytes(4, "big") for i in range(size)])
    positions = sorted(merkle.node_position(level, index) for level, index in nodes)
    assert positions == list(range(len(nodes)))  # post-order numbering is dense
