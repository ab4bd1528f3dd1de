"""Field accuracy over labelled corpora, stored results, and the regression gate behind ``docval eval``.

Two corpora are understood: invoice2data's ``index.json`` + expected JSON
(only keys present in the expected file are labels: a missing key there means
"the template did not extract it", not "absent") and the ZUGFeRD corpus's
``ground_truth.json`` from the embedded XML (complete: ``null`` means the
document has no such value, so predicting one is a false positive). The
e-invoice tier is switched off by default when scoring, since scoring XML
against the XML it came from would mean nothing.

Per field: TP = prediction equals truth; FP = a prediction that is wrong or
where there is no value; FN = a value missed or got wrong; TN = correctly
empty. precision = TP/(TP+FP), recall = TP/(TP+FN), accuracy = (TP+TN)/n.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from docval.settings import Settings
from extractors.einvoice import parse_einvoice, signed_totals
from extractors.extract import extract
from extractors.matching import matches, same_amount, same_name
from extractors.pdf import load_pdf
from extractors.printed import is_printed
from extractors.router import Router

__all__ = [
    "INVOICE2DATA_TRUTH_FIELDS",
    "ZUGFERD_TRUTH_FIELDS",
    "EvalReport",
    "FieldScore",
    "LabelledDocument",
    "compare_to_baseline",
    "evaluate",
    "load_dataset",
    "load_report",
    "matches",
    "report_path",
    "run_eval",
    "save_report",
    "score",
    "score_lines",
]

# invoice2data key -> docval invoice field. "issuer" is left out on purpose: it is the template's display name
# ("Sammy Maystone - For Lines testing"), not a value printed on the document.
INVOICE2DATA_TRUTH_FIELDS = {
    "invoice_number": "invoice_number",
    "date": "issue_date",
    "date_due": "due_date",
    "amount": "grand_total",
    "amount_untaxed": "net_total",
    "amount_tax": "tax_total",
    "currency": "currency",
    "iban": "iban",
}
ZUGFERD_TRUTH_FIELDS = {
    "invoice_id": "invoice_number",
    "issue_date": "issue_date",
    "seller_name": "seller_name",
    "seller_vat_id": "seller_vat_id",
    "buyer_name": "buyer_name",
    "currency": "currency",
    "grand_total": "grand_total",
    "tax_total": "tax_total",
    "tax_basis_total": "net_total",
    "iban_normalized": "iban",
}


@dataclass(frozen=True)
class LabelledDocument:
    doc_id: str
    path: Path
    truth: dict[str, str | None]  # field -> expected value; None = known to be absent
    line_items: list[dict[str, str | None]] | None = None  # from the embedded XML (ZUGFeRD); None = unlabelled


class FieldScore(BaseModel):
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, predicted: bool, expected: bool, correct: bool) -> None:
        if correct and expected:
            self.tp += 1
        elif not predicted and not expected:
            self.tn += 1
        else:
            self.fp += int(predicted)
            self.fn += int(expected)

    def figures(self, labelled: int) -> dict[str, float | int]:
        return {
            "n": labelled,
            "precision": _ratio(self.tp, self.tp + self.fp),
            "recall": _ratio(self.tp, self.tp + self.fn),
            "accuracy": _ratio(self.tp + self.tn, labelled),
        }


class EvalReport(BaseModel):
    dataset: str
    tiers: str
    einvoice: bool
    documents: int
    when: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    fields: dict[str, dict[str, float | int]]
    overall: dict[str, float | int]
    prompt_versions: dict[str, str] = {}
    model_calls: int = 0
    notes: list[str] = []
    # The same figures with truth values that are printed nowhere in the document's text left out (``null``
    # truths stay): what a text-reading tier can reach. The headline figures above still count them as misses.
    printed_fields: dict[str, dict[str, float | int]] = {}
    printed_overall: dict[str, float | int] = {}
    # Why values are missing from the printed-only figure: field -> how many truth values were not found.
    excluded: dict[str, int] = {}
    line_items: dict[str, float | int] = {}

    def table(self) -> str:
        """Per field: (a) accuracy over all truth values, (b) over the truth values printed in the text."""
        lines = [f"{'field':<16}{'n':>5}{'precision':>11}{'recall':>9}{'(a) all':>10}{'(b) printed':>22}"]
        for name, figures in [*self.fields.items(), ("OVERALL", self.overall)]:
            printed = self.printed_overall if name == "OVERALL" else self.printed_fields.get(name)
            shown = f"{printed['accuracy']:>9.3f} (n={printed['n']})" if printed else ""
            lines.append(
                f"{name:<16}{figures['n']:>5}{figures['precision']:>11.3f}{figures['recall']:>9.3f}"
                f"{figures['accuracy']:>10.3f}{shown:>22}"
            )
        if self.printed_overall:
            lines.append(self.summary())
        if self.line_items.get("documents"):
            lines.append(
                "line items: {documents} documents, {truth_rows} rows in the XML, {predicted_rows} extracted; "
                "accuracy amount {amount_accuracy:.3f}, quantity {quantity_accuracy:.3f}, unit_price "
                "{unit_price_accuracy:.3f}, description {description_accuracy:.3f}, whole rows {rows_accuracy:.3f} "
                "(precision {precision:.3f})".format(**self.line_items)
            )
        return "\n".join(lines)

    def summary(self) -> str:
        """The two headline figures and what (b) leaves out, in one line."""
        left_out = sum(self.excluded.values())
        reasons = ", ".join(f"{field} {count}" for field, count in sorted(self.excluded.items()) if count)
        return (
            f"(a) all truth values: {self.overall['accuracy']:.1%} of {self.overall['n']}; "
            f"(b) truth printed in the text: {self.printed_overall['accuracy']:.1%} of {self.printed_overall['n']} "
            f"({left_out} values left out: not found in the page text in any printed form"
            f"{': ' + reasons if reasons else ''})"
        )


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 1.0


def load_dataset(root: Path) -> tuple[str, list[LabelledDocument]]:
    """The labelled text PDFs of a corpus folder; its kind is recognised by its index file."""
    if (root / "index.json").exists():
        return "invoice2data", _invoice2data(root)
    if (root / "ground_truth.json").exists():
        return "zugferd", _zugferd(root)
    raise FileNotFoundError(f"{root} has neither index.json (invoice2data) nor ground_truth.json (zugferd)")


def _invoice2data(root: Path) -> list[LabelledDocument]:
    documents = []
    for entry in json.loads((root / "index.json").read_text(encoding="utf-8")):
        pdfs = [name for name in entry["inputs"] if name.endswith(".pdf")]
        if not pdfs:
            continue  # .txt-only samples are not PDFs: the bar is about text PDFs
        expected = json.loads((root / entry["expected"]).read_text(encoding="utf-8"))[0]
        truth = {
            ours: _text(expected[theirs]) for theirs, ours in INVOICE2DATA_TRUTH_FIELDS.items() if theirs in expected
        }
        documents.append(LabelledDocument(entry["id"], root / pdfs[0], truth))
    return documents


def _zugferd(root: Path) -> list[LabelledDocument]:
    """A document's id is its file's name, or where two repositories ship files of one name (einvoice-train's
    ``FacturX_BASICWL_Test.pdf``, once printed in full, once as one line) its path: held-out answers are kept by
    id, and one file's answers must not stand for the other's."""
    entries = [
        entry
        for entry in json.loads((root / "ground_truth.json").read_text(encoding="utf-8"))
        if entry.get("corpus_expected_valid") and not entry.get("extraction_error")
    ]  # corpus "fail" samples are robustness inputs, not labelled truth
    names = Counter(Path(entry["pdf"]).stem for entry in entries)
    documents = []
    for entry in entries:
        path = Path(entry["pdf"])
        doc_id = path.stem if names[path.stem] == 1 else path.with_suffix("").as_posix()
        read = {ours: _text(entry.get(theirs)) for theirs, ours in ZUGFERD_TRUTH_FIELDS.items()}
        truth = signed_totals(read, _text(entry.get("type_code")))  # the XML's credit-note magnitudes, signed
        documents.append(LabelledDocument(doc_id, root / entry["pdf"], truth, _xml_lines(root, entry)))
    return documents


def _xml_lines(root: Path, entry: dict[str, object]) -> list[dict[str, str | None]]:
    """The line items of the corpus's extracted XML file (the same XML the ground truth was taken from)."""
    field = parse_einvoice((root / str(entry["xml_file"])).read_bytes()).get("line_items")
    rows = field.value if field is not None and isinstance(field.value, list) else []
    return [row for row in rows if any(value is not None for value in row.values())]  # empty = a note line


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def score(
    results: Iterable[tuple[LabelledDocument, dict[str, object]]],
) -> tuple[dict[str, dict[str, float | int]], dict[str, float | int]]:
    """Per-field and overall figures from (document, predicted field values) pairs."""
    per_field: dict[str, FieldScore] = {}
    labelled: dict[str, int] = {}
    for document, predicted in results:
        for field, expected in document.truth.items():
            value = predicted.get(field)
            got = None if value is None else str(value)
            correct = got is not None and expected is not None and matches(field, got, expected)
            per_field.setdefault(field, FieldScore()).add(got is not None, expected is not None, correct)
            labelled[field] = labelled.get(field, 0) + 1
    figures = {field: per_field[field].figures(labelled[field]) for field in sorted(per_field)}
    total = FieldScore(
        tp=sum(s.tp for s in per_field.values()),
        fp=sum(s.fp for s in per_field.values()),
        fn=sum(s.fn for s in per_field.values()),
        tn=sum(s.tn for s in per_field.values()),
    )
    return figures, total.figures(sum(labelled.values()))


