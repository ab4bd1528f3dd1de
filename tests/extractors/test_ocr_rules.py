"""Ruled lines are painted out before tesseract reads a page, and a scan has a layout view in rows (extractors/ocr.py).

A form's boxes and a table's grid made tesseract's page segmentation drop
the text inside them: a scanned KYC form in a ruled grid lost its name, ids
and dates. Letters must come through untouched. Tesseract then reads the
grid's captions as one block and its values as another; ``rows`` puts each
value beside its caption again, as the layout view of a text layer does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pypdfium2
import pytest
import reportlab
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from docval.settings import Settings
from extractors.extract import extract
from extractors.ink import without_leaders, without_rules, without_specks
from extractors.kyc_forms import generate_kyc
from extractors.layouts import generate
from extractors.matching import matches
from extractors.ocr import AUTO, column_gaps, decimal_gaps, read_image, rows, word_spans
from extractors.pdf import load_pdf
from extractors.router import Router
from extractors.scans import ScanNoise, scan, scanned


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


def _tsv(*words: tuple[int, int, int, str] | tuple[int, int, int, str, float]) -> str:
    """A tesseract TSV of ``(line, left, top, text[, confidence])`` words, 40 px high, confidence 95 unless given."""
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    lines = [
        f"5\t1\t1\t1\t{line}\t{i}\t{left}\t{top}\t{20 * len(text)}\t40\t{confidence}\t{text}"
        for i, (line, left, top, text, *rest) in enumerate(words)
        for confidence in [rest[0] if rest else 95]
    ]
    return "\n".join([header, *lines])


def test_a_column_of_captions_and_one_of_values_stand_in_rows() -> None:
    # tesseract's reading order: the captions' lines, then the values' lines
    table = _tsv(
        (1, 100, 500, "Geboortedatum"), (2, 100, 560, "Land"), (3, 900, 505, "20-10-1944"), (4, 900, 562, "NL")
    )
    assert rows(table) == f"Geboortedatum{' ' * 27}20-10-1944\nLand{' ' * 36}NL"  # at their place: 40 columns in


def test_a_header_rows_cells_stand_over_the_values_under_them() -> None:
    # a totals row as a scan reads it: the captions on one line, the values on the next, right-aligned under them
    table = _tsv(
        (1, 1000, 900, "Total"), (1, 1120, 900, "HT"), (1, 1500, 900, "TVA"), (1, 1600, 900, "20%"),
        (1, 1900, 900, "Net"), (1, 1980, 900, "à"), (1, 2020, 900, "payer"),
        (2, 1060, 960, "216,83"), (2, 1520, 960, "43,37"), (2, 1920, 960, "260,20"), (2, 2060, 960, "EUR"),
        (3, 100, 100, "Facture"),
    )  # fmt: skip
    _, header, values = rows(table).splitlines()
    for caption, value in (("Total HT", "216,83"), ("TVA 20%", "43,37"), ("Net à payer", "260,20 EUR")):
        start = values.index(value)
        under = header[start - 2 : start + len(value) + 2].strip()  # the caption's columns over the value's
        assert under and under in caption, (caption, header, values)
    assert "Total HT   " in header and "TVA 20%" in header  # one cell's words one blank apart, cells three or more


def test_specks_between_a_caption_and_its_value_are_left_out() -> None:
    # dust on a scanned form, read as marks tesseract doubted, stood where the value belongs: 'Voornamen   \\'
    table = _tsv(
        (1, 100, 500, "Voornamen"), (1, 500, 500, "\\", 0.0), (1, 900, 500, "Joost", 96.3),
        (2, 100, 560, "Adres"), (2, 400, 560, "a", 2.3), (2, 900, 560, "Rensbaan", 91.9), (2, 1090, 560, "4", 30.0),
        (3, 100, 620, "Land"), (3, 500, 620, "E-mail", 14.9), (3, 900, 620, "+", 79.7),
    )  # fmt: skip
    voornamen, adres, land = rows(table).splitlines()
    assert voornamen.split() == ["Voornamen", "Joost"] and adres.split() == ["Adres", "Rensbaan", "4"]
    assert land.split() == ["Land", "E-mail", "+"]  # words, digits, and marks tesseract was sure of, stay


def test_words_of_one_line_keep_single_blanks_and_lines_apart_stay_apart() -> None:
    table = _tsv((1, 100, 500, "Noudring"), (1, 290, 501, "07"), (2, 100, 600, "7301QY"), (3, 160, 700, "Ede"))
    assert rows(table) == "Noudring 07\n7301QY\n   Ede"  # a line set in stands in
    assert rows(_tsv()) == ""


def test_a_table_rows_numbers_a_column_apart_stay_two_cells() -> None:
    table = _tsv(
        (1, 100, 500, "4"), (1, 600, 500, "349,19"),  # a quantity and its price, 480 px apart: two cells
        (2, 100, 560, "1"), (2, 130, 560, "234,56"),  # a thousand grouped with a space, 10 px: one amount
        (3, 100, 620, "Royal"), (3, 600, 620, "Schouten"),  # a name's words stay as tesseract joined them
        (4, 100, 680, "12"), (5, 600, 680, "2024-01-18"),  # numbers on two of tesseract's lines
    )  # fmt: skip
    text = "4 349,19\n1 234,56\nRoyal Schouten\n12\n2024-01-18\n"
    spaced = column_gaps(text, table)
    assert spaced == "4   349,19\n1 234,56\nRoyal Schouten\n12\n2024-01-18\n"
    assert [spaced[start:end] for start, end, _ in word_spans(spaced, table)][:2] == ["4", "349,19"]


@pytest.mark.parametrize(
    ("read", "mended"),
    [
        ("1.233,09   123, 31   1.356,40 CHF", "1.233,09   123,31   1.356,40 CHF"),  # a blank after the comma
        ("1.124 ,96   213,74", "1.124,96   213,74"),  # before it
        ("351. 25", "351.25"),
        ("1.660;53 £ |", "1.660,53 £ |"),  # a semicolon read for the comma
        ("Flat 65, 23 Glen Valley", "Flat 65, 23 Glen Valley"),  # a line of words keeps its blanks
        ("4   349,19\n1 234,56\n12. 05.2024", "4   349,19\n1 234,56\n12. 05.2024"),  # cells, a thousand, a date
    ],
)
def test_an_amount_ocr_split_at_its_decimal_separator_is_whole_again(read: str, mended: str) -> None:
    assert decimal_gaps(read) == mended


def test_the_words_of_a_mended_amount_are_still_found_in_the_text() -> None:
    table = _tsv((1, 100, 500, "Total"), (2, 100, 560, "123,"), (2, 190, 560, "31"), (2, 600, 560, "EUR"))
    text = decimal_gaps(column_gaps("Total\n123, 31   EUR\n", table))
    assert text == "Total\n123,31   EUR\n"
    assert [text[start:end] for start, end, _ in word_spans(text, table)] == ["Total", "123,", "31", "EUR"]


@pytest.mark.parametrize(
    ("seed", "layout", "names"),
    [
        (41, 3, ("full_name", "national_id", "passport_number", "iban")),  # a ruled grid, read in rows
        (60, 4, ("full_name", "date_of_birth", "national_id", "passport_number", "iban")),  # dotted leaders
    ],
    ids=["grid", "leaders"],
)
def test_a_scanned_form_is_read(tmp_path: Path, seed: int, layout: int, names: tuple[str, ...]) -> None:
    settings = Settings()
    form, _ = scanned(generate_kyc(seed, 1, layouts=(layout,)), seed)[0]
    path = tmp_path / form.name
    path.write_bytes(form.pdf)
    fields = extract(load_pdf(path, settings.extract), Router.rules_only(settings)).fields
    for name in names:
        assert name in fields and matches(name, str(fields[name].value), form.truth[name] or ""), name


@pytest.mark.parametrize(("seed", "layout"), [(3, 7), (12, 7), (17, 8)])
def test_a_scanned_totals_row_is_read_under_its_captions(tmp_path: Path, seed: int, layout: int) -> None:
    # the unseen layouts print their totals as a header row over a row of values; each value is read under its caption
    invoice, _ = scanned(generate(seed, 1, layouts=(layout,), small=True), seed)[0]
    path = tmp_path / invoice.name
    path.write_bytes(invoice.pdf)
    fields = extract(load_pdf(path, Settings().extract), Router.rules_only(Settings())).fields
    for name in ("net_total", "tax_total", "grand_total"):
        assert name in fields and matches(name, str(fields[name].value), invoice.truth[name] or ""), name


def test_a_dusty_scans_totals_are_read(tmp_path: Path) -> None:
    # seed 901's 25th invoice of layout 7-8, scanned as model_bench scans it: its dust read as marks glued to the
    # amounts, and the rules read none of its three totals right
    invoice = generate(901, 40, layouts=(7, 8), defective=0.3, small=True)[24]
    noise = ScanNoise(dpi=240, angle=1.46, blur=0.85, speckle=0.0025, jpeg_quality=83)
    path = tmp_path / invoice.name
    path.write_bytes(scan(invoice.pdf, noise, 901 * 100_000 + 24))
    fields = extract(load_pdf(path, Settings().extract), Router.rules_only(Settings())).fields
    for name in ("net_total", "tax_total", "grand_total"):
        assert name in fields and matches(name, str(fields[name].value), invoice.truth[name] or ""), name


def test_a_dark_banner_keeps_its_white_captions() -> None:
    # a filled table header is long ink runs too, broken only by its letters: whitened, its captions were lost
    image = Image.new("L", (2480, 3508), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((200, 400, 2280, 520), fill=30)
    draw.text((260, 425), "Invoice number   Issue date   Due date", fill=255, font_size=60)
    draw.line((200, 700, 2280, 700), fill=0, width=4)
    cleaned = np.asarray(without_rules(image))
    original = np.asarray(image)
    assert ((cleaned[390:530] < 160) == (original[390:530] < 160)).mean() > 0.999
    assert (cleaned[697:703, 300:2200] == 255).all()


def test_dotted_leaders_go_and_dots_among_letters_stay() -> None:
    image = Image.new("L", (2480, 3508), 255)
    draw = ImageDraw.Draw(image)
    draw.text((200, 400), "Date of issue " + "." * 40 + " 26/12/2023", fill=0, font_size=48)
    draw.text((200, 600), "FA-3852772  -602,20  1.234,56  Müller  e.g. ... i.i.i.", fill=0, font_size=48)
    cleaned = np.asarray(without_leaders(image))
    original = np.asarray(image)
    caption_end, value_start = _ink_gap(original[390:470])
    assert value_start - caption_end < 60  # the leader joins caption and value...
    caption_end, value_start = _ink_gap(cleaned[390:470])
    assert value_start - caption_end > 400  # ...and is gone
    assert (cleaned[560:700] == original[560:700]).all()


def test_specks_go_and_strokes_stay() -> None:
    # a 150 dpi scan's dust, rendered at 300 dpi: flecks of 2 x 2 pixels over and between the letters
    font = ImageFont.truetype(str(Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"), 33)  # 8 pt at 300 dpi
    image = Image.new("L", (1400, 200), 255)
    ImageDraw.Draw(image).text((40, 60), "Totale  1.544,95 EUR  Royal Glasses S.r.l.", fill=0, font=font)
    letters = np.asarray(image) < 160
    rng = np.random.default_rng(7)
    flecks = np.kron(rng.random((100, 700)) < 0.003, np.ones((2, 2), dtype=bool))
    noisy = np.asarray(image).copy()
    noisy[flecks] = 0
    cleaned = np.asarray(without_specks(Image.fromarray(noisy), dpi=300)) < 160
    apart = ~ndimage.binary_dilation(letters, iterations=3)  # dust off the letters (on a stroke it is ink anyway)
    assert (flecks & apart).sum() > 500  # the page had dust...
    assert (cleaned & apart).sum() < 0.02 * (flecks & apart).sum()  # ...and next to none is left
    assert (cleaned & letters).sum() > 0.9 * letters.sum()  # while the letters keep their strokes
    assert (np.asarray(without_specks(Image.fromarray(noisy), dpi=200)) == noisy).all()  # too coarse to filter


def _ink_gap(band: np.ndarray) -> tuple[int, int]:
    """Where the widest stretch of columns without ink in ``band`` starts and ends."""
    columns = np.flatnonzero((band < 160).any(axis=0))
    widest = int(np.argmax(np.diff(columns)))
    return int(columns[widest]), int(columns[widest + 1])


def test_a_page_scanned_on_its_side_is_read_upright() -> None:
    # pages go into a scanner sideways or upside down; read as they lie, they gave letter soup
    invoice = generate(5, 1, layouts=(0,))[0]
    page = pypdfium2.PdfDocument(invoice.pdf)[0].render(scale=200 / 72, grayscale=True).to_pil()
    text, words, _ = read_image(page.rotate(90, expand=True), "eng", 60, dpi=200)
    assert invoice.truth["invoice_number"] in text and invoice.truth["seller_name"] in text, text
    assert sum(confidence for *_, confidence in words) / len(words) > 80


def test_scans_are_read_with_the_models_of_their_languages() -> None:
    # the English model alone read "Straße: Müllerstraße 5, Köln" as "StraBe: MullerstraB&e 5, Koln"
    font = ImageFont.truetype(str(Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"), 30)
    image = Image.new("L", (1200, 140), 255)
    ImageDraw.Draw(image).text((40, 50), "Straße: Müllerstraße 5, Köln, Fälligkeit", fill=0, font=font)
    assert "Müllerstraße 5, Köln, Fälligkeit" in read_image(image, AUTO, 60, dpi=300)[0]


def test_leaders_on_the_last_row_and_pages_of_noise_are_no_trouble() -> None:
    image = Image.new("L", (2480, 3508), 255)
    draw = ImageDraw.Draw(image)
    for left in range(200, 400, 20):  # a leader's dots cut by the page's lower edge
        draw.rectangle((left, 3507, left + 3, 3507), fill=0)
    assert (np.asarray(without_leaders(image))[3507] == 255).all()
    noise = np.where(np.random.default_rng(0).random((3508, 2480)) < 0.3, 0, 255).astype(np.uint8)
    page = Image.fromarray(noise)
    assert without_leaders(page) is page  # too many pieces to be a form: left as it is, at once
