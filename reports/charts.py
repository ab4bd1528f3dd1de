"""Charts where a person would rather look than read: volume, outcome mix, findings, cost per tier.

matplotlib with the Agg backend (no display, no fonts fetched), rendered
twice from the same figure: SVG inlined into the HTML and PNG for the PDF.
SVG ids are salted with a constant and metadata dates removed so the same
ledger gives byte-identical files, which keeps the bundle zip deterministic.

A chart is drawn only when it has something to show (an empty axis told
auditors nothing and looked like an error), and each carries a caption that
says its message in words, for readers who do not read charts.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from reports.kpis import Kpis

__all__ = ["Chart", "render_charts"]

# Text stays <text> (fonttype none): glyph outlines are long digit runs that look like card numbers to a PII scan.
plt.rcParams.update({"svg.hashsalt": "docval", "svg.fonttype": "none", "font.size": 9, "figure.dpi": 100})
_COLOR = "#2b5c8a"


@dataclass(frozen=True, slots=True)
class Chart:
    key: str
    title: str
    caption: str
    svg: str
    png: bytes


def _volume(ax: plt.Axes, kpis: Kpis) -> None:
    days = list(kpis.volume_by_day)
    ax.bar(range(len(days)), list(kpis.volume_by_day.values()), color=_COLOR)
    step = max(1, len(days) // 8)
    ax.set_xticks(range(0, len(days), step), [day[5:] for day in days[::step]])
    ax.set_ylabel("documents claimed")


def _outcomes(ax: plt.Axes, kpis: Kpis) -> None:
    labels = list(kpis.outcome_mix)
    ax.barh(labels, list(kpis.outcome_mix.values()), color=["#3a8a4a", "#6aa84f", "#c0392b", "#e67e22", "#999999"])
    ax.invert_yaxis()
    ax.set_xlabel("documents")


def _findings(ax: plt.Axes, kpis: Kpis) -> None:
    ax.barh(list(kpis.findings), list(kpis.findings.values()), color="#c0392b")
    ax.invert_yaxis()
    ax.set_xlabel("findings")


def _cost(ax: plt.Axes, kpis: Kpis) -> None:
    ax.bar([cost.tier for cost in kpis.tier_costs], [float(cost.usd) for cost in kpis.tier_costs], color=_COLOR)
    ax.set_ylabel("USD")


def _volume_caption(kpis: Kpis) -> str | None:
    if not kpis.volume_by_day:
        return None
    busiest = max(kpis.volume_by_day, key=kpis.volume_by_day.__getitem__)
    days = len(kpis.volume_by_day)
    return f"{kpis.ingested} documents over {days} day(s); busiest {busiest} with {kpis.volume_by_day[busiest]}."


def _outcomes_caption(kpis: Kpis) -> str | None:
    parts = [f"{count} {label}" for label, count in kpis.outcome_mix.items() if count]
    return "Of the documents claimed: " + ", ".join(parts) + "." if parts else None


def _findings_caption(kpis: Kpis) -> str | None:
    if not kpis.findings:
        return None
    code, count = next(iter(kpis.findings.items()))
    return f"{sum(kpis.findings.values())} findings of {len(kpis.findings)} kinds; most frequent {code} ({count})."


def _cost_caption(kpis: Kpis) -> str | None:
    if not any(cost.calls for cost in kpis.tier_costs):
        return None
    calls = sum(cost.calls for cost in kpis.tier_costs)
    return f"{calls} model calls cost {kpis.total_usd} USD in all, {kpis.usd_per_document} USD per document."


_CHARTS: tuple[tuple[str, str, Callable[[plt.Axes, Kpis], None], Callable[[Kpis], str | None]], ...] = (
    ("volume", "Volume over time", _volume, _volume_caption),
    ("outcomes", "Outcome mix", _outcomes, _outcomes_caption),
    ("findings", "Findings by code", _findings, _findings_caption),
    ("cost", "Model cost per tier", _cost, _cost_caption),
)


def _render(figure: Figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    figure.savefig(buffer, format=fmt, metadata=metadata, bbox_inches="tight")
    return buffer.getvalue()


def render_charts(kpis: Kpis) -> list[Chart]:
    """The charts that have something to show, each with its caption."""
    charts = []
    for key, title, draw, describe in _CHARTS:
        caption = describe(kpis)
        if caption is None:
            continue
        figure, ax = plt.subplots(figsize=(5.2, 2.6))
        draw(ax, kpis)
        ax.set_title(title)
        ax.spines[["top", "right"]].set_visible(False)
        svg = _render(figure, "svg").decode()
        svg = svg[svg.index("<svg") :]  # drop the XML prolog and doctype: the SVG goes inline into HTML
        charts.append(Chart(key, title, caption, svg, _render(figure, "png")))
        plt.close(figure)
    return charts
