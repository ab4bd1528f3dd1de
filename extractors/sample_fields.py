"""The seeded values behind the sample documents: checksum-valid identifiers, invoices and KYC forms.

``samples.py`` assembles the sample inbox from these; ``layouts.py`` shares ``CENT``. Everything comes from
one ``random.Random`` and one seeded Faker, drawn in a fixed order, so the same seed gives the same values
(and the same document ids) on every machine.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from faker import Faker
from stdnum import iban as stdnum_iban
from stdnum.de import idnr
from stdnum.iso7064 import mod_11_10

from extractors.schemas import InvoiceFields, KycFields, LineItem

__all__ = ["CENT", "InvoiceDraft", "SampleValues"]

CENT = Decimal("0.01")


@dataclass
class InvoiceDraft:
    """An invoice's fields (the ground truth, in schema form) plus what is printed but not extracted."""

    fields: InvoiceFields
    buyer_address: list[str]


class SampleValues:
    """Seeded source of plausible, checksum-valid identifiers and documents."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker("en_GB")
        self.fake.seed_instance(seed)

    def digits(self, n: int) -> str:
        return str(self.rng.randint(1, 9)) + "".join(str(self.rng.randint(0, 9)) for _ in range(n - 1))

    def vat_id(self) -> str:
        """A German VAT id (USt-IdNr): 8 digits plus an ISO 7064 mod 11,10 check digit."""
        body = self.digits(8)
        return f"DE{body}{mod_11_10.calc_check_digit(body)}"

    def iban(self) -> str:
        bban = self.digits(8) + self.digits(10)
        return f"DE{stdnum_iban.calc_check_digits('DE00' + bban)}{bban}"

    def national_id(self) -> str:
        """A German tax id (IdNr): its digit-repetition rules make rejection sampling the simple way."""
        while True:
            body = self.digits(10)
            candidate = body + mod_11_10.calc_check_digit(body)
            if idnr.is_valid(candidate):
                return candidate

    def passport(self) -> str:
        alphabet = "CFGHJKLMNPRTVWXYZ0123456789"
        return "C" + "".join(self.rng.choice(alphabet) for _ in range(8))

    def address(self) -> list[str]:
        return [self.fake.street_address().replace("\n", ", "), f"{self.fake.postcode()} {self.fake.city()}"]

    def invoice(
        self, number: str | None = None, seller: InvoiceFields | None = None, *, small: bool = False
    ) -> InvoiceDraft:
        """A consistent invoice; ``seller`` reuses another invoice's seller (for the duplicate case).

        ``small``: under the default policy's 5,000 large-amount limit (at most 2 lines of 3 × 600.00 + 19 %),
        so a clean one can pass straight through in the demo.
        """
        issue = date(2026, 1, 5) + timedelta(days=self.rng.randint(0, 280))
        rate = self.rng.choice([Decimal(19), Decimal(7)])
        lines = []
        most_lines, most_quantity, most_cents = (2, 3, 60000) if small else (4, 12, 250000)
        for _ in range(self.rng.randint(1, most_lines)):
            quantity = Decimal(self.rng.randint(1, most_quantity))
            price = (Decimal(self.rng.randint(500, most_cents)) / 100).quantize(CENT)
            lines.append(
                LineItem(
                    description=self.fake.bs().capitalize(),
                    quantity=quantity,
                    unit_price=price,
                    amount=(quantity * price).quantize(CENT),
                )
            )
        net = sum((line.amount or Decimal(0) for line in lines), Decimal(0))
        tax = (net * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        fields = InvoiceFields(
            invoice_number=number or f"INV-{issue.year}-{self.rng.randint(1000, 99999):05d}",
            issue_date=issue,
            due_date=issue + timedelta(days=self.rng.choice([14, 30])),
            seller_name=seller.seller_name if seller else self.fake.company(),
            seller_vat_id=seller.seller_vat_id if seller else self.vat_id(),
            seller_address=seller.seller_address if seller else ", ".join(self.address()),
            buyer_name=self.fake.company(),
            iban=self.iban(),
            currency="EUR",
            line_items=lines,
            net_total=net,
            tax_rate=rate,
            tax_total=tax,
            grand_total=net + tax,
        )
        return InvoiceDraft(fields=fields, buyer_address=self.address())

    def kyc(self) -> KycFields:
        return KycFields(
            full_name=self.fake.name(),
            date_of_birth=self.fake.date_of_birth(minimum_age=18, maximum_age=85),
            address=", ".join(self.address()),
            email=self.fake.email(),
            phone=self.fake.phone_number(),
            passport_number=self.passport(),
            national_id=self.national_id(),
            iban=self.iban(),
        )
