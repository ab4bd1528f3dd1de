"""Train the model tier's field scorer and its calibration, reproducibly (same seed, same weights).

Data: generated invoices in layouts 0-6 (``extractors/layouts.py``; layouts
7 and 8 are kept out for evaluation), scanned renders of other generated
invoices in the same layouts (read by OCR: they only fit the ``ocr:``
calibration curves, the classifiers train on text PDFs), plus the shared real corpora (ZUGFeRD,
einvoice-train, invoice2data). Generated KYC forms in KYC layouts 0-2 (text and scanned; 3-4 are
kept for ``benchmarks/kyc_bench.py``) fit the ``kyc:`` curves of the rules' confidences on those
forms. Calibration curves are fitted on grouped cross-validation folds (a template's documents are
always in one fold; ``--cv loto``: each template is a fold of its own, leave-one-template-out), then
the final model is trained on everything and written with the curves to
``extractors/model/data``. ``--report FILE`` writes the held-out answers for
``benchmarks/model_bench.py``. Time on 2 cores: see benchmarks/README.md.

    nice -n 10 .venv/bin/python scripts/train_extractor.py
"""

from __future__ import annotations

import os

# One OpenMP thread: the same result on any machine and no fight with other work on a small host.
os.environ["OMP_NUM_THREADS"] = "1"

import argparse
import json
import time
from pathlib import Path

import sklearn

from docval.settings import ExtractSettings
from extractors.model.corpus import Sample, corpus_samples, generated_samples, kyc_samples, scanned_samples
from extractors.model.scorer import FieldModel, save_model
from extractors.model.train import (
    cross_validate,
    folds_by_group,
    folds_per_template,
    kyc_calibration,
    train,
    weights_digest,
)
from extractors.printed import is_printed

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
CORPORA = ("zugferd", "einvoice-train", "invoices-invoice2data")
TRAIN_LAYOUTS = (0, 1, 2, 3, 4, 5, 6)
KYC_TRAIN_LAYOUTS = (0, 1, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--generated", type=int, default=1200, help="generated training invoices")
    parser.add_argument("--scanned", type=int, default=300, help="scanned training invoices (read by OCR)")
    parser.add_argument("--kyc", type=int, default=300, help="generated KYC forms (text) for the kyc: curves")
    parser.add_argument("--kyc-scanned", type=int, default=150, help="scanned KYC forms for the ocr:kyc: curves")
    parser.add_argument("--folds", type=int, default=5, help="folds of --cv grouped")
    parser.add_argument(
        "--cv",
        choices=("grouped", "loto"),
        default="grouped",
        help="grouped: --folds folds by template hash; loto: leave one template out (one fold per template)",
    )
    parser.add_argument("--no-corpora", action="store_true", help="generated data only (tests)")
    parser.add_argument("--out", type=Path, default=ROOT / "extractors" / "model" / "data")
    parser.add_argument("--report", type=Path, help="write held-out answers here (JSON)")
    args = parser.parse_args()

    started, cpu = time.perf_counter(), time.process_time()
    settings = ExtractSettings()
    samples = generated_samples(args.seed, args.generated, settings, TRAIN_LAYOUTS)
    # other invoices than the text ones (seed + 1), so the scans add layouts' variety, not copies
    samples += scanned_samples(args.seed + 1, args.scanned, settings, TRAIN_LAYOUTS)
    if not args.no_corpora:
        for corpus in CORPORA:
            samples += corpus_samples(SHARED / corpus, settings)
    read = time.perf_counter() - started
    folds = folds_per_template(samples) if args.cv == "loto" else folds_by_group(samples, args.folds)
    held, calibration = cross_validate(samples, folds, args.seed)
    forms = kyc_samples(args.seed + 2, args.kyc, settings, KYC_TRAIN_LAYOUTS, scans=False)
    forms += kyc_samples(args.seed + 3, args.kyc_scanned, settings, KYC_TRAIN_LAYOUTS, scans=True)
    calibration.curves.update(kyc_calibration(forms).curves)
    classifiers = train(samples, args.seed)
    model = FieldModel.of(classifiers, calibration, weights_digest(classifiers))
    info = {
        "seed": args.seed,
        "generated": args.generated,
        "scanned": args.scanned,
        "layouts": list(TRAIN_LAYOUTS),
        "kyc": args.kyc,
        "kyc_scanned": args.kyc_scanned,
        "kyc_layouts": list(KYC_TRAIN_LAYOUTS),
        "corpora": [] if args.no_corpora else list(CORPORA),
        "documents": len(samples),
        "cv": args.cv,
        "folds": len(folds),
        "sklearn": sklearn.__version__,
    }
    save_model(model, args.out, info)
    if args.report:
        rows = [
            {
                "doc_id": s.doc_id,
                "source": s.source,
                "group": s.group,
                "truth": s.truth,
                "printed": _printed(s),
                "rules": {k: v.value for k, v in s.rules.items() if not isinstance(v.value, list)},
                "model": held.model_values(s.doc_id),
                "routed": {k: [v.value, v.confidence] for k, v in held.routed.get(s.doc_id, {}).items()},
            }
            for s in samples
        ]
        args.report.write_text(json.dumps(rows, default=str), encoding="utf-8")
    print(
        f"{len(samples)} documents ({read:.0f} s reading), model {model.version}, calibration {calibration.version}; "
        f"wall {time.perf_counter() - started:.0f} s, CPU {time.process_time() - cpu:.0f} s (this process)"
    )


def _printed(sample: Sample) -> dict[str, bool]:
    """Per labelled field: is its truth value printed on the visible page (the "printed values" reading)?"""
    text = "\n".join(page.text for page in sample.pages)
    return {name: is_printed(name, str(value), text) for name, value in sample.truth.items() if value is not None}


if __name__ == "__main__":
    main()