LINE_PARTS = ("description", "quantity", "unit_price", "amount")


def score_lines(results: Iterable[tuple[LabelledDocument, object]]) -> dict[str, float | int]:
    """Line items against the XML's: each truth row is paired with an extracted row of the same amount, and each
    part's accuracy is over all truth rows (an unpaired row counts wrong in every part); ``rows`` = all four
    parts right, ``precision`` = fully right rows over all extracted rows. Unlabelled documents are skipped."""
    right = dict.fromkeys((*LINE_PARTS, "rows"), 0)
    truth_rows = predicted_rows = documents = 0
    for document, predicted in results:
        if document.line_items is None:
            continue
        documents += 1
        got = [row for row in predicted if isinstance(row, dict)] if isinstance(predicted, list) else []
        truth_rows += len(document.line_items)
        predicted_rows += len(got)
        for expected, row in _aligned(document.line_items, got):
            ok = {part: _line_part_matches(part, row.get(part), expected.get(part)) for part in LINE_PARTS}
            for part, correct in ok.items():
                right[part] += correct
            right["rows"] += all(ok.values())
    figures: dict[str, float | int] = {
        "documents": documents,
        "truth_rows": truth_rows,
        "predicted_rows": predicted_rows,
    }
    figures |= {f"{part}_accuracy": _ratio(count, truth_rows) for part, count in right.items()}
    figures["precision"] = _ratio(right["rows"], predicted_rows)
    return figures


