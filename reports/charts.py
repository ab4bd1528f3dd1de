"""Charts where a person would rather look than read: volume, outcome mix, findings, cost per tier.

matplotlib with the Agg backend (no display, no fonts fetched), rendered
twice from the same figure: SVG inlined into the HTML and PNG for the PDF.
SVG ids are salted with a constant and metadata dates removed so the same
ledger gives byte-identical files, which keeps the bundle zip deterministic.
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
    codes = list(kpis.findings) or ["none"]
    ax.barh(codes, list(kpis.findings.values()) or [0], color="#c0392b")
    ax.invert_yaxis()
    ax.set_xlabel("findings")


def _cost(ax: plt.Axes, kpis: Kpis) -> None:
    tiers = [cost.tier for cost in kpis.tier_costs] or ["none"]
    ax.bar(tiers, [float(cost.usd) for cost in kpis.tier_costs] or [0], color=_COLOR)
    ax.set_ylabel("USD")


_CHARTS: tuple[tuple[str, str, Callable[[plt.Axes, Kpis], None]], ...] = (
    ("volume", "Volume over time", _volume),
    ("outcomes", "Outcome mix", _outcomes),
    ("findings", "Findings by code", _findings),
    ("cost", "Model cost per tier", _cost),
)


def _render(figure: Figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    figure.savefig(buffer, format=fmt, metadata=metadata, bbox_inches="tight")
    return buffer.getvalue()


def render_charts(kpis: Kpis) -> list[Chart]:
    charts = []
    for key, title, draw in _CHARTS:
        figure, ax = plt.subplots(figsize=(5.2, 2.6))
        draw(ax, kpis)
        ax.set_title(title)
        ax.spines[["top", "right"]].set_visible(False)
        svg = _render(figure, "svg").decode()
        svg = svg[svg.index("<svg") :]  # drop the XML prolog and doctype: the SVG goes inline into HTML
        charts.append(Chart(key, title, svg, _render(figure, "png")))
        plt.close(figure)
    return charts
