"""Joint reading of the totals: of the page's amounts, the (net, tax, grand) triple that adds up and scores best.

Each total's classifier ranks the page's amounts on its own, and on a layout it has never seen its best net
can be the tax line's amount or a line item's. The invoice's arithmetic ties the three together (net + tax =
grand, within a cent, the tax the smaller addend as rates are under 100 %), so the reading is the consistent
triple with the highest joint score (the product of the three classifiers' scores), not three separate
best guesses that then raise a false ``TOTAL_MISMATCH``.

What keeps a wrong printed total caught: only amounts each classifier itself rates as plausibly that total
(score ≥ ``PLAUSIBLE``, among its ``SHORTLIST`` best) take part. An invoice whose printed grand total was
altered has no consistent triple among its labelled totals, keeps its independent reading, and validation,
which compares what is printed, flags it. Nothing here computes a value: every answer is a printed amount.

Where no triple of plausible amounts adds up, a scan's tax line is often one no classifier rated at all (a
layout never seen, a label OCR misread), while the net and grand total beside it were read well and the tax is
printed. ``complete_totals`` then takes the printed amount that two relations both call for: net + tax = grand
and tax = net × a rate printed on the page. A grand total altered after the fact satisfies no such pair (the
tax it asks for is off by the alteration, the net it asks for is off the rate), so it stays flagged; and the
grand total itself is never completed, only read. The completed total is named so the router never
auto-accepts it (``tier.calibrated``): no classifier read it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from itertools import product

import numpy as np

__all__ = [
    "PLAUSIBLE",
    "SHORTLIST",
    "TOTALS",
    "adds_up",
    "balances",
    "complete_totals",
    "joint_totals",
    "printed_rates",
]

TOTALS = ("net_total", "tax_total", "grand_total")
PLAUSIBLE = 0.01  # an amount its classifier rates below this is not read as that total, consistent or not
SHORTLIST = 8  # per total, the best-scoring amounts tried (a page rarely labels more as one total)
_CENT = Decimal("0.011")
_PERCENT = re.compile(r"(?<![\d.,])(\d{1,2}(?:[.,]\d{1,2})?) ?%")


def adds_up(net: Decimal, tax: Decimal, grand: Decimal) -> bool:
    """net + tax = grand within a cent (``balances``), grand not zero, and the tax the smaller addend: a triple
    of amounts that reads as totals."""
    return balances(net, tax, grand) and grand != 0 and abs(tax) <= abs(net)


def balances(net: Decimal, tax: Decimal, grand: Decimal) -> bool:
    """net + tax = grand within a cent."""
    return abs(net + tax - grand) <= _CENT


def joint_totals(values: Sequence[Decimal], scores: Mapping[str, np.ndarray]) -> dict[str, int] | None:
    """Per total, the index into ``values`` of the best-scoring consistent triple; None when no triple of
    plausible amounts adds up (or a total has no scores), so each total keeps its own best amount.

    ``values[i]`` is the i-th amount candidate and ``scores[name][i]`` its score for total ``name``."""
    if any(name not in scores for name in TOTALS):
        return None
    shortlists = [_plausible(scores[name]) for name in TOTALS]
    best: tuple[float, tuple[int, int, int]] | None = None
    for net, tax, grand in product(*shortlists):
        if not adds_up(values[net], values[tax], values[grand]):
            continue
        joint = float(scores["net_total"][net] * scores["tax_total"][tax] * scores["grand_total"][grand])
        if best is None or joint > best[0]:
            best = (joint, (net, tax, grand))
    return None if best is None else dict(zip(TOTALS, best[1], strict=True))


def printed_rates(texts: Iterable[str]) -> set[Decimal]:
    """Every percentage from 0 to 100 printed in ``texts`` ('19%', '(21 %)', '5,5%'): the rates a tax may be."""
    rates = {Decimal(match.group(1).replace(",", ".")) for text in texts for match in _PERCENT.finditer(text)}
    return {rate for rate in rates if 0 < rate < 100}


def complete_totals(
    values: Sequence[Decimal], scores: Mapping[str, np.ndarray], rates: set[Decimal]
) -> tuple[dict[str, int], str] | None:
    """Where ``joint_totals`` finds no triple: the best one whose grand total and one addend are plausible and
    whose other addend is any printed amount that both adds up and is one of ``rates`` percent of the net
    (within a cent), with the name of that completed addend; None where no such amount is printed.

    The best is the one whose two read totals score highest together (the completed one scores next to nothing
    by definition); of equals, the completed amount its own classifier rates highest."""
    if not rates or any(name not in scores for name in TOTALS):
        return None
    net_total, tax_total, grand_total = TOTALS
    best: tuple[tuple[float, float], dict[str, int], str] | None = None
    for grand in _plausible(scores[grand_total]):
        for read, missing in ((net_total, tax_total), (tax_total, net_total)):
            for index in (i for i in _plausible(scores[read]) if i != grand):  # one printed amount is one total
                needed = values[grand] - values[index]
                net, tax = (values[index], needed) if read == net_total else (needed, values[index])
                if not adds_up(net, tax, values[grand]) or all(abs(net * r / 100 - tax) > _CENT for r in rates):
                    continue
                for other in (i for i, value in enumerate(values) if value == needed and i not in (grand, index)):
                    rank = (float(scores[grand_total][grand] * scores[read][index]), float(scores[missing][other]))
                    if best is None or rank > best[0]:
                        best = (rank, {grand_total: grand, read: index, missing: other}, missing)
    return None if best is None else (best[1], best[2])


def _plausible(field_scores: np.ndarray) -> list[int]:
    """Indices of the field's ``SHORTLIST`` best amounts scoring at least ``PLAUSIBLE``, best first."""
    order = np.argsort(-field_scores, kind="stable")[:SHORTLIST]
    return [int(i) for i in order if field_scores[i] >= PLAUSIBLE]
