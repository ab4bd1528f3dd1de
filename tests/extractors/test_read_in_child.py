"""Extraction in the parser's sandbox child (``read_pdf`` with ``extractors.local.LocalReader``).

The child's extraction must be the one this process computes, and moving it there must not weaken the sandbox:
hostile files end in the same typed errors, a timeout is not waited for twice, and a child that cannot hold the
reader's imports under the memory limit costs the read-ahead, never the document.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks import hostile_pdfs as hostile
from docval.settings import ExtractSettings, Settings, load_settings
from extractors.extract import extract
from extractors.local import LocalReader
from extractors.pdf import IngestError, load_pdf, read_pdf
from extractors.router import Router
from extractors.sandbox import Sandbox

LIMITS = ExtractSettings(parse_timeout_seconds=20, page_timeout_seconds=5, ocr_enabled=False)
REAL = [
    "zugferd/pdfs/ZUGFeRDv2/correct/intarsys/EN16931/zugferd_2p0_EN16931_Einfach.pdf",
    "zugferd/pdfs/ZUGFeRDv1/correct/Mustangproject/MustangGnuaccountingBeispielRE-20140703_502.pdf",
    "zugferd/pdfs/ZUGFeRDv1/correct/Intarsys/ZUGFeRD_1p0_EXTENDED_Rechnungskorrektur.pdf",
]


@pytest.fixture(scope="module")
def routers() -> dict[str, Router]:
    settings = Settings()
    return {"model tier": Router.from_settings(settings), "rules only": Router.rules_only(settings)}


@pytest.mark.parametrize("tier", ["model tier", "rules only"])
def test_the_childs_extraction_is_this_process_extraction(
    shared_data: Path, routers: dict[str, Router], tier: str
) -> None:
    router = routers[tier]
    reader = LocalReader.of(router)
    assert reader is not None and reader.trained == (tier == "model tier")
    for name in REAL:
        path = shared_data / name
        document, extraction = read_pdf(path, LIMITS, reader)
        assert extraction is not None
        assert extraction == extract(document, router)
        assert document == load_pdf(path, LIMITS)


@pytest.mark.parametrize(
    ("builder", "codes"),
    [
        (hostile.decompression_bomb, {"ok", "TOO_LARGE", "MEMORY_LIMIT", "MALFORMED"}),
        (hostile.many_pages, {"TOO_MANY_PAGES"}),
        (hostile.deeply_nested, {"ok", "MALFORMED"}),
    ],
    ids=["decompression-bomb", "10000-pages", "deeply-nested"],
)
def test_hostile_files_end_as_without_a_reader(
    tmp_path: Path, routers: dict[str, Router], builder, codes: set[str]
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "hostile.pdf"
    path.write_bytes(builder())
    started = time.monotonic()
    try:
        read_pdf(path, LIMITS, LocalReader.of(routers["model tier"]))
        outcome = "ok"
    except IngestError as error:
        outcome = error.code
    assert time.monotonic() - started < 60
    assert outcome in codes


def test_a_timeout_in_the_reading_child_is_final(shared_data: Path, routers: dict[str, Router]) -> None:
    slow = shared_data / "pdf-varied" / "issue840.pdf"  # ~1.5 s of text extraction
    started = time.monotonic()
    with pytest.raises(IngestError) as caught:
        read_pdf(slow, ExtractSettings(parse_timeout_seconds=0.05), LocalReader.of(routers["model tier"]))
    assert caught.value.code == "TIMEOUT"
    assert time.monotonic() - started < 1.5  # one deadline, not a second parse in a plain child


def test_a_child_too_small_for_the_model_still_parses_the_document(
    shared_data: Path, routers: dict[str, Router]
) -> None:
    # 200 MB: room for a parser (~85 MB of address space) but not for NumPy and the model (~300 MB), whose
    # imports hang there rather than fail: the document must still be read, without waiting for the deadline
    small = ExtractSettings(max_memory_bytes=200 * 1024**2, ocr_enabled=False)
    path = shared_data / REAL[0]
    started = time.monotonic()
    document, extraction = read_pdf(path, small, LocalReader.of(routers["model tier"]))
    assert time.monotonic() - started < 20
    assert extraction is None  # read by the caller, as before extraction moved into the children
    assert document == load_pdf(path, LIMITS)


def test_no_reader_for_a_router_with_an_endpoint_tier(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"ENABLED": "true", "BASE_URL": "http://127.0.0.1:9/v1", "MODEL": "local-test"}.items():
        monkeypatch.setenv(f"DOCVAL_EXTRACT__ROUTER__LOCAL__{name}", value)
    router = Router.from_settings(load_settings())
    assert router.tiers and LocalReader.of(router) is None  # text may be sent only after ingest is ledgered
    router.close()


@pytest.mark.parametrize(("preload", "loaded"), [("extractors.local", True), ("", False)])
def test_a_reading_child_imports_its_reader_while_it_starts(preload: str, loaded: bool) -> None:
    """The reader's imports (NumPy, the model: seconds under load) happen under the child's start timeout, so
    they never count against a document's parse deadline; plain parse children stay without them."""
    sandbox = Sandbox(LIMITS.max_memory_bytes, preload=preload)
    try:
        pid = sandbox.run(os.getpid, timeout=60)  # a request that imports nothing
        mapped = Path(f"/proc/{pid}/maps").read_text()
    finally:
        sandbox.close()
    assert ("/numpy/" in mapped) is loaded


