"""KYC forms nobody tuned the rules to: field accuracy, false findings on clean forms, defects caught.

Generated onboarding forms (``extractors/kyc_forms.py``: six label languages,
caption synonyms, split names, two-line addresses, national ids of the
country the form names, distractor dates and people) in the chosen layouts go
through the appliance's path: ``load_pdf`` -> ``extract`` (classification
included: a form read as ``other`` has no fields) -> ``validate``. Printed
per field and per language, with the reliability of the fields' confidences.
``--scanned`` reads image-only renders of the same forms through tesseract.

    nice -n 10 .venv/bin/python benchmarks/kyc_bench.py --docs 200 --seed 3 --layouts 0,1,2,3,4
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

from docval.settings import Settings
from extractors.extract import extract
from extractors.kyc_forms import KYC_LAYOUTS, generate_kyc
from extractors.matching import matches
from extractors.model.calibration import reliability
from extractors.pdf import load_pdf
from extractors.router import Router
from extractors.scans import scanned
from extractors.validate import validate

FIELDS = (
    "full_name",
    "date_of_birth",
    "address",
    "email",
    "phone",
    "passport_number",
    "national_id",
    "national_id_scheme",
    "iban",
)
TODAY = date(2026, 12, 1)


def run(count: int, seed: int, layouts: tuple[int, ...], defective: float, *, scans: bool) -> None:
    settings = Settings()
    router = Router.from_settings(settings)
    forms = generate_kyc(seed, count, layouts=layouts, defective=defective)
    if scans:
        forms = [form for form, _ in scanned(forms, seed)]
    right: Counter[str] = Counter()
    labelled: Counter[str] = Counter()
    by_group: Counter[str] = Counter()
    group_total: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    false_codes: Counter[str] = Counter()
    pairs: list[tuple[float, bool]] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="docval-kyc-bench-") as folder:
        for form in forms:
            path = Path(folder) / form.name
            path.write_bytes(form.pdf)
            extraction = extract(load_pdf(path, settings.extract), router)
            counts["read as kyc_form"] += extraction.kind.value == "kyc_form"
            for name in FIELDS:
                expected = form.truth.get(name)
                if expected is None:
                    continue
                field = extraction.fields.get(name)
                ok = field is not None and matches(name, str(field.value), expected)
                right[name] += ok
                labelled[name] += 1
                for group in (form.language, KYC_LAYOUTS[form.layout]):
                    by_group[group] += ok
                    group_total[group] += 1
                if field is not None:
                    pairs.append((field.confidence, ok))
            findings = validate(extraction, settings=settings.extract, today=TODAY)
            codes = {finding.code for finding in findings}
            if form.defect is None:
                counts["clean"] += 1
                counts["clean with a finding"] += bool(codes)
                false_codes.update(codes)
            else:
                counts["defective"] += 1
                counts["defect caught"] += form.findings[0] in codes
    elapsed = time.perf_counter() - started
    kind = "scanned (OCR)" if scans else "text"
    names = ", ".join(f"{index} {KYC_LAYOUTS[index]}" for index in layouts)
    print(f"\n### {count} {kind} KYC forms, seed {seed}, layouts {names}: {elapsed:.0f} s")
    print(f"read as KYC forms: {counts['read as kyc_form']}/{count}")
    print("| field | n | right |\n| --- | --- | --- |")
    for name in FIELDS:
        print(f"| {name} | {labelled[name]} | {right[name] / max(labelled[name], 1):.1%} |")
    total = sum(labelled.values())
    print(f"| **all** | {total} | {sum(right.values()) / total:.1%} |")
    shares = (f"{key} {by_group[key] / group_total[key]:.1%}" for key in sorted(group_total))
    print("by language and layout: " + ", ".join(shares))
    print(
        f"clean forms with a finding: {counts['clean with a finding']}/{counts['clean']} {dict(false_codes)}; "
        f"defects caught: {counts['defect caught']}/{counts['defective']}"
    )
    table = reliability(pairs)
    print(f"confidence of the fields returned: ECE {table.ece:.4f} over {table.count}\n{table.table()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--layouts", default="3,4", help="comma-separated KYC_LAYOUTS indexes")
    parser.add_argument("--defective", type=float, default=0.3)
    parser.add_argument("--scanned", type=int, default=0, help="also this many scanned renders (OCR)")
    args = parser.parse_args()
    layouts = tuple(int(index) for index in args.layouts.split(","))
    if args.docs:
        run(args.docs, args.seed, layouts, args.defective, scans=False)
    if args.scanned:
        run(args.scanned, args.seed, layouts, args.defective, scans=True)


if __name__ == "__main__":
    main()
