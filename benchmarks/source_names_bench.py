"""Inbox file names masked as running text (before) vs by their parts (``PiiEngine.mask_name``), same run.

Names are generated, not taken from any corpus the rules were written on: seeded Faker people, e-mails,
phones and IBANs in four locales, joined to document words, numbers and dates with the separators people
use (``-``, ``_``, ``.``, space), half of them with no personal data at all. Figures: names without
personal data shown unchanged; names with personal data where a personal word leaked (any word of a
person's name, or a whole e-mail, phone or IBAN, left in clear); names with personal data whose document
words survived; CPU per name.

    python benchmarks/source_names_bench.py [--names 400] [--seed 2026] [--locales de_DE,fr_FR,en_GB,it_IT]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faker import Faker

from docval.settings import Settings
from pii import PiiEngine

LOCALES = ("de_DE", "fr_FR", "en_GB", "it_IT")
WORDS = ("invoice", "kyc", "onboarding", "statement", "passport", "contract", "Rechnung", "facture", "scan", "signed")
SEPARATORS = ("-", "_", ".", " ")


def generate(count: int, seed: int, locales: tuple[str, ...] = LOCALES) -> list[tuple[str, list[str], list[str]]]:
    """(file name, personal words that must not be shown, document words that should be)."""
    rng = random.Random(seed)
    fakers = [Faker(locale) for locale in locales]
    for index, fake in enumerate(fakers):
        fake.seed_instance(seed + index)
    names = []
    for number in range(count):
        fake, sep = rng.choice(fakers), rng.choice(SEPARATORS)
        word = rng.choice(WORDS)
        plain = [word, f"{rng.randint(1, 999):03d}"] if rng.random() < 0.5 else [word, fake.date(pattern="%Y-%m-%d")]
        personal: list[str] = []
        if number % 2:
            kind = rng.choice(("person", "person", "email", "phone", "iban"))
            if kind == "person":
                parts = [fake.first_name(), fake.last_name()]
                personal = parts
            else:
                value = {"email": fake.email, "phone": fake.phone_number, "iban": fake.iban}[kind]()
                parts, personal = [value.replace(" ", "")], [value.replace(" ", "")]
            plain.insert(rng.randint(0, len(plain)), sep.join(parts))
        names.append((sep.join(plain) + ".pdf", personal, [word]))
    return names


def score(mask: Callable[[str], str], names: list[tuple[str, list[str], list[str]]]) -> dict[str, float]:
    kept = leaked = words_kept = with_pii = 0
    started = time.process_time()
    for name, personal, words in names:
        shown = mask(name)
        if not personal:
            kept += shown == name
            continue
        with_pii += 1
        leaked += any(re.search(rf"(?<![^\W_]){re.escape(part)}(?![^\W_])", shown) for part in personal)
        words_kept += all(word in shown for word in words)
    cpu = time.process_time() - started
    plain = len(names) - with_pii
    return {
        "plain names unchanged": kept / plain,
        "personal names leaking": leaked / with_pii,
        "personal names keeping their document word": words_kept / with_pii,
        "CPU ms per name": 1000 * cpu / len(names),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=400)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--locales", default=",".join(LOCALES), help="Faker locales of the people, comma-separated")
    args = parser.parse_args()
    names = generate(args.names, args.seed, tuple(args.locales.split(",")))
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "var")
        settings.ensure_dirs()
        engine = PiiEngine.from_settings(settings)
        engine.mask_text("warm up Anna Schmidt")
        results = {
            "as running text (before)": score(lambda name: engine.mask_text(name).text, names),
            "by parts (mask_name)": score(lambda name: engine.mask_name(name).text, names),
        }
    print(f"{len(names)} generated names, seed {args.seed}, people from {args.locales}")
    metrics = list(next(iter(results.values())))
    print("| | " + " | ".join(metrics) + " |")
    print("|---" * (len(metrics) + 1) + "|")
    for label, figures in results.items():
        cells = [f"{figures[m]:.2f}" if m.startswith("CPU") else f"{figures[m]:.1%}" for m in metrics]
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
