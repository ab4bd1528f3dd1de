"""Hostile-input count: every malformed, encrypted, odd and generated file through ingest, never a crash or hang.

Each input ends in one outcome: text, a clean result without text, quarantine
with an ``IngestError`` reason code, "not claimed" (the inbox watcher left it
alone), a crash (any other exception) or a hang (no answer within the
configured limits plus a margin). Inbox cases go through the real claim path
without Prefect: ``flows.watch.InboxWatcher`` finds them, ``flows.claim.claim_file``
moves them into ``work/`` (an OSError there is what the worker quarantines as
UNREADABLE), then ``extractors.load_pdf`` reads the claimed file. A sampler
thread records the peak RSS of this process and its sandbox children; the
wall time per file is set against bare ``pypdf`` on the files it opens,
measured in the same run in a separate process (so a bomb there cannot
inflate our memory figure); both yardsticks live in ``robustness_measure.py``.

    python benchmarks/robustness.py            # everything
    python benchmarks/robustness.py --limit 5  # 5 files per corpus folder
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import hostile_pdfs as hostile
from benchmarks.robustness_measure import baseline_seconds, sampling
from docval.settings import ExtractSettings
from extractors.pdf import IngestError, load_pdf
from flows.claim import claim_file, work_pdf
from flows.watch import InboxWatcher

SHARED = Path(os.environ.get("DOCVAL_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
MALFORMED_GROUPS = ("qpdf-qtest", "qpdf-fuzz", "encrypted")
METADATA_SUFFIXES = (".md", ".json", ".expected.out")  # labels that travel with the corpora, not inputs
HANG_MARGIN_SECONDS = 15.0
MEMORY_BAR_BYTES = 1024**3
SOURCES = ("malformed", "varied", "generated", "inbox")
MiB = 1024 * 1024


@dataclass
class Outcome:
    source: str
    name: str
    kind: str  # text | no-text | quarantined | not-claimed | crashed | hung
    reason: str = ""
    seconds: float = 0.0
    path: Path | None = None
    ocr: bool = False  # some page's text came from tesseract (so bare pypdf is no fair baseline for it)


def hang_bound(limits: ExtractSettings) -> float:
    """The longest ``load_pdf`` may take by its own limits: one parse plus the OCR page budget, plus a margin."""
    ocr = limits.max_ocr_pages * (limits.ocr_page_timeout_seconds + 5) if limits.ocr_enabled else 0.0
    return limits.parse_timeout_seconds + ocr + HANG_MARGIN_SECONDS


def bounded(call: Callable[[], object], seconds: float) -> tuple[str, object]:
    """Run ``call`` in a daemon thread: ("ok", value), ("raised", exc) or ("hung", None) after ``seconds``."""
    box: list[tuple[str, object]] = []

    def target() -> None:
        try:
            box.append(("ok", call()))
        except BaseException as exc:  # classified by the caller: typed error or crash
            box.append(("raised", exc))

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    return box[0] if box else ("hung", None)


def ingest(source: str, name: str, path: Path, limits: ExtractSettings) -> Outcome:
    started = time.perf_counter()
    status, value = bounded(lambda: load_pdf(path, limits), hang_bound(limits))
    seconds = time.perf_counter() - started
    if status == "hung":
        return Outcome(source, name, "hung", seconds=seconds)
    if status == "raised":
        if isinstance(value, IngestError):
            return Outcome(source, name, "quarantined", value.code, seconds)
        return Outcome(source, name, "crashed", type(value).__name__, seconds)
    has_text = bool(value.text.strip())  # type: ignore[attr-defined]
    ocr = any(page.source == "ocr" for page in value.pages)  # type: ignore[attr-defined]
    return Outcome(source, name, "text" if has_text else "no-text", seconds=seconds, path=path, ocr=ocr)


def corpus_files(limit: int | None) -> Iterator[tuple[str, Path]]:
    """Every input file of pdf-malformed (by group, encrypted included) and pdf-varied; ``limit`` per group."""
    groups = [("malformed", SHARED / "pdf-malformed" / group) for group in MALFORMED_GROUPS]
    groups.append(("varied", SHARED / "pdf-varied"))
    for source, folder in groups:
        files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(METADATA_SUFFIXES))
        yield from ((source, path) for path in files[:limit])


def generated_files(folder: Path) -> list[tuple[str, Path]]:
    builders: dict[str, Callable[[], bytes]] = {
        "decompression-bomb.pdf": hostile.decompression_bomb,
        "10000-pages.pdf": hostile.many_pages,
        "10000-pages-count-lies.pdf": lambda: hostile.many_pages(declared=3),
        "deeply-nested.pdf": hostile.deeply_nested,
        "javascript-and-exe.pdf": hostile.with_javascript_and_attachment,
        "zero-bytes.pdf": lambda: b"",
        "not-a-pdf.pdf": lambda: b"PK\x03\x04" + os.urandom(4096),
    }
    made = []
    for name, build in builders.items():
        path = folder / name
        path.write_bytes(build())
        made.append(("generated", path))
    return made


# --- the inbox: hostile names and file types through the real claim path ---------------------------


def hostile_inbox(inbox: Path, outside: Path) -> dict[str, str]:
    """Drop hostile entries into ``inbox``; returns inbox entry name -> case label. ``outside`` is off-limits."""
    (outside / "secret.pdf").write_bytes(hostile.text_pdf("outside the inbox: symlink target"))
    (outside / "hard.pdf").write_bytes(hostile.text_pdf("outside the inbox: hard link target"))
    (outside / "secret.txt").write_bytes(b"root:x:0:0:not a pdf\n")
    named = {
        "..\\..\\backslash-traversal.pdf": "name with ..\\ (a name cannot hold '/')",
        "..%2F..%2Fencoded-traversal.pdf": "name with encoded ../",
        "..dotdot-prefix.pdf": "name starting with ..",
        "ctl\x01\x1b[31m\nnewline.pdf": "control characters and newline",
        "\u202eflipped-fdp.pdf": "bidi override character",
        "x" * 251 + ".pdf": "255-byte name",
    }
    cases = {}
    for name, label in named.items():
        (inbox / name).write_bytes(hostile.text_pdf(f"inbox case: {label}"))
        cases[name] = label
    raw = os.fsencode(str(inbox)) + b"/not-utf8-\xff\xfe.pdf"
    with open(raw, "wb") as handle:
        handle.write(hostile.text_pdf("inbox case: non-UTF-8 name"))
    cases[os.fsdecode(raw).rsplit("/", 1)[1]] = "non-UTF-8 bytes in name"
    links = {
        "symlink-outside.pdf": ("symlink to a PDF outside the inbox", lambda p: p.symlink_to(outside / "secret.pdf")),
        "symlink-etc.pdf": ("symlink to a non-PDF outside", lambda p: p.symlink_to(outside / "secret.txt")),
        "symlink-dangling.pdf": ("dangling symlink", lambda p: p.symlink_to(outside / "missing.pdf")),
        "hardlink-outside.pdf": ("hard link to a file outside the inbox", lambda p: os.link(outside / "hard.pdf", p)),
        "fifo.pdf": ("FIFO", lambda p: os.mkfifo(p)),
        "zero-bytes-inbox.pdf": ("zero-byte file", lambda p: p.write_bytes(b"")),
    }
    for name, (label, make) in links.items():
        make(inbox / name)
        cases[name] = label
    return cases


def snapshot(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """Names, sizes, mtimes and contents below ``folder``: any write there shows up as a difference."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns, p.read_bytes())
        for p in folder.rglob("*")
        if p.is_file() and not p.is_symlink()
    }


