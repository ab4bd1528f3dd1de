"""KYC captions in six languages, split names, run-on addresses and id schemes (issue 14, item 6; KYC forms).

Each case is a form nobody tuned the rules to before: captions read only as
whole captions, a name composed from surname and given names, an address
over two lines that stops at the next caption, a caption behind a dotted
leader or in parentheses, and the national id's scheme from the country the
form names even where that country's id has no public check digits.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docval.domain import DocKind
from extractors.classify import classify
from extractors.rules import Page, extract_rules


def values(text: str) -> dict[str, object]:
    return {name: field.value for name, field in extract_rules([Page(1, text)], DocKind.KYC_FORM).items()}


@pytest.mark.parametrize(
    ("surname", "given_names"),
    [
        ("Surname", "First name"),
        ("Nachname", "Vorname(n)"),
        ("Nom de famille", "Prénom(s)"),
        ("Achternaam", "Voornamen"),
        ("Cognome", "Nome"),
        ("Apellidos", "Nombre"),
        ("Name", "Vorname"),  # beside a given-name caption the plain "Name" is the surname
    ],
)
def test_a_split_name_is_composed_given_names_first(surname: str, given_names: str) -> None:
    page = f"Modulo KYC\n{surname}: Rossi\n{given_names}: Anna Maria\nData di nascita: 02.03.1963\n"
    assert values(page)["full_name"] == "Anna Maria Rossi"


@pytest.mark.parametrize(
    "caption", ["Nome e cognome", "Vor- und Nachname", "Nombre y apellidos", "Voor- en achternaam", "Nom complet"]
)
def test_a_full_name_caption_is_not_read_as_its_parts(caption: str) -> None:
    assert values(f"KYC\n{caption}: Anna Rossi\nEmail: a@example.com\n")["full_name"] == "Anna Rossi"


def test_an_email_caption_is_not_the_home_address() -> None:
    page = (
        "KYC\nAdresse e-mail: anna@example.com\nAdresse: 3 rue de la Paix\n75002 Paris\nFrance\nTéléphone: 0612345678\n"
    )
    got = values(page)
    assert got["address"] == "3 rue de la Paix, 75002 Paris, France"
    assert got["email"] == "anna@example.com"
    assert got["phone"] == "0612345678"


def test_an_address_stops_at_the_next_caption_and_at_a_heading() -> None:
    page = "KYC\nAnschrift\nGartenweg 7\n12345 Musterstadt\nE-Mail\nerika@example.com\n"
    assert values(page)["address"] == "Gartenweg 7, 12345 Musterstadt"
    page = "KYC\nAddress: Flat 5 Rose Court\nSW1A 1AA London\nBank details\nIBAN: GB29 NWBK 6016 1331 9268 19\n"
    assert values(page)["address"] == "Flat 5 Rose Court, SW1A 1AA London"


def test_values_behind_dotted_leaders_and_captions_in_parentheses() -> None:
    page = (
        "KYC-Formular\nAusweisnummer .............................................. T22000129\n"
        "Kontoverbindung (IBAN) ................ DE89 3704 0044 0532 0130 00\nLand ........ Deutschland\n"
    )
    got = values(page)
    assert got["national_id"] == "T22000129"
    assert got["national_id_scheme"] == "none"  # an ID-card number, its caption far behind the leader
    assert got["iban"] == "DE89370400440532013000"


@pytest.mark.parametrize(
    ("line", "scheme"),
    [
        ("National ID number: AB 12 34 56 C\nCountry of residence: United Kingdom", "none"),
        ("National Insurance number: AB 12 34 56 C", "none"),
        ("Número de DNI: 54362315K", "es.dni"),
        ("Identificatienummer: 111222333\nLand: Nederland", "nl.bsn"),
        ("N° de sécurité sociale (NIR): 2 95 10 99 126 111 93", "fr.nir"),
    ],
)
def test_the_scheme_comes_from_the_caption_or_the_country(line: str, scheme: str) -> None:
    assert values(f"KYC\nFull name: Anna Rossi\n{line}\n")["national_id_scheme"] == scheme


def test_a_two_digit_birth_year_is_in_the_past_and_us_dates_read_month_first() -> None:
    assert values("KYC\nGeburtsdatum: 05.03.45\n")["date_of_birth"] == "1945-03-05"
    page = "KYC\nDate of birth: 06/08/1966\nPassport issued on: 11/23/2020\n"
    assert values(page)["date_of_birth"] == "1966-06-08"


@settings(max_examples=30, deadline=None)
@given(
    title=st.sampled_from(["Aanvraag rekening", "Modulo di adeguata verifica", "Apertura de cuenta", "KYC-Formular"]),
    birth=st.sampled_from(["Geboortedatum", "Data di nascita", "Fecha de nacimiento", "Geburtsdatum"]),
    document=st.sampled_from(["Paspoortnummer", "Numero passaporto", "Número de pasaporte", "Reisepassnummer"]),
)
def test_forms_in_every_label_language_are_kyc_forms(title: str, birth: str, document: str) -> None:
    page = f"{title}\n{birth}\n02-03-1972\n{document}\nXFC93MTG7\nIBAN\nNL25XPHC8228783624\n"
    assert classify([page]).kind is DocKind.KYC_FORM


def test_a_value_under_its_caption_is_read_past_a_box_edge_ocr_left() -> None:
    page = "KYC-formulier\nGeboortedatum\n| 20-10-1944\nIdentificatienummer\n[828011220\nLand\n_|[Nederland\n"
    got = values(page)
    assert got["date_of_birth"] == "1944-10-20"
    assert got["national_id"] == "828011220"
    assert got["national_id_scheme"] == "nl.bsn"


def test_a_value_stops_at_a_column_gap() -> None:
    """A layout view puts the next column on the same line: it is not part of the value."""
    first = "Naam: Benthe Hermans      Woonadres: Dylansingel 9"
    second = "BSN: 111222333".ljust(first.index("Dylansingel")) + "1234 AB Utrecht"
    got = values(f"KYC\n{first}\n{second}\nLand:   Nederland\n")
    assert got["full_name"] == "Benthe Hermans"
    assert got["address"] == "Dylansingel 9, 1234 AB Utrecht"
