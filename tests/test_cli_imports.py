"""``docval --help`` must not load the heavy libraries: they cost seconds before any command runs.

Checked as behaviour, not timing: a fresh interpreter imports the CLI and
every package's command module (what ``docval --help`` does) and reports which
heavy modules ended up in ``sys.modules``. The timing itself is in
benchmarks/cli_bench.py.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import subprocess
import sys

import pytest

HEAVY = ("prefect", "presidio_analyzer", "spacy", "matplotlib", "duckdb", "weasyprint", "pypdfium2", "sklearn")
PACKAGES = ("docval", "extractors", "flows", "ledger", "pii", "reports")

_PROBE = """
import importlib, json, sys
import docval.cli
for module in docval.cli.PACKAGE_CLIS:
    importlib.import_module(module).register(docval.cli.app)
print(json.dumps(sorted(name for name in {heavy} if name in sys.modules)))
"""


def test_the_command_line_imports_no_heavy_library() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=HEAVY)], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(probe.stdout) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_still_resolves(package: str) -> None:
    module = importlib.import_module(package)
    assert all(getattr(module, name) is not None for name in module.__all__)
    assert set(module.__all__) <= set(dir(module))
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018 - the attribute access is the test


def test_small_cli_bench(load_benchmark, capsys: pytest.CaptureFixture[str]) -> None:
    """benchmarks/cli_bench.py with one run, so it cannot rot (the figures are in benchmarks/README.md)."""
    bench = load_benchmark("cli_bench")
    medians = bench.main(["--runs", "1"])
    assert medians["python -c pass"] > 0 and 0 < medians["docval --help"] < 60
    assert "over a bare interpreter" in capsys.readouterr().out
