"""Invoice parties: the seller's and buyer's names and the seller's address, found by where they print.

Names carry no checksum or fixed shape, so they come from layout: the block under a seller or buyer caption
('Lieferant', 'Bill To'), the letter's address window, or the letterhead above the buyer's block (preferring a
line with a company suffix). Split out of ``rules.invoice``; ``buyer_blocks`` also lets the VAT-id search there
tell the buyer's id from the seller's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from extractors.normalize import party_name
from extractors.rules.base import Candidate, PageLike

__all__ = ["buyer_blocks", "buyer_name", "party_blocks", "seller_address", "seller_name"]

_MAX_ADDRESS_LINES = 4
_PARTY_BLOCK_LINES = 8
_COMPANY = re.compile(  # case-sensitive on purpose: "Sa 8.00-14.00 Uhr" is not a société anonyme
    r"\b(?:GmbH|GMBH|AG|KG|e\.\s?V\.|a\.\s?G\.|B\.V\.|BV|N\.V\.|SAS|SARL|S\.A\.|SA|Ltd\.?|LTD|Limited|Inc\.?|INC"
    r"|LLC|PLC|plc|S\.r\.l\.|AB|Oy)(?![\w])"
)
_FRENCH_LEGAL_FORM = re.compile(r"[ ,]+(SARL|SAS|SASU|EURL|SA|SNC|SCI)$")
# A caption stands alone on its line, or is followed only by another column (layout text keeps columns apart by
# a run of spaces: 'Rechnungsempfänger          Kundennummer  GE2020211').
_NEXT_COLUMN = r"(?: *$| {3,}\S[^\n]*$)"
_SELLER_CAPTION = re.compile(
    r"^ *(?:lieferant|rechnungsersteller|verkäufer|seller|vendor|supplier|from|absender|fournisseur|émetteur"
    r"|vendeur|leverancier|verkoper|fornitore|cedente(?: +prestatore)?|proveedor|emisor|vendedor) *:?" + _NEXT_COLUMN,
    re.IGNORECASE | re.MULTILINE,
)
_BILLING = (
    r"käufer(?:/leistungsempfänger)?|rechnungsempfänger|leistungsempfänger|bill +to|invoice +to|sold +to"
    r"|customer|client|buyer|acheteur|facturé +à|adresse +de +facturation|destinataire|factuuradres|adressat"
)
_BUYER_CAPTION = re.compile(r"^ *(?:" + _BILLING + r") *:?" + _NEXT_COLUMN, re.IGNORECASE | re.MULTILINE)
# The buyer's captions in all six label languages, read for the buyer's name only. The letterhead guess and the
# buyer's blocks keep ``_BUYER_CAPTION``: a letterhead cut at 'Cliente' took the title line or a date's caption for
# the seller's name (seller names 144 -> 309 wrong on the training corpus; benchmarks/README.md, session 15).
_BUYER_NAME_CAPTION = re.compile(
    r"^ *(?:" + _BILLING + r"|kunde|klant|factuur +aan|cliente|spett\.? *le|cessionario(?: +committente)?"
    r"|committente|destinatario|facturar +a) *:?" + _NEXT_COLUMN,
    re.IGNORECASE | re.MULTILINE,
)
# Goods usually go to the buyer: a weaker hint than a billing caption.
_DELIVERY_CAPTION = re.compile(
    r"^ *(?:adresse +de +livraison|lieferanschrift|ship +to|delivery +address|afleveradres) *:?" + _NEXT_COLUMN,
    re.IGNORECASE | re.MULTILINE,
)
_OTHER_PARTY_CAPTION = re.compile(  # EN 16931's payee (BG-10), tax representative (BG-11), deliver-to (BG-13)
    r"^ *(?:abweichende[rs]? +)?(?:zahlungs|waren)?empfänger|^ *steuerbevollmächtigter\b[^\n]*"
    r"|^ *(?:payee|tax +representative|deliver +to|consignee)\b[^\n]*",
    re.IGNORECASE | re.MULTILINE,
)
# The address window of a letter: after the sender's one-line return address or a salutation comes the addressee.
_ADDRESS_WINDOW = re.compile(
    r"^[^\n]{3,80}(?:●|•|·| \| )[^\n]*\d{4,5}[^\n]*$|^ *(?:herrn?|frau|mr\.?|mrs\.?|monsieur|madame) *$",
    re.IGNORECASE | re.MULTILINE,
)
_TITLE = re.compile(r"^(?:invoice|rechnung|facture|factuur|credit note|gutschrift|avoir|receipt|tax invoice)\b", re.I)
_KEY_VALUE = re.compile(r"^[\w .\-/()]{1,30}:")
_NAME_KEY = re.compile(r"^(?:name|nom|naam|firma|company|raison sociale) *: *", re.IGNORECASE)
_SALUTATION = re.compile(r"^(?:herrn?|frau|mr\.?|mrs\.?|ms\.?|monsieur|madame|m\.|mme)$", re.IGNORECASE)
_NOT_A_NAME = re.compile(r"^(?:GLN|www\.|http|ATTN)|\d|@", re.IGNORECASE)
_COLUMN_GAP = re.compile(r" {3,}|●|\||\t| - ")


def seller_name(pages: Sequence[PageLike]) -> Candidate | None:
    """The seller's name as printed, without a French legal form the page states apart."""
    return _without_separate_legal_form(_printed_seller_name(pages), pages)


def buyer_name(pages: Sequence[PageLike]) -> Candidate | None:
    """Under a billing caption; else under a delivery caption; else in the letter's address window."""
    return (
        _name_under(pages, _BUYER_NAME_CAPTION, 0.8)
        or _name_under(pages, _DELIVERY_CAPTION, 0.6)
        or _name_under(pages, _ADDRESS_WINDOW, 0.6)
    )


