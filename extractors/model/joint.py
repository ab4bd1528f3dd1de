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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from itertools import product

import numpy as np

__all__ = ["PLAUSIBLE", "SHORTLIST", "TOTALS", "adds_up", "joint_totals"]

TOTALS = ("net_total", "tax_total", "grand_total")
PLAUSIBLE = 0.01  # an amount its classifier rates below this is not read as that total, consistent or not
SHORTLIST = 8  # per total, the best-scoring amounts tried (a page rarely labels more as one total)
_CENT = Decimal("0.011")


def adds_up(net: Decimal, tax: Decimal, grand: Decimal) -> bool:
    """net + tax = grand within a cent, grand not zero, and the tax the smaller addend."""
    return abs(net + tax - grand) <= _CENT and grand != 0 and abs(tax) <= abs(net)


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


def _plausible(field_scores: np.ndarray) -> list[int]:
    """Indices of the field's ``SHORTLIST`` best amounts scoring at least ``PLAUSIBLE``, best first."""
    order = np.argsort(-field_scores, kind="stable")[:SHORTLIST]
    return [int(i) for i in order if field_scores[i] >= PLAUSIBLE]