def unblock(path: Path) -> None:
    """Let a reader stuck on a FIFO see end-of-file, so a hung claim thread can finish."""
    with suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


def run_inbox(root: Path, limits: ExtractSettings) -> tuple[list[Outcome], dict[str, int]]:
    data, outside = root / "data", root / "outside"
    inbox, work = data / "inbox", data / "work"
    for folder in (inbox, work, outside):
        folder.mkdir(parents=True)
    outcomes = []
    with InboxWatcher(inbox, stable_seconds=0.0) as watcher:
        cases = hostile_inbox(inbox, outside)
        before = snapshot(outside)
        time.sleep(0.5)  # let watchdog deliver the creation events, as for a real drop
        watcher.ready(now=time.monotonic() + 10)  # first sight: sizes recorded
        ready = watcher.ready(now=time.monotonic() + 20)  # unchanged since: stable, handed out
    followed = 0
    for index, path in enumerate(ready):
        # One work folder per case, so a claim that finishes late (the FIFO, once unblocked) cannot turn
        # another case into a duplicate of it. The rename stays on the same file system, as in the worker.
        case_work = work / str(index)
        case_work.mkdir()
        label = cases.get(path.name, path.name)
        with suppress(OSError):
            followed += path.is_symlink() or path.lstat().st_nlink > 1
        started = time.perf_counter()
        status, value = bounded(
            lambda p=path, w=case_work: claim_file(p, w, known=lambda _doc: False), HANG_MARGIN_SECONDS
        )
        if status == "hung":
            unblock(path)
            outcomes.append(Outcome("inbox", label, "hung", "claim", time.perf_counter() - started))
        elif status == "raised" and isinstance(value, OSError):
            outcomes.append(Outcome("inbox", label, "quarantined", "UNREADABLE", time.perf_counter() - started))
        elif status == "raised":
            outcomes.append(Outcome("inbox", label, "crashed", type(value).__name__, time.perf_counter() - started))
        else:
            claimed, _new = value  # type: ignore[misc]
            outcome = ingest("inbox", label, work_pdf(case_work, claimed.doc), limits)
            outcome.seconds = time.perf_counter() - started  # claim included
            outcomes.append(outcome)
    handed = {path.name for path in ready}
    outcomes += [Outcome("inbox", label, "not-claimed") for name, label in cases.items() if name not in handed]
    changed = before != snapshot(outside)
    return outcomes, {"outside_changed": int(changed), "links_followed": followed}


# --- report --------------------------------------------------------------------------------------------


