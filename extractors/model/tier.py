"""The trained tier inside the router: per field, keep the rules where they are certain, else ask the model.

Decisions are made on calibrated probabilities, in two stages fitted on
held-out folds. Stage one gives each reader alone a probability
(``rules:FIELD``, ``model:FIELD``); the rules' answer stands when it is
certain (≥ ``CERTAIN``), otherwise the model's answer is compared with it.
Stage two is the probability of the answer the router finally returns, for
how it came about: both readers agreed (``agree:FIELD``; scored as if their
errors were independent, 1 − (1 − p_rules)(1 − p_model), so two fairly sure
readers that agree land above either alone, and the curve measures how far
that holds; the higher of the two alone left agreements in thin, noisy
bins between the single readers' levels), only the model
answered (``model_only:FIELD``), or they disagreed and one was preferred
(``rules_won:FIELD``, ``model_won:FIELD``). Fields the model does not read
keep the rules' answer with its stage-one probability.

The totals are also decided together: the model's triple replaces routed totals
that do not add up, and totals that add up (read at three places, so a derived
one does not count) are calibrated on ``sum:FIELD`` curves of their own, since
a total the arithmetic confirms is right far more often than one read alone.

A document with a page read by OCR is routed and calibrated on the OCR curves
(``Calibration.scoped``, ``read_by_ocr``): the whole document, since its totals
check and its readers' agreement span its pages, and OCR noise is the weaker
reading. Its final confidences are then read on through ``ocr:unseen``, as
such confidences held on scans of layouts the curves were not fitted on
(``Calibration.carried``).

A total the model's triple holds only because the arithmetic called for it (``Prediction.completed``,
``joint.complete_totals``) is capped at ``OCR_FALLBACK_CAP`` too: it spares an honest scan a false
``TOTAL_MISMATCH``, but no classifier read it, so a person confirms it.

On such a document the OCR's own evidence has the last word: an answer whose span covers a word tesseract read
with a confidence under ``WEAK_WORD`` is capped at ``OCR_FALLBACK_CAP``, whatever its curve says. Readers that
agree on a misread value (a speckle read as a quote mark before a name, a pound sign read as a dollar) are no
evidence against it; only the OCR's doubt is. A curve fitted on held-out weak readings does not carry: on the
training layouts they were right nearly always at the top of the curve, on unseen layouts 4 of 60 were wrong
(benchmarks/README.md, 2026-12-06).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from docval.domain import ExtractedField, Tier
from extractors.matching import matches
from extractors.model.calibration import OCR_FALLBACK_CAP, Calibration
from extractors.model.candidates import FIELD_KINDS
from extractors.model.joint import TOTALS, adds_up, balances
from extractors.model.scorer import Prediction

__all__ = [
    "CERTAIN",
    "NO_ANSWER",
    "WEAK_WORD",
    "Routed",
    "another_identifier",
    "calibrated",
    "check_key",
    "read_by_ocr",
    "route",
    "totals_add_up",
    "totals_fail",
    "weakly_read",
]

CERTAIN = 0.99  # a rules answer at least this likely to be right is not second-guessed
NO_ANSWER = 0.05  # a field's model-only answers never more often right than this are no answers
WEAK_WORD = 80.0  # tesseract's word confidence (0-100) under which a value counts as weakly read


@dataclass(frozen=True)
class Routed:
    """One field's answer before its final calibration: which reader, how it came about, and the raw score."""

    field: ExtractedField
    source: str  # rules | agree | model_only | rules_won | model_won
    score: float  # stage-one probability the final curve is applied to
    # where a reader read the value on the page, if elsewhere than the field's own span: an agreed answer keeps
    # the rules' field, while the model read it at a printed amount of its own (the rules may have derived it)
    read_at: tuple[int, tuple[int, int]] | None = None
    completed: bool = False  # the model's answer came from ``joint.complete_totals``: never auto-accepted


