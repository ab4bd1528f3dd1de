"""report.html in a real headless Chromium and report.pdf through poppler: rendered, charts present, text right."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from reporthelpers import Built

SCREENSHOT_FOR_LEAD = Path("/work/report-screenshot.png")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0",
]  # fmt: skip


def chromium(tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    command = ["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_console_detection_works(system_deps: None, tmp_path: Path) -> None:
    """Positive control: a page that logs an error and fetches from outside is flagged by the same check."""
    page = tmp_path / "bad.html"
    page.write_text("<html><body><img src='http://example.invalid/x.png'><script>console.error('boom')</script>")
    assert console_messages(chromium(tmp_path, page, "--dump-dom").stderr)


def test_report_renders_in_chromium_with_charts_and_no_console_messages(
    system_deps: None, built: Built, tmp_path: Path
) -> None:
    page = built.files.html
    result = chromium(tmp_path, page, "--dump-dom")
    assert console_messages(result.stderr) == []  # no errors, no blocked external fetch (CSP default-src 'none')
    dom = result.stdout
    charts = re.findall(r'<figure data-chart="(\w+)"[^>]*>\s*<svg', dom)
    assert charts == ["volume", "outcomes", "findings", "cost"]
    assert 'id="lineage-table"' in dom and "COMPLETE" in dom
    assert not re.search(r'(src|href)="(https?:)?//', dom)  # self-contained
    shot = tmp_path / "report.png"
    chromium(tmp_path, page, f"--screenshot={shot}", "--window-size=1280,2400", "--hide-scrollbars")
    assert shot.stat().st_size > 50_000  # a rendered page, not a blank one
    if SCREENSHOT_FOR_LEAD.parent.is_dir():
        shutil.copyfile(shot, SCREENSHOT_FOR_LEAD)


def test_pdf_pages_render_and_carry_the_report_text(system_deps: None, built: Built, tmp_path: Path) -> None:
    pdf = built.files.pdf
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=300)
    assert len(list(tmp_path.glob("page-*.png"))) == pages
    assert pages >= 3
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for expected in ("docval audit report", "Verdict", "COMPLETE", "Key figures", "Documents", "Exceptions",
                     "Model calls and cost per tier", "Appendix: completeness", "docval.completeness/v1"):  # fmt: skip
        assert expected in text, expected
    html = built.files.html.read_text()
    first_doc = re.search(r'<code class="id">([0-9a-f]{16})</code></td>\s*<td>', html).group(1)
    assert first_doc in text  # the lineage table's first document appears in both renderings


@pytest.mark.parametrize("figure", ["documents received", "auto-approved", "time to decision"])
def test_html_and_pdf_carry_the_same_figures(built: Built, figure: str) -> None:
    html = built.files.html.read_text()
    value = re.search(rf"<th>{figure}</th><td class=\"value\">([^<]+)</td>", html).group(1)
    text = subprocess.run(["pdftotext", str(built.files.pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert value in text
