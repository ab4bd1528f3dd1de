"""``report.html``: one self-contained file (inline CSS and SVG, no scripts, no external assets).

Jinja2 with autoescaping on, so an id or code in the ledger can never inject
markup; a Content-Security-Policy of ``default-src 'none'`` makes the browser
refuse any external fetch should one slip into the template.
"""

from __future__ import annotations

from functools import cache

import jinja2

from reports.charts import Chart
from reports.content import ReportContent
from reports.kpis import format_duration

__all__ = ["render_html"]


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["duration"] = format_duration
    return environment


def render_html(content: ReportContent, charts: list[Chart]) -> str:
    return _environment().get_template("report.html.j2").render(c=content, charts=charts)