def route(
    rules: dict[str, ExtractedField], predictions: dict[str, Prediction], calibration: Calibration
) -> dict[str, Routed]:
    """Every field's answer and provenance (uncalibrated in stage two; see ``calibrated``).

    The totals are routed together where the arithmetic can decide: when the per-field answers do not add up
    (net + tax = grand) but the model's three do (``joint.py`` read them as a triple), the model's triple is
    taken whole, so one reader's misread total does not become a false ``TOTAL_MISMATCH``. Every answer is
    still a printed amount, so a printed total that is wrong still fails validation."""
    readers = {
        name: Routed(field, "rules", field.confidence)
        if isinstance(field.value, list)
        else Routed(field, "rules", calibration.probability(f"rules:{name}", field.confidence))
        for name, field in rules.items()
    }
    routed = dict(readers)
    for name in FIELD_KINDS:
        if (guess := predictions.get(name)) is not None:
            routed[name] = _route_one(name, readers.get(name), guess, calibration)
    if not totals_add_up(routed) and totals_add_up(predictions):
        for name in TOTALS:
            routed[name] = _route_one(name, readers.get(name), predictions[name], calibration, prefer_model=True)
    return routed


def _route_one(
    name: str, rules: Routed | None, guess: Prediction, calibration: Calibration, *, prefer_model: bool = False
) -> Routed:
    """The field's answer from the rules' answer and the model's guess. ``prefer_model``: where the two
    differ the model's answer is taken even over certain rules (its totals add up, the routed ones did not)."""
    model_p = calibration.probability(f"model:{name}", guess.score)
    answer = ExtractedField(value=guess.value, confidence=model_p, tier=Tier.LOCAL, page=guess.page, span=guess.span)
    completed = guess.completed
    if rules is None:
        return Routed(answer, "model_only", model_p, completed=completed)
    if rules.score >= CERTAIN and not prefer_model:
        return rules
    if matches(name, str(guess.value), str(rules.field.value)):
        score = 1 - (1 - model_p) * (1 - rules.score)
        return Routed(rules.field, "agree", score, (guess.page, guess.span), completed=completed)
    if prefer_model or model_p > rules.score:
        return Routed(answer, "model_won", model_p, completed=completed)
    return Routed(rules.field, "rules_won", rules.score)


def totals_add_up(answers: Mapping[str, Routed | Prediction]) -> bool:
    """Whether ``answers`` holds all three totals, read at three different places on the page, and net + tax =
    grand (``joint.adds_up``). A total the rules derived from the others (a missing net as grand - tax, located
    at the grand total) is no reading of its own and confirms nothing: a grand total altered after the fact
    would otherwise confirm the net computed from it."""
    values, places = [], set()
    for name in TOTALS:
        answer = answers.get(name)
        read = answer.field if isinstance(answer, Routed) else answer
        if read is None or read.span is None:
            return False
        where = answer.read_at if isinstance(answer, Routed) else None
        places.add(where or (read.page, tuple(read.span)))
        try:
            values.append(Decimal(str(read.value)))
        except InvalidOperation:
            return False
    return len(places) == len(TOTALS) and adds_up(*values)


def totals_fail(answers: Mapping[str, Routed]) -> bool:
    """Whether all three totals are answered and net + tax != grand (by more than a cent), however each was read
    or derived: one of them is wrong, or the document was altered; either way no reader's curve says which, so
    ``calibrated`` caps all three at ``OCR_FALLBACK_CAP``. Two readers agreeing on a misread total is no evidence
    (a scan's 'Net a payer' read as the net by the rules and the model alike, at 0.987; benchmarks/README.md,
    session 23). A cent, as the model's arithmetic (``joint.balances``): a gap validation tolerates
    (``total_tolerance``, 0.02 by default) still holds the document for a person, the safe side."""
    try:
        values = [Decimal(str(answers[name].field.value)) for name in TOTALS]
    except (KeyError, InvalidOperation):
        return False
    return not balances(*values)