def _aligned(
    truth: list[dict[str, str | None]], predicted: list[dict[str, object]]
) -> list[tuple[dict[str, str | None], dict[str, object]]]:
    """Each truth row paired with the first unused predicted row of the same amount (rows the text tier skipped
    must not shift every later row into a miss); truth rows without a partner are simply not paired."""
    unused = list(predicted)
    pairs = []
    for expected in truth:
        partner = next(
            (row for row in unused if _line_part_matches("amount", row.get("amount"), expected.get("amount"))), None
        )
        if partner is not None and expected.get("amount") is not None:
            unused.remove(partner)
            pairs.append((expected, partner))
    return pairs


def _line_part_matches(part: str, predicted: object, expected: object) -> bool:
    if predicted is None or expected is None:
        return predicted is None and expected is None
    if part == "description":
        return same_name(str(predicted), str(expected))
    return same_amount(str(predicted), str(expected))


def compare_to_baseline(current: EvalReport, baseline: EvalReport, margin: float) -> list[str]:
    """Fields whose accuracy dropped by more than ``margin`` (absolute), each as a one-line reason."""
    regressions = []
    for field, before in baseline.fields.items():
        after = current.fields.get(field, {"accuracy": 0.0})
        drop = float(before["accuracy"]) - float(after["accuracy"])
        if drop > margin:
            regressions.append(f"{field}: accuracy {before['accuracy']:.3f} -> {after['accuracy']:.3f}")
    overall_drop = float(baseline.overall["accuracy"]) - float(current.overall["accuracy"])
    if overall_drop > margin:
        regressions.append(f"overall: accuracy {baseline.overall['accuracy']:.3f} -> {current.overall['accuracy']:.3f}")
    return regressions