def test_no_child_outlives_the_process_that_started_it(shared_data: Path, tmp_path: Path) -> None:
    """A command ends with its sandbox children: a reading child holds NumPy and the model and takes a while to
    tear its interpreter down after its pipe closes, so a finished ``docval process`` seemed to leave processes
    (with its environment, e.g. its temporary Prefect home) behind."""
    marker = f"DOCVAL_TEST_CHILDREN={tmp_path}"
    script = (
        "import sys; from pathlib import Path; from docval.settings import ExtractSettings, Settings;"
        "from extractors.local import LocalReader; from extractors.pdf import read_pdf;"
        "from extractors.router import Router;"
        "reader = LocalReader.of(Router.from_settings(Settings()));"
        "assert read_pdf(Path(sys.argv[1]), ExtractSettings(ocr_enabled=False), reader)[1] is not None"
    )
    env = os.environ | {"DOCVAL_TEST_CHILDREN": str(tmp_path), "DOCVAL_DATA_DIR": str(tmp_path / "var")}
    subprocess.run([sys.executable, "-c", script, str(shared_data / REAL[0])], env=env, check=True)
    left = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker.encode() in (proc / "environ").read_bytes().split(b"\0"):
                left.append(int(proc.name))
        except OSError:
            continue
    assert left == []


def test_the_reader_for_settings_is_the_reader_of_their_router(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker starts its children from its settings, before its router (and model) exist: same reader either way."""
    monkeypatch.setenv("DOCVAL_EXTRACT__ROUTER__LOCAL__BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("DOCVAL_EXTRACT__ROUTER__LOCAL__MODEL", "local-test")
    for enabled in ("false", "true"):
        monkeypatch.setenv("DOCVAL_EXTRACT__ROUTER__LOCAL__ENABLED", enabled)
        for trained in ("true", "false"):
            monkeypatch.setenv("DOCVAL_EXTRACT__ROUTER__TRAINED_MODEL", trained)
            settings = Settings()
            router = Router.from_settings(settings, mask=lambda text: text)  # type: ignore[arg-type, return-value]
            assert LocalReader.for_settings(settings.extract.router) == LocalReader.of(router)
            router.close()


def test_started_children_wait_idle_with_the_model_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    import extractors.sandbox as sandboxes
    from extractors import local
    from extractors.model import load_model

    monkeypatch.setattr(sandboxes, "_SANDBOXES", {})  # a pool of this test's own
    reader = LocalReader.for_settings(Settings().extract.router)
    assert reader is not None and reader.trained
    reader.start_children(LIMITS)
    pool = sandboxes.sandbox_for(LIMITS.max_memory_bytes, "read", preload="extractors.local")
    deadline = time.monotonic() + 120
    while len(pool._idle) < 2:  # both started and answered their load request
        assert time.monotonic() < deadline, "the children did not start"
        time.sleep(0.1)
    try:
        loaded = [child.call(local._load, (reader,), timeout=30) for child in pool._idle]
    finally:
        pool.close()
    assert loaded == [load_model().version] * 2  # each child holds the shipped model
