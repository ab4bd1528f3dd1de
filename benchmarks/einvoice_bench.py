"""How often ``EINVOICE_MISMATCH`` fires on honest e-invoices, and how often on ones altered after signing-off.

Honest: every shared ZUGFeRD PDF the corpus marks correct, plus
``einvoice-train``, as published. Altered: the same PDFs with one visible
value changed after the XML was embedded — the grand total, the IBAN or the
invoice number — by rewriting the page's own text objects with PDFium
(``alter_pdf``): every text object that prints the value in any style is
replaced by one showing the new value at the same place, and the file is saved
with its attachment untouched. A variant whose value the rewrite cannot reach
(printed split over several text objects, or inside a form XObject) is counted
as "not alterable" and left out of the rate, never as caught.

    python benchmarks/einvoice_bench.py [--limit N]
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pypdfium2
import pypdfium2.raw as pdfium_raw
from stdnum import iban as stdnum_iban

from docval.settings import ExtractSettings, Settings
from extractors.einvoice import parse_einvoice
from extractors.extract import extract
from extractors.pdf import load_pdf
from extractors.printed import is_printed
from extractors.router import Router

SHARED = Path(os.environ.get("DOCVAL_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
ALTERED_FIELDS = ("grand_total", "iban", "invoice_number")
_GROUPINGS = ((",", "."), (".", ","), (" ", ","), ("\u00a0", ","), ("'", "."), ("", "."), ("", ","))


def honest_pdfs(shared: Path = SHARED) -> list[Path]:
    """The corpus PDFs that are correct e-invoices: ZUGFeRD 'correct' ones and all of einvoice-train."""
    paths = []
    for corpus in ("zugferd", "einvoice-train"):
        for entry in json.loads((shared / corpus / "ground_truth.json").read_text()):
            if entry.get("corpus_expected_valid") and entry.get("xml_file"):
                paths.append(shared / corpus / entry["pdf"])
    return paths


def _money_styles(value: Decimal) -> list[str]:
    """The value in each grouping/decimal style, in a fixed order so an old and a new value line up."""
    whole, cents = f"{abs(value):.2f}".split(".")
    grouped = f"{int(whole):,}"
    return [f"{grouped.replace(',', group) if group else whole}{point}{cents}" for group, point in _GROUPINGS]


def _spaced(value: str) -> str:
    """A regex for ``value`` with any whitespace between its characters, standing apart from other digits."""
    body = r"[\s\u00a0]*".join(re.escape(char) for char in value)
    return rf"(?<![0-9]){body}(?![0-9])"


def _replacements(field: str, value: str) -> list[tuple[re.Pattern[str], str]]:
    """(pattern, new text) pairs that rewrite every printed form of ``value`` into another value of ``field``."""
    if field == "grand_total":
        old, new = Decimal(value), Decimal(value) + 100
        pairs = zip(_money_styles(old), _money_styles(new), strict=True)
        return [
            (re.compile(rf"(?<![0-9]){re.escape(a)}(?![0-9])"), b) for a, b in sorted(pairs, key=lambda p: -len(p[0]))
        ]
    if field == "iban":
        compact = re.sub(r"\s", "", value).upper()
        account = _bumped(compact[4:])
        other = compact[:2] + stdnum_iban.calc_check_digits(compact[:2] + "00" + account) + account
        grouped = " ".join(other[i : i + 4] for i in range(0, len(other), 4))
        return [(re.compile(_spaced(compact), re.IGNORECASE), grouped)]
    return [(re.compile(_spaced(value)), _bumped(value))]


def _bumped(value: str) -> str:
    """Another identifier of the same shape: the last character moved on by one."""
    last = value[-1]
    return value[:-1] + (str((int(last) + 1) % 10) if last.isdigit() else ("A" if last.upper() != "A" else "B"))


def _object_text(obj: pypdfium2.PdfObject, textpage: pypdfium2.PdfTextPage) -> str:
    """A text object's text; broken surrogates in odd font maps decode as U+FFFD instead of raising."""
    units = pdfium_raw.FPDFTextObj_GetText(obj.raw, textpage.raw, None, 0)
    if units <= 2:
        return ""
    buffer = ctypes.create_string_buffer(units)
    pdfium_raw.FPDFTextObj_GetText(obj.raw, textpage.raw, ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort)), units)
    return buffer.raw[: units - 2].decode("utf-16-le", "replace")