def calibrated(
    routed: dict[str, Routed], calibration: Calibration, pages: Sequence[object] = ()
) -> dict[str, ExtractedField]:
    """The fields with their final confidence: stage two's curve for how each answer came about, capped at
    ``OCR_FALLBACK_CAP`` where OCR read a word of the value weakly on one of ``pages`` (``weakly_read``), only
    the arithmetic read a total (``Routed.completed``) or the totals do not add up (``totals_fail``), and on a
    scan read on as such confidences held on layouts the curves were not fitted on (``Calibration.carried``; a
    weak reading stays under the cap).

    Totals that take part in a satisfied check (net + tax = grand) have a curve of their own per field,
    fitted on held-out answers that added up too (``check_key``): a total the arithmetic confirms is right
    far more often than one read alone, and one curve for both would hold the former under the auto-accept
    level. Where that curve had too few held-out points, the source's curve over all answers is used.

    A field whose model-only answers were right on held-out documents at no score (calibrated ceiling below
    ``NO_ANSWER``) gets none: there the model's best guess is one for a field the page does not print (an
    invoice without a due date), not a reading. A low but real probability is kept for a person to check.
    Where this scope has too few held-out model-only answers for a curve of its own, the model's own
    probability in this scope (stage one) stands, on a scan under ``OCR_FALLBACK_CAP`` as any answer without an
    OCR curve: the text curve says nothing about them (on a text layer a due date the rules missed is not
    printed; on a scan, OCR may have garbled the label the rules look for)."""
    fields = {}
    checked = totals_add_up(routed)
    failed = totals_fail(routed)
    for name, answer in routed.items():
        if answer.source == "rules":
            confidence = answer.score
        else:
            key = check_key(answer.source, name, checked)
            if not calibration.has(key):
                key = f"{answer.source}:{name}"
            if answer.source == "model_only" and not calibration.has(key):  # the model's own curve (stage one)
                confidence = min(answer.score, OCR_FALLBACK_CAP) if calibration.scope else answer.score
            elif answer.source == "model_only" and calibration.ceiling(key) < NO_ANSWER:
                continue
            else:
                confidence = calibration.probability(key, answer.score)
        weak = weakly_read(answer.field, pages)
        confidence = calibration.carried(min(confidence, OCR_FALLBACK_CAP) if weak else confidence)
        if weak or answer.completed or (failed and name in TOTALS) or another_identifier(name, answer.field.value):
            confidence = min(confidence, OCR_FALLBACK_CAP)
        fields[name] = answer.field.model_copy(update={"confidence": round(confidence, 4)})
    return fields


def another_identifier(name: str, value: object) -> bool:
    """An invoice number that is a checksum-valid VAT id or IBAN: that identifier, read under the wrong label.

    Never auto-accepted, whatever the curves say (``calibrated`` caps it like a weak OCR word). On invoices
    printed by a browser (benchmarks/html_bench.py) the model twice took the seller's 'NIF: DE809643854' for the
    number beside a plain 'Número: RE3829045', at 1.0: layouts the curves never saw can make any reader sure.
    """
    if name != "invoice_number" or not isinstance(value, str):
        return False
    from stdnum import iban
    from stdnum.eu import vat

    return vat.is_valid(value) or iban.is_valid(value)


def weakly_read(answer: ExtractedField, pages: Sequence[object]) -> bool:
    """Whether a word under the answer's span was read by OCR with a confidence under ``WEAK_WORD`` (never on a
    text layer, whose pages carry no words, nor for a value without a span)."""
    page = next((p for p in pages if getattr(p, "number", None) == answer.page), None)
    if page is None or answer.span is None:
        return False
    start, end = answer.span
    return any(left < end and right > start and c < WEAK_WORD for left, right, c in getattr(page, "words", ()))


def check_key(source: str, name: str, checked: bool) -> str:
    """The calibration key of an answer: ``source:field``; for a total that takes part in a satisfied check,
    ``sum:field`` whatever its source (pooled: per source, too few held-out answers for a curve)."""
    return f"sum:{name}" if checked and name in TOTALS else f"{source}:{name}"


def read_by_ocr(pages: Iterable[object]) -> bool:
    """Whether any page was read by OCR (``PageText.source``; pages without a source, plain text, are not)."""
    return any(getattr(page, "source", "text") == "ocr" for page in pages)
