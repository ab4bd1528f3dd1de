"""Generated KYC forms (extractors/kyc_forms.py), read as the appliance reads them: real PDFs, every layout.

The generator is only useful if its truth is what a correct reader returns
and its defects are real (an id changed so its scheme rejects it), and the
rules are only done if they read forms in layouts, languages and captions
they were not written against.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from docval.settings import Settings
from extractors.extract import extract
from extractors.kyc_forms import KYC_DEFECTS, KYC_LAYOUTS, generate_kyc
from extractors.matching import matches
from extractors.pdf import load_pdf
from extractors.router import Router
from extractors.validate import identifier_is_valid, validate


def test_the_same_seed_draws_the_same_forms() -> None:
    first, second = generate_kyc(5, 6), generate_kyc(5, 6)
    assert [form.pdf for form in first] == [form.pdf for form in second]
    assert [form.truth for form in first] == [form.truth for form in second]


def test_clean_ids_pass_their_scheme_and_broken_ones_fail_it() -> None:
    forms = generate_kyc(8, 120, defective=0.5)
    for form in forms:
        scheme, value = form.truth["national_id_scheme"], form.truth["national_id"]
        assert scheme and value
        if scheme != "none":
            assert identifier_is_valid(scheme, value) is (form.defect != "bad_national_id"), form.truth
    assert {form.defect for form in forms} == {None, *KYC_DEFECTS}


@pytest.mark.parametrize("layout", range(len(KYC_LAYOUTS)))
def test_every_field_of_every_form_is_read(tmp_path: Path, layout: int) -> None:
    settings = Settings()
    router = Router.rules_only(settings)
    for form in generate_kyc(11, 12, layouts=(layout,), defective=0.3):
        path = tmp_path / form.name
        path.write_bytes(form.pdf)
        extraction = extract(load_pdf(path, settings.extract), router)
        assert extraction.kind.value == "kyc_form", form.name
        for name, expected in form.truth.items():
            got = extraction.fields.get(name)
            if expected is None:
                continue
            assert got is not None and matches(name, str(got.value), expected), (form.language, name, expected, got)
        findings = validate(extraction, settings=settings.extract, today=date(2026, 12, 1))
        assert sorted({finding.code for finding in findings}) == form.findings, (form.language, form.truth)


def test_small_benchmark(load_benchmark, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    """A small run of benchmarks/kyc_bench.py (so it cannot rot): every form is read as one, every field right."""
    load_benchmark("kyc_bench").run(8, 12, (3, 4), 0.3, scans=False)
    printed = capsys.readouterr().out
    assert "read as KYC forms: 8/8" in printed
    assert "| **all** |" in printed and "| 100.0% |" in printed.split("| **all** |")[1].splitlines()[0]


def test_the_same_seed_draws_the_same_forms_in_every_process() -> None:
    """Faker's Italian towns follow Python's hash seed; the forms must not (training reads them in fresh processes)."""
    code = "import hashlib; from extractors.kyc_forms import generate_kyc; "
    code += "print(hashlib.sha256(b''.join(f.pdf for f in generate_kyc(20261206, 60))).hexdigest())"
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1
