"""Train docval's small spaCy NER model (PERSON, LOCATION) on synthetic Faker sentences, reproducibly.

No official spaCy model is on the package index and the re-uploads there are
anonymous (see ../shared/notes/presidio-ocr.md), so docval trains its own tiny
model from generated data: Faker names and addresses in a few hundred sentence
templates (conversational and form-like, several locales, some lower-cased),
plus sentences with no person or place so the model learns to stay quiet.
Same seed, same data, same weights: the model in ``pii/data/ner`` is rebuilt
with ``python scripts/train_pii_ner.py`` (about a minute on 2 cores).

It is evaluated on presidio-research's data (``docval pii eval``), which it
never sees: those sentences come from a different generator and templates.
"""

from __future__ import annotations

import os

# One thread for every BLAS: a parallel sum adds in a different order each run, and training amplifies the difference.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402  (after the thread settings, which must precede numpy)
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import spacy  # noqa: E402
from faker import Faker  # noqa: E402
from spacy.training import Example  # noqa: E402
from spacy.util import fix_random_seed, minibatch  # noqa: E402

LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "sv_SE", "pl_PL", "pt_BR", "en_AU"]
LABELS = ("LOCATION", "PERSON")
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "pii" / "data" / "ner"

# {P} person, {F} first name, {L} last name, {A} full address, {S} street address, {C} city, {K} country: entities.
# {E} e-mail, {N} number, {O} company, {D} date: context only, never labelled.
TEMPLATES = [
    "My name is {P}.", "Hi, this is {F}.", "I am {P} and I live at {A}.", "{P} lives at {A}.",
    "Please send the card to {P}, {A}.", "Dear {P},", "Contact {F} at {E}.", "Can {F} call me back?",
    "{P} moved from {C} to {C}.", "I was born in {C}, {K}.", "Ship to: {P}\n{A}", "Bill to:\n{P}\n{A}",
    "Account holder: {P}", "Signed, {P}", "Customer {P} ({E}) asked about order {N}.",
    "The meeting with {P} and {P} is in {C} on {D}.", "{P}'s new address is {S}, {C}.",
    "I live in {C}.", "We visited {K} last year.", "Address: {S}, {C}", "Name: {P}\nAddress: {A}",
    "{F} {F} works for {O} in {C}.", "Transfer from {P} to {P} was delayed.", "Is {P} still at {A}?",
    "Our office moved to {S}, {C}, {K}.", "Please update my address to {A}.", "Ask {F} about it.",
    "Applicant: {P}, born {D} in {C}", "{P} wrote: the parcel never arrived at {S}.",
    "Talk to {F} or {F} from the {C} team.", "Beneficiary {P}, {S}, {C}", "Thanks, {F}",
    "Mr. {P} requested a refund.", "Ms. {P} visited the {C} branch.", "Dr. {P} signed the form in {C}.",
    "{P}\n{S}\n{C}\n{K}", "From: {P} <{E}>", "My sister {F} lives in {C}, near {S}.",
    "{F} told {F} to wait.", "We invited {F}, {F} and {F}.", "Mrs. {L} is out of the office.",
    "I spoke with {L} yesterday.", "Is this {F}'s account?", "Her son {F} opened the letter.",
    "{F} and {F} visited {C}.", "Say hello to {F}!", "The parcel for {P} is at the {C} depot.",
    "He moved to {K} in {D}.", "Regards,\n{P}\n{S}\n{C}", "{P}\n{O}\n{A}",
]  # fmt: skip
NEGATIVE = [
    "The invoice total is {N} EUR.", "Order {N} was shipped on {D}.", "{O} provides consulting services.",
    "Please reset my password.", "Send an email to {E}.", "Payment terms: 30 days net.",
    "The contract with {O} ends on {D}.", "Reference number {N}", "VAT 19% included.", "Thank you for your order!",
    "Invoice date: {D}", "Quantity 3, unit price {N}", "What is the limit for my card?",
    "I want to close my account.", "Description: consulting hours, {N} h",
]  # fmt: skip


def _fillers(fake: Faker) -> dict[str, tuple[Callable[[], str], str | None]]:
    return {
        "P": (fake.name, "PERSON"),
        "F": (fake.first_name, "PERSON"),
        "L": (fake.last_name, "PERSON"),
        "A": (fake.address, "LOCATION"),
        "S": (fake.street_address, "LOCATION"),
        "C": (fake.city, "LOCATION"),
        "K": (fake.country, "LOCATION"),
        "E": (fake.email, None),
        "N": (lambda: str(fake.random_int(100, 99999)), None),
        "O": (fake.company, None),
        "D": (lambda: fake.date(pattern="%d %B %Y"), None),
    }