def _replace_object(pdf: pypdfium2.PdfDocument, page: pypdfium2.PdfPage, obj: pypdfium2.PdfObject, text: str) -> None:
    """Swap a text object for one in Helvetica showing ``text`` at the same matrix and size."""
    size = ctypes.c_float(0)
    pdfium_raw.FPDFTextObj_GetFontSize(obj.raw, ctypes.byref(size))
    font = pdfium_raw.FPDFText_LoadStandardFont(pdf.raw, b"Helvetica")
    new = pdfium_raw.FPDFPageObj_CreateTextObj(pdf.raw, font, size.value or 10.0)
    encoded = ctypes.create_string_buffer((text + "\0").encode("utf-16-le"))
    pdfium_raw.FPDFText_SetText(new, ctypes.cast(encoded, ctypes.POINTER(ctypes.c_ushort)))
    new_obj = pypdfium2.PdfObject(new, pdf=pdf)
    new_obj.set_matrix(obj.get_matrix())
    index = _index_of(page, obj)
    page.remove_obj(obj)
    # At the old object's place in the content stream, so the page's reading order stays as it was.
    if not pdfium_raw.FPDFPage_InsertObjectAtIndex(page.raw, new, index):
        raise RuntimeError("PDFium refused the replacement text object")
    new_obj._detach_finalizer()  # the page owns it now


def _index_of(page: pypdfium2.PdfPage, obj: pypdfium2.PdfObject) -> int:
    address = ctypes.cast(obj.raw, ctypes.c_void_p).value
    for index in range(pdfium_raw.FPDFPage_CountObjects(page.raw)):
        if ctypes.cast(pdfium_raw.FPDFPage_GetObject(page.raw, index), ctypes.c_void_p).value == address:
            return index
    raise LookupError("text object not on its page")


def alter_pdf(source: Path, target: Path, field: str, value: str) -> int:
    """Rewrite every visible printing of ``value`` (an XML value of ``field``) to another value; returns how many
    text objects changed. The embedded XML and everything else in the file stay as they were."""
    pdf = pypdfium2.PdfDocument(source)
    changed = 0
    try:
        for page in pdf:
            textpage = page.get_textpage()
            edits = []
            for obj in page.get_objects(filter=[pdfium_raw.FPDF_PAGEOBJ_TEXT], max_depth=0):
                old = _object_text(obj, textpage)
                new = old
                for pattern, replacement in _replacements(field, value):
                    new = pattern.sub(replacement, new)
                new = new.replace("\u00a0", " ")  # Helvetica (WinAnsi) has no glyph the viewer maps back to U+00A0
                if new != old:
                    edits.append((obj, new))
            for obj, new in edits:
                _replace_object(pdf, page, obj, new)
            if edits:
                page.gen_content()
                changed += len(edits)
        pdf.save(target)
    finally:
        pdf.close()
    return changed


def _mismatched(path: Path, router: Router) -> set[str]:
    document = load_pdf(path, ExtractSettings(ocr_enabled=False))
    findings = extract(document, router).findings
    return {field for f in findings if f.code == "EINVOICE_MISMATCH" for field in f.fields}


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="only the first N honest PDFs (0: all)")
    args = parser.parse_args(argv)
    router = Router.rules_only(Settings())
    paths = honest_pdfs()[: args.limit or None]
    started = time.perf_counter()
    honest_flagged: list[str] = []
    caught: dict[str, list[int]] = {field: [0, 0] for field in ALTERED_FIELDS}  # [caught, alterable]
    not_alterable: dict[str, int] = dict.fromkeys(ALTERED_FIELDS, 0)
    missed: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        for path in paths:
            if fields := _mismatched(path, router):
                honest_flagged.append(f"{path.name}: {sorted(fields)}")
            original = load_pdf(path, ExtractSettings(ocr_enabled=False))
            xml = original.einvoice_xml
            truth = parse_einvoice(xml) if xml else {}
            for field in ALTERED_FIELDS:
                if field not in truth or not is_printed(field, str(truth[field].value), original.text):
                    continue  # nothing on the page to alter
                value = str(truth[field].value)
                target = Path(scratch) / f"{field}-{path.name}"
                alter_pdf(path, target, field, value)
                altered = load_pdf(target, ExtractSettings(ocr_enabled=False))
                if altered.einvoice_xml != xml or is_printed(field, value, altered.text):
                    not_alterable[field] += 1
                    continue
                caught[field][1] += 1
                hit = field in _mismatched(target, router)
                caught[field][0] += hit
                if not hit:
                    missed.append(f"{field} in {path.name}")
    total_caught = sum(c for c, _ in caught.values())
    total_altered = sum(n for _, n in caught.values())
    results = {
        "honest": len(paths),
        "honest_flagged": len(honest_flagged),
        "honest_rate": len(honest_flagged) / max(len(paths), 1),
        "altered": total_altered,
        "altered_caught": total_caught,
        "altered_rate": total_caught / max(total_altered, 1),
        "seconds": time.perf_counter() - started,
    }
    print(
        f"honest e-invoices: {len(honest_flagged)}/{len(paths)} raise EINVOICE_MISMATCH ({results['honest_rate']:.1%})"
    )
    for line in honest_flagged:
        print(f"  {line}")
    for field, (hit, count) in caught.items():
        print(f"altered {field}: {hit}/{count} caught; {not_alterable[field]} not alterable (value out of reach)")
    for line in missed:
        print(f"  missed: {line}")
    rate, seconds = results["altered_rate"], results["seconds"]
    print(f"altered e-invoices: {total_caught}/{total_altered} caught ({rate:.1%}); {seconds:.1f} s")
    return results


if __name__ == "__main__":
    main()
