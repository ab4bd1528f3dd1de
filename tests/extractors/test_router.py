"""The model router against a real chat-completions server on 127.0.0.1 (no mocked clients)."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from extract_chat_server import Behaviour, ChatServer
from hypothesis import given
from hypothesis import settings as settings_
from hypothesis import strategies as st

from docval.domain import DocKind, MaskedText, Tier
from docval.settings import ModelEndpoint, ModelPrice, Settings
from extractors.budget import DayBudget
from extractors.extract import extract
from extractors.pdf import PageText, PdfDocument
from extractors.router import Router, load_prompt

INVOICE = """RECHNUNG
Rechnungsnummer: R-2024-0815
Rechnungsdatum: 05.03.2024
Rechnungsempfänger
Erika Musterfrau
Gartenweg 7, 12345 Musterstadt
Pos Beschreibung Betrag
1 Beratung 100,00
Zahlbar per Überweisung an IBAN DE89 3704 0044 0532 0130 00
"""


def document(text: str) -> PdfDocument:
    return PdfDocument(pages=[PageText(number=1, text=text, source="text")])


@pytest.fixture
def local_server() -> Iterator[ChatServer]:
    server = ChatServer()
    yield server
    server.stop()


@pytest.fixture
def remote_server() -> Iterator[ChatServer]:
    server = ChatServer()
    yield server
    server.stop()


def configure(settings: Settings, *, local: ChatServer | None = None, remote: ChatServer | None = None, **router: Any):
    """Settings whose router points at the test servers; fast retries so failure tests stay quick."""
    # The endpoint tiers are under test here: the trained tier (tested in test_model.py) would answer first.
    fields: dict[str, Any] = {"backoff_seconds": 0.01, "call_timeout_seconds": 2.0, "trained_model": False, **router}
    if local is not None:
        fields["local"] = ModelEndpoint(enabled=True, base_url=local.base_url, model="local-test", confidence=0.85)
    if remote is not None:
        fields["remote"] = ModelEndpoint(
            enabled=True, base_url=remote.base_url, model="remote-test", api_key_env="TEST_REMOTE_KEY", confidence=0.9
        )
    config = settings.extract.router.model_copy(update=fields)
    return settings.model_copy(update={"extract": settings.extract.model_copy(update={"router": config})})


def run(settings: Settings, mask=None, text: str = INVOICE):
    router = Router.from_settings(settings, mask=mask)
    try:
        return extract(document(text), router)
    finally:
        router.close()


def requested_fields(body: dict[str, Any]) -> set[str]:
    return set(body["response_format"]["json_schema"]["schema"]["properties"])


def test_no_endpoint_tiers_by_default(settings: Settings) -> None:
    """By default nothing leaves the machine: no endpoint is called; the shipped trained tier may answer."""
    result = run(settings)
    assert result.kind is DocKind.INVOICE
    assert result.calls == []
    assert set(result.prompt_versions) <= {"model", "calibration"}  # the trained tier names its versions if it ran
    assert result.fields["invoice_number"].value == "R-2024-0815"
    assert result.fields["invoice_number"].tier in (Tier.RULES, Tier.LOCAL)


def test_local_tier_fills_only_weak_fields_and_records_the_call(settings: Settings, local_server: ChatServer) -> None:
    local_server.default = Behaviour(answer={"grand_total": "119,00", "due_date": "04.04.2024", "tax_rate": None})
    prices = {"local-test": ModelPrice(usd_per_million_input=1.0, usd_per_million_output=2.0)}
    result = run(configure(settings, local=local_server, prices=prices))

    assert len(local_server.requests) == 1
    body = local_server.requests[0]
    asked = requested_fields(body)
    assert "invoice_number" not in asked and "iban" not in asked  # confident rules fields never escalate
    assert {"grand_total", "due_date", "seller_name"} <= asked
    assert "line_items" not in asked
    assert body["response_format"]["type"] == "json_schema"
    assert body["model"] == "local-test"

    assert result.fields["grand_total"].value == "119.00"
    assert result.fields["grand_total"].tier is Tier.LOCAL
    assert result.fields["due_date"].value == "2024-04-04"
    assert result.fields["invoice_number"].tier is Tier.RULES
    (call,) = result.calls
    assert call.ok and call.tier is Tier.LOCAL and call.model == "local-test"
    assert (call.tokens_in, call.tokens_out) == (120, 30)
    assert call.usd == Decimal("0.00018")  # 120 * 1.0 / 1e6 + 30 * 2.0 / 1e6
    prompt_file = Path(__file__).resolve().parents[2] / "extractors" / "prompts" / "invoice.txt"
    expected_sha = hashlib.sha256(prompt_file.read_bytes()).hexdigest()
    assert call.prompt_sha256 == expected_sha == result.prompt_versions["invoice"]


def test_text_with_lone_surrogates_is_still_sent(settings: Settings, local_server: ChatServer) -> None:
    local_server.default = Behaviour(answer={"grand_total": "100,00"})
    result = run(configure(settings, local=local_server), text=INVOICE + "Kontakt \ud83d sav@example.com\n")
    assert result.calls[0].ok and result.fields["grand_total"].tier is Tier.LOCAL


def test_value_not_in_text_gets_lower_confidence(settings: Settings, local_server: ChatServer) -> None:
    local_server.default = Behaviour(answer={"seller_name": "Phantom AG", "grand_total": "100,00"})
    result = run(configure(settings, local=local_server))
    assert result.fields["grand_total"].page == 1 and result.fields["grand_total"].confidence == 0.85
    assert result.fields["seller_name"].page is None and result.fields["seller_name"].confidence < 0.85


def test_timeout_retries_then_falls_back_to_remote(
    settings: Settings, local_server: ChatServer, remote_server: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_REMOTE_KEY", "sk-test-123")
    local_server.default = Behaviour(answer={}, delay=1.0)
    remote_server.default = Behaviour(answer={"grand_total": "119,00"})
    configured = configure(settings, local=local_server, remote=remote_server, call_timeout_seconds=0.3, max_retries=1)
    result = run(configured, mask=lambda text: MaskedText(text=text))

    assert len(local_server.requests) == 2  # first try + one retry
    local_call, remote_call = result.calls
    assert not local_call.ok and local_call.error == "TIMEOUT"
    assert remote_call.ok and remote_call.tier is Tier.REMOTE
    assert result.fields["grand_total"].tier is Tier.REMOTE
    assert remote_server.headers[0]["authorization"] == "Bearer sk-test-123"


def test_429_is_retried_with_backoff(settings: Settings, local_server: ChatServer) -> None:
    local_server.script = [Behaviour(status=429, headers={"retry-after": "0"}), Behaviour(status=503)]
    local_server.default = Behaviour(answer={"grand_total": "119,00"})
    result = run(configure(settings, local=local_server, max_retries=2))
    assert len(local_server.requests) == 3
    assert result.calls[0].ok and result.fields["grand_total"].value == "119.00"


@pytest.mark.parametrize(
    ("behaviour", "code", "requests"),
    [
        (Behaviour(status=500), "HTTP_500", 3),
        (Behaviour(status=400), "HTTP_400", 1),  # a client error is not retried
        (Behaviour(raw_content="{not json"), "MALFORMED", 1),
        (Behaviour(raw_body=b"<html>oops</html>"), "MALFORMED", 1),
        (Behaviour(raw_content='["a list"]'), "MALFORMED", 1),
    ],
)
def test_failures_are_recorded_not_raised(
    settings: Settings, local_server: ChatServer, behaviour: Behaviour, code: str, requests: int
) -> None:
    local_server.default = behaviour
    result = run(configure(settings, local=local_server, max_retries=2))
    assert len(local_server.requests) == requests
    (call,) = result.calls
    assert not call.ok and call.error == code and call.usd == 0
    assert result.fields["invoice_number"].tier is Tier.RULES  # rules results survive a failed tier
    assert not result.needs_review


def test_circuit_breaker_stops_calling_a_dead_endpoint(settings: Settings, local_server: ChatServer) -> None:
    local_server.default = Behaviour(status=500)
    router = Router.from_settings(configure(settings, local=local_server, max_retries=0, breaker_failures=2))
    try:
        results = [extract(document(INVOICE), router) for _ in range(4)]
    finally:
        router.close()
    assert len(local_server.requests) == 2
    assert [r.calls[0].error for r in results] == ["HTTP_500", "HTTP_500", "CIRCUIT_OPEN", "CIRCUIT_OPEN"]


def _pseudonymize(text: str) -> MaskedText:
    """A stand-in for pii/'s mask function: replaces the known personal values by tokens."""
    originals = {"<PERSON_1>": "Erika Musterfrau", "<IBAN_1>": "DE89 3704 0044 0532 0130 00"}
    for token, value in originals.items():
        text = text.replace(value, token)
    return MaskedText(text=text, originals=originals)


