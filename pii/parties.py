"""Where a company's name ends inside a party field, so the people written after it can be found.

``pii.yaml`` leaves a supplier's name and address in clear: they name a
company, and NER on a short company name out of context calls half of them
persons ("Acme Widgets", "Bei Spiel GmbH"). But a layout often glues a contact
person onto the company ("Acme Widgets GmbH Hans Müller", "Acme GmbH, z. Hd.
Hans Müller", pypdf's "Acme GmbHHans Müller"), and that person is personal
data. The company part ends at its legal form or at a contact marker; what
follows is the only part of the value name-like entities are looked for in.
"""

from __future__ import annotations

import re

__all__ = ["contact_tail"]

# Legal forms as printed after a company name (case-sensitive: "sa" and "ag" occur inside words). The look-ahead
# also accepts a capital glued right after the form, which is how pypdf joins two text runs on one line.
_LEGAL_FORM = re.compile(
    r"(?<![\w])(?:GmbH(?: *& *Co\.? *KG)?|GMBH|AG|KG|OHG|UG|e\.\s?V\.|B\.V\.|BV|N\.V\.|NV|SAS|SASU|SARL|EURL|S\.A\."
    r"|SA|SpA|S\.p\.A\.|S\.r\.l\.|Srl|S\.L\.|SL|Ltd\.?|LTD|Limited|Inc\.?|INC|LLC|LLP|PLC|plc|AB|Oy|ApS|A/S)"
    r"(?=$|[^\w]|[A-ZÀ-Þ][a-zß-ÿ])"
)
# Words that introduce a contact person in EN/DE/FR/NL/IT/ES.
_CONTACT = re.compile(
    r"\b(?:z\.\s?Hd\.?|zu\s+Händen(?:\s+von)?|Ansprechpartner(?:in)?|Kontakt(?:person)?|attn\.?|attention(?:\s+of)?"
    r"|contact(?:\s+person)?|c/o|à\s+l['’]attention\s+de|t\.a\.v\.?|ter\s+attentie\s+van|contactpersoon"
    r"|alla\s+c\.a\.|all['’]attenzione\s+di|referente|a\s+la\s+atención\s+de|atn\.?|persona\s+de\s+contacto)\s*:?",
    re.IGNORECASE,
)


def contact_tail(value: str) -> int | None:
    """The offset after which ``value`` may name a person (after the first legal form or contact marker), or
    ``None`` when the value has neither, and so is one company's name or an address as a whole."""
    ends = [match.end() for pattern in (_LEGAL_FORM, _CONTACT) if (match := pattern.search(value))]
    return min(ends) if ends else None