def buyer_blocks(text: str) -> list[tuple[int, int]]:
    """Spans of the address blocks under the buyer captions of one page's text."""
    return _blocks_under(text, _BUYER_CAPTION)


def party_blocks(text: str) -> list[tuple[int, int]]:
    """Spans of the blocks under the captions of an EN 16931 party (seller, buyer, deliver-to, payee, the seller's
    tax representative) on one page's text: a bare 'Nummer:' there is that party's number ('Verkäufer' / 'Nummer:
    549910' in FeRD's ZUGFeRD samples), not the invoice's."""
    captions = (_SELLER_CAPTION, _BUYER_CAPTION, _DELIVERY_CAPTION, _OTHER_PARTY_CAPTION)
    return [block for caption in captions for block in _blocks_under(text, caption)]


def _blocks_under(text: str, caption: re.Pattern[str]) -> list[tuple[int, int]]:
    """Spans of the few lines under each ``caption`` (a party's address block), ending early at a seller caption."""
    blocks = []
    for match in caption.finditer(text):
        end = match.end()
        for _ in range(_PARTY_BLOCK_LINES):
            following = text.find("\n", end + 1)
            if _SELLER_CAPTION.match(text, end + 1):
                break
            if following < 0:
                end = len(text)  # the page's last line belongs to the block too
                break
            end = following
        blocks.append((match.start(), end))
    return blocks


def _name_from_line(line: str) -> str | None:
    """A party name from one printed line: the 'Name:' value or the line's first column, if it looks like one."""
    text = line.strip()
    if named := _NAME_KEY.match(text):
        text = text[named.end() :]
    elif _KEY_VALUE.match(text):
        return None
    text = party_name(_COLUMN_GAP.split(text)[0])
    if len(text) < 3 or _NOT_A_NAME.search(text) or _SALUTATION.match(text):
        return None
    return text


def _located(page: PageLike, offset: int, name: str, confidence: float) -> Candidate:
    begin = page.text.index(name, offset)
    return Candidate(confidence, name, page.number, (begin, begin + len(name)))


def _name_under(pages: Sequence[PageLike], caption: re.Pattern[str], confidence: float) -> Candidate | None:
    """The first name-like text after a caption such as 'Käufer:' or 'Bill To': on its line, or below it."""
    for page in pages[:1]:
        for match in caption.finditer(page.text):
            offset = match.end()
            for line in page.text[offset:].split("\n")[:5]:
                if name := _name_from_line(line):
                    return _located(page, offset, name, confidence)
                offset += len(line) + 1
    return None


def _printed_seller_name(pages: Sequence[PageLike]) -> Candidate | None:
    """Below a seller caption; else the letterhead (first name-like line above the buyer's block, preferring
    one with a company suffix); else the first line anywhere with a company suffix."""
    if captioned := _name_under(pages, _SELLER_CAPTION, 0.8):
        return captioned
    if letterhead := _letterhead(pages):
        return letterhead
    for page in pages[:1]:
        offset = 0
        for line in page.text.split("\n"):
            name = _name_from_line(line)
            if name and _COMPANY.search(name) and len(name) < 60:
                return _located(page, offset, name, 0.6)
            offset += len(line) + 1
    return None


def _without_separate_legal_form(name: Candidate | None, pages: Sequence[PageLike]) -> Candidate | None:
    """'Au bon moulin SARL' -> 'Au bon moulin' when the page also states 'SARL au capital de …': French law keeps
    the dénomination sociale and the forme juridique apart (the legal mention carries the form), so the name
    proper is printed without it. German and English firm names include their suffix and are left alone."""
    if name is None or not (form := _FRENCH_LEGAL_FORM.search(name.value)):
        return name
    if not any(re.search(rf"\b{form.group(1)} +au +capital\b", page.text, re.IGNORECASE) for page in pages):
        return name
    short = name.value[: form.start()].rstrip(" ,")
    return replace(name, value=short, span=(name.span[0], name.span[0] + len(short)))


def _letterhead(pages: Sequence[PageLike]) -> Candidate | None:
    if not pages:
        return None
    page = pages[0]
    caption = _BUYER_CAPTION.search(page.text)
    head = page.text[: caption.start()] if caption else ""
    names: list[tuple[int, str]] = []
    offset = 0
    for line in head.split("\n"):
        name = _name_from_line(line)
        if name and not _TITLE.match(name) and len(name) < 60:
            names.append((offset, name))
        offset += len(line) + 1
    if not names:
        return None
    offset, name = next(((o, n) for o, n in names if _COMPANY.search(n)), names[0])
    return _located(page, offset, name, 0.55)


def seller_address(pages: Sequence[PageLike], seller: Candidate | None) -> Candidate | None:
    """The address lines printed right under the seller's name, joined with ', '."""
    if seller is None or seller.page != pages[0].number:
        return None
    text = pages[0].text
    lines: list[tuple[str, int]] = []  # (line, end offset)
    start = text.find("\n", seller.span[1]) + 1
    end = start
    for line in text[start:].split("\n")[:_MAX_ADDRESS_LINES]:
        stripped = _COLUMN_GAP.split(line.strip())[0].strip(" ,")
        if not stripped or _KEY_VALUE.match(stripped) or _TITLE.match(stripped):
            break
        end = text.index(stripped, end) + len(stripped)
        lines.append((stripped, end))
    while lines and not re.search(r"\d", lines[-1][0]):
        lines.pop()  # an address ends with its postcode line; what follows is something else
    if not lines:
        return None
    address = ", ".join(line for line, _ in lines)
    return Candidate(min(seller.confidence, 0.6), address, pages[0].number, (start, lines[-1][1]))