def test_remote_tier_sees_only_masked_text_and_answers_are_reidentified(
    settings: Settings, remote_server: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_REMOTE_KEY", "sk-test")
    remote_server.default = Behaviour(answer={"buyer_name": "<PERSON_1>", "grand_total": "119,00"})
    result = run(configure(settings, remote=remote_server, field_threshold=0.99), mask=_pseudonymize)

    sent = remote_server.sent_text()
    assert "Erika" not in sent and "Musterfrau" not in sent and "0532 0130" not in sent
    assert "<PERSON_1>" in sent
    assert result.fields["buyer_name"].value == "Erika Musterfrau"
    assert result.fields["buyer_name"].tier is Tier.REMOTE
    assert result.fields["buyer_name"].page == 1  # re-identified value found in the original text


def test_a_failing_mask_fails_closed(
    settings: Settings, remote_server: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_REMOTE_KEY", "sk-test")

    def broken(text: str) -> MaskedText:
        raise RuntimeError("analyzer crashed")

    result = run(configure(settings, remote=remote_server), mask=broken)
    assert remote_server.requests == [] and result.calls == []
    assert result.needs_review and "masking failed" in (result.review_reason or "")


def test_remote_tier_is_never_used_without_a_mask(
    settings: Settings, remote_server: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_REMOTE_KEY", "sk-test")
    result = run(configure(settings, remote=remote_server), mask=None)
    assert remote_server.requests == [] and result.calls == []


def test_remote_tier_without_key_is_a_config_error(settings: Settings, remote_server: ChatServer) -> None:
    from docval.errors import ConfigError

    with pytest.raises(ConfigError, match="API key"):
        Router.from_settings(configure(settings, remote=remote_server), mask=_pseudonymize)


def test_key_file_is_sent_but_never_part_of_the_settings(settings: Settings, remote_server: ChatServer) -> None:
    key_file = settings.keys_dir / "remote_model.key"
    key_file.write_text("sk-from-file\n")
    key_file.chmod(0o600)
    remote_server.default = Behaviour(answer={})
    configured = configure(settings, remote=remote_server)
    endpoint = configured.extract.router.remote.model_copy(update={"api_key_env": None, "api_key_file": key_file})
    router_config = configured.extract.router.model_copy(update={"remote": endpoint})
    configured = configured.model_copy(
        update={"extract": configured.extract.model_copy(update={"router": router_config})}
    )
    run(configured, mask=_pseudonymize)
    assert remote_server.headers[0]["authorization"] == "Bearer sk-from-file"
    assert "sk-from-file" not in configured.model_dump_json()
    key_file.chmod(0o644)  # a key others can read may already be copied: refused, naming the file
    from docval.errors import ConfigError

    with pytest.raises(ConfigError, match=f"{key_file}: mode 0644"):
        Router.from_settings(configured, mask=_pseudonymize)


def test_document_budget_sends_to_review_without_calling(
    settings: Settings, remote_server: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_REMOTE_KEY", "sk-test")
    expensive = {"remote-test": ModelPrice(usd_per_million_input=1_000_000.0, usd_per_million_output=1_000_000.0)}
    configured = configure(settings, remote=remote_server, prices=expensive, doc_budget_usd=1.0)
    result = run(configured, mask=_pseudonymize)
    assert remote_server.requests == []
    assert result.needs_review and "per-document" in (result.review_reason or "")
    assert result.fields["invoice_number"].value == "R-2024-0815"  # nothing dropped


def test_day_budget_is_shared_between_routers(settings: Settings, local_server: ChatServer) -> None:
    local_server.default = Behaviour(answer={"grand_total": "119,00"}, tokens=(1000, 1000))
    price = {"local-test": ModelPrice(usd_per_million_input=10.0, usd_per_million_output=10.0)}
    configured = configure(settings, local=local_server, prices=price, day_budget_usd=0.03, doc_budget_usd=1.0)
    first = run(configured)  # reserves ~0.0093, spends 0.02
    second = run(configured)  # 0.02 + reservation > 0.03
    assert first.calls[0].ok and not first.needs_review
    assert second.needs_review and "per-day" in (second.review_reason or "")
    assert len(local_server.requests) == 1
    spend = json.loads((settings.data_dir / "extract" / "model_spend.json").read_text())
    assert [Decimal(v) for v in spend.values()] == [Decimal("0.02")]


def _one_day() -> str:
    """A fixed day: the real one may turn at midnight between two reservations of one test."""
    return "2026-12-04"


def _reserve_many(path: str, count: int) -> int:
    budget = DayBudget(Path(path), Decimal("1.0"), today=_one_day)
    return sum(budget.reserve(Decimal("0.01")) for _ in range(count))


def test_day_budget_reservations_hold_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "spend.json"
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        granted = sum(pool.starmap(_reserve_many, [(str(path), 50)] * 3))
    assert granted == 100  # exactly the budget, never more, with three processes racing
    assert DayBudget(path, Decimal("1.0"), today=_one_day).spent_today() == Decimal("1.00")


def test_prompt_templates_are_versioned_files() -> None:
    template = load_prompt(DocKind.INVOICE)
    assert template is not None and len(template.sha256) == 64
    assert load_prompt(DocKind.OTHER) is None


@pytest.fixture(scope="module")
def shared_remote() -> Iterator[ChatServer]:
    server = ChatServer()
    yield server
    server.stop()


NAMES = st.text(alphabet=st.characters(categories=("Lu", "Ll")), min_size=4, max_size=12)


@settings_(max_examples=15, deadline=None)
@given(first=NAMES, last=NAMES)
def test_property_remote_never_sees_the_masked_originals(
    tmp_path_factory: pytest.TempPathFactory, shared_remote: ChatServer, first: str, last: str
) -> None:
    """Whatever the personal value, the remote request carries only its token, and the answer maps back."""
    person = f"{first} {last}"
    shared_remote.requests.clear()
    shared_remote.default = Behaviour(answer={"buyer_name": "<PERSON_1>"})

    def mask(text: str) -> MaskedText:
        return MaskedText(text=text.replace(person, "<PERSON_1>"), originals={"<PERSON_1>": person})

    base = Settings(data_dir=tmp_path_factory.mktemp("var"))
    endpoint = ModelEndpoint(
        enabled=True, base_url=shared_remote.base_url, model="remote-test", api_key_file=Path("keys/remote_model.key")
    )
    router_config = base.extract.router.model_copy(update={"remote": endpoint, "field_threshold": 0.99})
    configured = base.model_copy(update={"extract": base.extract.model_copy(update={"router": router_config})})
    key = configured.keys_dir / "remote_model.key"
    key.parent.mkdir(parents=True, exist_ok=True)
    key.write_text("sk")
    key.chmod(0o600)
    result = run(configured, mask=mask, text=INVOICE.replace("Erika Musterfrau", person))
    assert person not in shared_remote.sent_text()
    assert result.fields["buyer_name"].value == person


@settings_(max_examples=30, deadline=None)
@given(st.lists(st.decimals(min_value=0, max_value=1, places=3), max_size=30), st.data())
def test_property_day_budget_never_exceeds_its_limit(
    tmp_path_factory: pytest.TempPathFactory, amounts: list[Decimal], data: st.DataObject
) -> None:
    budget = DayBudget(tmp_path_factory.mktemp("budget") / "spend.json", Decimal("2"), today=_one_day)
    for amount in amounts:
        if budget.reserve(amount):
            actual = data.draw(st.decimals(min_value=0, max_value=amount, places=3))
            budget.settle(amount, actual)
        assert Decimal(0) <= budget.spent_today() <= Decimal("2")