def table(outcomes: list[Outcome]) -> list[str]:
    rows: list[tuple[str, Callable[[Outcome], bool]]] = [
        ("tried", lambda o: True),
        ("yielded text", lambda o: o.kind == "text"),
        ("  of which via OCR", lambda o: o.kind == "text" and o.ocr),
        ("clean, no text", lambda o: o.kind == "no-text"),
    ]
    reasons = sorted({o.reason for o in outcomes if o.kind == "quarantined"})
    rows += [(f"quarantined {code}", lambda o, c=code: o.kind == "quarantined" and o.reason == c) for code in reasons]
    rows += [(kind, lambda o, k=kind: o.kind == k) for kind in ("not-claimed", "crashed", "hung")]
    lines = [f"{'outcome':<28}" + "".join(f"{s:>11}" for s in SOURCES) + f"{'total':>8}"]
    for label, match in rows:
        counts = Counter(o.source for o in outcomes if match(o))
        lines.append(f"{label:<28}" + "".join(f"{counts[s]:>11}" for s in SOURCES) + f"{sum(counts.values()):>8}")
    return lines


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="at most N files per corpus folder")
    parser.add_argument("--no-ocr", action="store_true", help="skip OCR of pages without a text layer")
    args = parser.parse_args(argv)
    limits = ExtractSettings(ocr_enabled=not args.no_ocr)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="docval-robust-") as tmp, sampling() as peak:
        root = Path(tmp)
        (root / "generated").mkdir()
        files = [*corpus_files(args.limit), *generated_files(root / "generated")]
        outcomes = [ingest(source, path.name, path, limits) for source, path in files]
        inbox_outcomes, inbox_checks = run_inbox(root / "inbox-run", limits)
        outcomes += inbox_outcomes
    total_seconds = time.perf_counter() - started
    opened = [o for o in outcomes if o.kind == "text" and not o.ocr and o.source in ("malformed", "varied")]
    base = baseline_seconds([o.path for o in opened if o.path is not None])
    pairs = [(o.seconds, b) for o, b in zip(opened, base, strict=True) if b is not None]
    timed = [o.seconds for o in outcomes if o.kind != "not-claimed"]
    crashed = sum(o.kind == "crashed" for o in outcomes)
    hung = sum(o.kind == "hung" for o in outcomes)
    figures: dict[str, object] = {
        "tried": len(outcomes),
        "crashed": crashed,
        "hung": hung,
        "by_source": {s: dict(Counter(o.kind for o in outcomes if o.source == s)) for s in SOURCES},
        "outside_changed": inbox_checks["outside_changed"],
        "links_followed": inbox_checks["links_followed"],
        "peak_rss_worker": peak.worker,
        "peak_rss_child": peak.child,
        "peak_rss_together": peak.together,
        "median_s": statistics.median(timed),
        "max_s": max(timed),
        "outcomes": [(o.source, o.name, o.kind, o.reason) for o in outcomes],
    }
    bars = {
        "crashed == 0": crashed == 0,
        "hung == 0": hung == 0,
        "nothing outside the data dir written": inbox_checks["outside_changed"] == 0,
        "peak RSS worker + parse children < 1 GiB": peak.together < MEMORY_BAR_BYTES,
    }
    figures["bars_ok"] = all(bars.values())
    load = os.getloadavg()
    print(
        f"robustness: {len(outcomes)} inputs in {total_seconds:.0f} s, OCR {'off' if args.no_ocr else 'on'}, "
        f"load average {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} on {os.cpu_count()} cores"
    )
    print("\n".join(table(outcomes)))
    print("\ngenerated and inbox cases:")
    for o in outcomes:
        if o.source in ("generated", "inbox"):
            print(f"  {o.source:<9} {o.name[:48].encode('unicode_escape').decode():<50} {o.kind} {o.reason}".rstrip())
    for o in outcomes:
        if o.kind in ("crashed", "hung"):
            print(f"  !! {o.kind}: {o.source} {o.name!r} {o.reason} after {o.seconds:.1f} s")
    print(f"\nlinks out of the inbox followed when reading (not written): {inbox_checks['links_followed']}")
    print(
        f"peak RSS: worker {peak.worker / MiB:.0f} MiB, largest parse child {peak.child / MiB:.0f} MiB, "
        f"together {peak.together / MiB:.0f} MiB ({peak.samples} samples)"
    )
    print(
        f"wall per input: median {statistics.median(timed):.3f} s, max {max(timed):.1f} s "
        f"(hang bound {hang_bound(limits):.0f} s)"
    )
    if pairs:
        ours, bare = statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)
        figures["baseline_ratio"] = ours / bare
        print(
            f"on the {len(pairs)} text-layer corpus files bare pypdf opens: docval median {ours:.3f} s / max "
            f"{max(p[0] for p in pairs):.2f} s, bare pypdf median {bare:.3f} s / max {max(p[1] for p in pairs):.2f} s"
            f", ratio of medians {ours / bare:.1f}x"
        )
    for name, ok in bars.items():
        print(f"bar {name}: {'ok' if ok else 'BROKEN'}")
    return figures


if __name__ == "__main__":
    sys.exit(0 if main().get("bars_ok", True) else 1)