def run_eval(dataset: Path, settings: Settings, *, routed: bool, einvoice: bool) -> EvalReport:
    """Extract every labelled document of the corpus folder ``dataset`` and score it."""
    name, documents = load_dataset(dataset)
    return evaluate(name, documents, settings, routed=routed, einvoice=einvoice)


def evaluate(
    name: str, documents: list[LabelledDocument], settings: Settings, *, routed: bool, einvoice: bool
) -> EvalReport:
    """Extract every labelled document and score it (no PII leaves: the remote tier is off here unless a mask is
    injected, and eval injects none)."""
    router = (
        Router.from_settings(settings) if routed else Router(settings.extract.router, [], day_budget=None, mask=None)
    )
    results: list[tuple[LabelledDocument, dict[str, object]]] = []
    printed_results: list[tuple[LabelledDocument, dict[str, object]]] = []
    line_results: list[tuple[LabelledDocument, object]] = []
    versions: dict[str, str] = {}
    calls = 0
    try:
        for document in documents:
            pdf = load_pdf(document.path, settings.extract)
            extraction = extract(pdf, router, einvoice=einvoice)
            predicted = {field: value.value for field, value in extraction.fields.items()}
            results.append((document, predicted))
            printed_results.append((_printed_only(document, pdf.text), predicted))
            line_results.append((document, predicted.get("line_items")))
            versions.update(extraction.prompt_versions)
            calls += len(extraction.calls)
    finally:
        router.close()
    fields, overall = score(results)
    printed_fields, printed_overall = score(printed_results)
    excluded = {field: figures["n"] - printed_fields.get(field, {"n": 0})["n"] for field, figures in fields.items()}
    notes = (
        []
        if not routed or router.tiers or router.trained
        else ["routed requested but no model tier is enabled: figures = rules"]
    )
    return EvalReport(
        dataset=name,
        tiers="routed" if routed else "rules",
        einvoice=einvoice,
        documents=len(documents),
        fields=fields,
        overall=overall,
        prompt_versions=versions,
        model_calls=calls,
        notes=notes,
        printed_fields=printed_fields,
        printed_overall=printed_overall,
        excluded={field: int(count) for field, count in excluded.items()},
        line_items=score_lines(line_results),
    )


def _printed_only(document: LabelledDocument, text: str) -> LabelledDocument:
    """``document`` without the truth values its text does not print anywhere."""
    truth = {field: value for field, value in document.truth.items() if value is None or is_printed(field, value, text)}
    return LabelledDocument(document.doc_id, document.path, truth)


def report_path(settings: Settings, report: EvalReport, suffix: str) -> Path:
    """``data_dir/eval/<dataset>-<tiers>[-einvoice].<suffix>.json``: one baseline per configuration."""
    variant = f"{report.dataset}-{report.tiers}{'-einvoice' if report.einvoice else ''}"
    return settings.data_dir / "eval" / f"{variant}.{suffix}.json"


def save_report(report: EvalReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.model_dump_json(indent=2), encoding="utf-8")


def load_report(path: Path) -> EvalReport:
    return EvalReport.model_validate_json(path.read_text(encoding="utf-8"))
