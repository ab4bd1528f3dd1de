"""Ruled lines are painted out before tesseract reads a page (extractors/ocr.py ``without_rules``).

A form's boxes and a table's grid made tesseract's page segmentation drop
the text inside them: a scanned KYC form in a ruled grid lost its name, ids
and dates. Letters must come through untouched.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from docval.settings import Settings
from extractors.kyc_forms import generate_kyc
from extractors.ocr import without_rules
from extractors.pdf import load_pdf
from extractors.scans import scanned


def test_rules_go_and_letters_stay() -> None:
    image = Image.new("L", (2480, 3508), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((200, 400, 2200, 700), outline=0, width=4)  # a box
    draw.line((200, 1000, 2200, 1030), fill=0, width=4)  # a slightly tilted table rule
    draw.text((300, 500), "Esila Janssen 20-10-1944 IBAN NL28", fill=0, font_size=60)
    cleaned = np.asarray(without_rules(image))
    original = np.asarray(image)
    assert (cleaned[400:404, 600:1800] == 255).all() and (cleaned[450:650, 200:204] == 255).all()
    assert (cleaned[1005:1025, 600:1800] == 255).all()
    letters = (slice(480, 600), slice(290, 2150))
    assert ((cleaned[letters] < 160) == (original[letters] < 160)).all()
    assert (original[letters] < 160).sum() > 1000


def test_a_plain_page_is_left_as_it_is() -> None:
    image = Image.new("L", (1240, 1754), 255)
    ImageDraw.Draw(image).text((100, 100), "Rechnung 2024-001", fill=0, font_size=30)
    assert without_rules(image) is image


def test_values_in_a_ruled_grid_are_read(tmp_path: Path) -> None:
    form, _ = scanned(generate_kyc(41, 1, layouts=(3,)), 41)[0]
    path = tmp_path / form.name
    path.write_bytes(form.pdf)
    text = "\n".join(page.text for page in load_pdf(path, Settings().extract).pages)
    for name in ("full_name", "national_id", "passport_number"):
        assert form.truth[name] in text, (name, text)