def render(template: str, fillers: dict[str, tuple[Callable[[], str], str | None]]) -> tuple[str, list]:
    """The sentence and its (start, end, label) entities."""
    text, entities, cursor = "", [], 0
    while (open_at := template.find("{", cursor)) >= 0:
        close_at = template.index("}", open_at)
        text += template[cursor:open_at]
        make, label = fillers[template[open_at + 1 : close_at]]
        value = make()
        if label:
            entities.append((len(text), len(text) + len(value), label))
        text += value
        cursor = close_at + 1
    return text + template[cursor:], entities


def sentences(count: int, seed: int) -> Iterator[tuple[str, list]]:
    """Templated sentences, a quarter without entities, many wrapped in plain English so the model learns context.

    Faker's en_US lorem words are ordinary English ("Notice soon as brother."):
    without them the model only ever sees entity-dense templates and tags
    every capitalised word of a normal sentence.
    """
    rng = random.Random(seed)
    fakers = {}
    for locale in LOCALES:
        fakers[locale] = Faker(locale)
        fakers[locale].seed_instance(seed)
    english = fakers["en_US"]
    for _ in range(count):
        fake = fakers[rng.choice(LOCALES)]
        roll = rng.random()
        if roll < 0.1:
            text, entities = english.paragraph(nb_sentences=rng.randint(1, 3)), []
        else:
            template = rng.choice(NEGATIVE) if roll < 0.25 else rng.choice(TEMPLATES)
            text, entities = render(template, _fillers(fake))
        if rng.random() < 0.4:
            before = english.sentence() + " " if rng.random() < 0.5 else ""
            after = " " + english.sentence() if rng.random() < 0.5 else ""
            entities = [(start + len(before), end + len(before), label) for start, end, label in entities]
            text = before + text + after
        if rng.random() < 0.1:
            text = text.lower()
        yield text, entities


def build_pipeline() -> spacy.language.Language:
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "ner",
        config={
            "model": {
                "@architectures": "spacy.TransitionBasedParser.v2",
                "state_type": "ner",
                "extra_state_tokens": False,
                "hidden_width": 64,
                "maxout_pieces": 2,
                "use_upper": True,
                "tok2vec": {
                    "@architectures": "spacy.HashEmbedCNN.v2",
                    "pretrained_vectors": None,
                    "width": 96,
                    "depth": 4,
                    "embed_size": 4000,
                    "window_size": 1,
                    "maxout_pieces": 3,
                    "subword_features": True,
                },
            }
        },
    )
    for label in LABELS:  # explicit and sorted: labels collected from examples come out of a hash-ordered set
        nlp.get_pipe("ner").add_label(label)
    return nlp


def train(out: Path, *, count: int, epochs: int, seed: int) -> dict[str, float]:
    """Train and save the pipeline to ``out``; returns timing and the final loss."""
    fix_random_seed(seed)
    started = time.perf_counter()
    nlp = build_pipeline()
    examples = []
    for text, entities in sentences(count, seed):
        doc = nlp.make_doc(text)
        examples.append(Example.from_dict(doc, {"entities": _aligned(doc, entities)}))
    optimizer = nlp.initialize(lambda: examples)
    rng = random.Random(seed)
    losses: dict[str, float] = {}
    for _ in range(epochs):
        rng.shuffle(examples)
        losses = {}
        for batch in minibatch(examples, size=32):
            nlp.update(batch, sgd=optimizer, drop=0.2, losses=losses)
    nlp.meta.update(
        {
            "name": "docval_pii_ner",
            "version": "1.0.0",
            "description": f"PERSON/LOCATION NER trained by scripts/train_pii_ner.py (seed {seed}, {count} sentences)",
            "license": "Apache-2.0",
        }
    )
    out.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out)
    return {"seconds": round(time.perf_counter() - started, 1), "loss": round(losses.get("ner", 0.0), 2)}


def _aligned(doc: spacy.tokens.Doc, entities: list) -> list:
    """Entity offsets snapped to token boundaries (Faker values can end inside a token, e.g. before "'s")."""
    spans = [doc.char_span(start, end, label=label, alignment_mode="contract") for start, end, label in entities]
    return [(span.start_char, span.end_char, span.label_) for span in spans if span is not None]


def main() -> None:
    if os.environ.get("PYTHONHASHSEED") != "0":
        # Some Faker locales pick from sets (it_IT cities), whose order follows the per-process hash seed.
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, *sys.argv])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--sentences", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    figures = train(args.out, count=args.sentences, epochs=args.epochs, seed=args.seed)
    print(f"trained {args.out}: {args.sentences} sentences x {args.epochs} epochs in {figures['seconds']} s, "
          f"loss {figures['loss']}")  # fmt: skip


if __name__ == "__main__":
    main()
