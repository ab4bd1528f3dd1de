"""The model router: after the rules, ask models only for the fields the rules missed or doubt.

First the trained tier (``extractors/model``: a field scorer shipped as
package data, CPU only, no call) reads the invoice fields the rules are not
certain of and gives every field a calibrated confidence (the probability
that it is right); its answers carry tier ``local``. Then the endpoint tiers
run in order - local model (OpenAI-compatible endpoint on localhost), then
remote model - and each sees only the fields still missing or below their
confidence threshold. A failed tier (timeout, 429/5xx after retries,
malformed answer, open circuit) is recorded and the next tier takes over.
Every call is priced from the configured price table and booked against a
per-document and a per-day budget; when a budget would be exceeded the
document is flagged for human review with the reason, never dropped.

Privacy: the remote tier only ever receives text returned by the injected
``MaskFunction`` (pii/ provides it; this package never imports pii/). Its
answers are re-identified locally with ``MaskedText.reidentify``. Without a
mask function the remote tier is not used at all.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import typing
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from importlib import resources
from string import Template
from typing import Any

from docval.domain import DocKind, ExtractedField, MaskedText, MaskFunction, ModelCall, Tier
from docval.errors import ConfigError
from docval.keyfile import read_secret
from docval.settings import ModelEndpoint, ModelPrice, RouterSettings, Settings
from extractors.budget import DayBudget
from extractors.llm import ChatClient, CircuitBreaker, ModelCallError
from extractors.model import FieldModel, calibrated_kyc, load_model, read_fields
from extractors.normalize import currency_code, normalize_iban, normalize_vat_id, parse_amount, parse_date
from extractors.rules import PageLike
from extractors.schemas import SCHEMAS

__all__ = ["Escalation", "ModelTier", "PromptTemplate", "Router", "load_prompt"]

log = logging.getLogger(__name__)

_CHARS_PER_TOKEN = 4  # a conservative estimate for budgeting before the real counts come back
_MESSAGE_OVERHEAD_TOKENS = 16
_UNLOCATED_FACTOR = 0.8  # a model value not found verbatim in the text may be invented: trust it less


@dataclass(frozen=True)
class PromptTemplate:
    """A versioned prompt file in ``extractors/prompts/``; its SHA-256 is recorded with every call."""

    name: str
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def render(self, fields: list[str]) -> str:
        return Template(self.text).substitute(fields=", ".join(fields))


def load_prompt(kind: DocKind) -> PromptTemplate | None:
    resource = resources.files("extractors") / "prompts" / f"{kind.value}.txt"
    if not resource.is_file():
        return None
    return PromptTemplate(name=kind.value, text=resource.read_text(encoding="utf-8"))


@dataclass
class ModelTier:
    tier: Tier
    client: ChatClient
    confidence: float
    price: ModelPrice
    masked: bool  # True: the text goes through the MaskFunction first


@dataclass
class Escalation:
    fields: dict[str, ExtractedField]
    calls: list[ModelCall] = field(default_factory=list)
    prompt_versions: dict[str, str] = field(default_factory=dict)
    needs_review: bool = False
    review_reason: str | None = None


class Router:
    def __init__(
        self,
        settings: RouterSettings,
        tiers: list[ModelTier],
        *,
        day_budget: DayBudget | None,
        mask: MaskFunction | None,
        trained: FieldModel | None = None,
    ) -> None:
        if any(tier.masked for tier in tiers) and mask is None:
            raise ValueError("a masked tier needs a mask function")
        self.settings = settings
        self.tiers = tiers
        self.trained = trained
        self._day_budget = day_budget
        self._mask = mask

    @classmethod
    def from_settings(cls, settings: Settings, mask: MaskFunction | None = None) -> Router:
        """Tiers from ``[extract.router]``: local if enabled; remote if enabled AND a mask function is given."""
        config = settings.extract.router
        tiers = []
        if config.local.enabled:
            tiers.append(_tier(Tier.LOCAL, config.local, config, settings, masked=False))
        if config.remote.enabled and mask is None:
            log.warning("remote model tier disabled: no masking function was injected")
        elif config.remote.enabled:
            tiers.append(_tier(Tier.REMOTE, config.remote, config, settings, masked=True))
        budget = DayBudget(settings.data_dir / "extract" / "model_spend.json", Decimal(str(config.day_budget_usd)))
        trained = load_model() if config.trained_model else None
        return cls(config, tiers, day_budget=budget, mask=mask, trained=trained)

    @classmethod
    def rules_only(cls, settings: Settings) -> Router:
        """A router with no model tier: extraction stops after the rules (eval's baseline, tests)."""
        return cls(settings.extract.router, [], day_budget=None, mask=None)

    def close(self) -> None:
        for tier in self.tiers:
            tier.client.close()

    def threshold(self, name: str) -> float:
        return self.settings.field_thresholds.get(name, self.settings.field_threshold)

    def weak_fields(self, kind: DocKind, fields: dict[str, ExtractedField]) -> list[str]:
        """Scalar fields of ``kind`` that are missing or below their threshold (line items are rules-only)."""
        return [
            name
            for name in _scalar_fields(kind)
            if name not in fields or fields[name].confidence < self.threshold(name)
        ]

    def escalate(self, kind: DocKind, pages: list[PageLike], fields: dict[str, ExtractedField]) -> Escalation:
        """Ask each model tier in turn for the fields still weak; a tier's answer replaces a field only when it is
        more confident. Failures and budget stops are recorded in the result, never raised."""
        result = Escalation(fields=dict(fields))
        if self.trained is not None and kind is DocKind.INVOICE:
            result.fields = read_fields(self.trained, pages, fields)
            result.prompt_versions.update(model=self.trained.version, calibration=self.trained.calibration.version)
        elif self.trained is not None and kind is DocKind.KYC_FORM:
            result.fields = calibrated_kyc(self.trained, pages, fields)
            result.prompt_versions.update(calibration=self.trained.calibration.version)
        template = load_prompt(kind)
        if template is None or not self.tiers or not self.weak_fields(kind, result.fields):
            return result
        result.prompt_versions[template.name] = template.sha256
        text = _document_text(pages, self.settings.max_prompt_chars)
        spent = Decimal(0)
        for tier in self.tiers:
            weak = self.weak_fields(kind, result.fields)
            if not weak:
                break
            masked = self._masked(tier, text)
            if masked is None:
                _flag(result, f"masking failed before the {tier.tier.value} tier; nothing was sent")
                break
            messages = [
                {"role": "system", "content": template.render(weak)},
                {"role": "user", "content": masked.text},
            ]
            reserve = _cost(tier.price, _estimate_tokens(messages), self.settings.max_output_tokens)
            if spent + reserve > Decimal(str(self.settings.doc_budget_usd)):
                _flag(result, f"per-document model budget would be exceeded at the {tier.tier.value} tier")
                break
            if reserve > 0 and self._day_budget is not None and not self._day_budget.reserve(reserve):
                _flag(result, f"per-day model budget exhausted at the {tier.tier.value} tier")
                break
            call, answer = self._call(tier, template, kind, weak, messages)
            if reserve > 0 and self._day_budget is not None:
                self._day_budget.settle(reserve, call.usd)
            spent += call.usd
            result.calls.append(call)
            for name, raw in answer.items():
                candidate = _model_field(tier, kind, name, masked.reidentify(raw), pages)
                current = result.fields.get(name)
                if candidate is not None and (current is None or candidate.confidence > current.confidence):
                    result.fields[name] = candidate
        return result

    def _masked(self, tier: ModelTier, text: str) -> MaskedText | None:
        """The text a tier may see; None when masking fails (the text then never leaves the machine)."""
        if not tier.masked:
            return MaskedText(text=text)
        if self._mask is None:
            return None
        try:
            return self._mask(text)
        except Exception as exc:  # the injected function is foreign code: any failure must fail closed
            log.error("mask function failed: %s", type(exc).__name__)
            return None

    def _call(
        self, tier: ModelTier, template: PromptTemplate, kind: DocKind, weak: list[str], messages: list[dict[str, str]]
    ) -> tuple[ModelCall, dict[str, str]]:
        """One tier's call as a ModelCall record plus its string answers for the requested fields."""
        schema = {
            "type": "object",
            "properties": {name: {"type": ["string", "null"]} for name in weak},
            "required": weak,
            "additionalProperties": False,
        }
        started = time.perf_counter()
        record = {"tier": tier.tier, "model": tier.client.model, "prompt_sha256": template.sha256}
        try:
            answer = tier.client.complete(messages, f"{kind.value}_fields", schema, self.settings.max_output_tokens)
        except ModelCallError as exc:
            latency = (time.perf_counter() - started) * 1000
            log.info("model call failed: tier=%s code=%s attempts=%d", tier.tier.value, exc.code, exc.attempts)
            call = ModelCall(**record, tokens_in=0, tokens_out=0, usd=Decimal(0), latency_ms=latency, ok=False)
            return call.model_copy(update={"error": exc.code}), {}
        latency = (time.perf_counter() - started) * 1000
        usd = _cost(tier.price, answer.tokens_in, answer.tokens_out)
        call = ModelCall(
            **record, tokens_in=answer.tokens_in, tokens_out=answer.tokens_out, usd=usd, latency_ms=latency, ok=True
        )
        values = {name: value for name, value in answer.content.items() if name in weak and isinstance(value, str)}
        return call, values


def _tier(
    tier: Tier, endpoint: ModelEndpoint, config: RouterSettings, settings: Settings, *, masked: bool
) -> ModelTier:
    if not endpoint.base_url or not endpoint.model:
        raise ConfigError("settings", None, f"extract.router.{tier.value}: enabled but base_url or model is empty")
    client = ChatClient(
        endpoint.base_url,
        endpoint.model,
        api_key=_api_key(tier, endpoint, settings),
        timeout=config.call_timeout_seconds,
        max_retries=config.max_retries,
        backoff=config.backoff_seconds,
        breaker=CircuitBreaker(config.breaker_failures, config.breaker_cooldown_seconds),
    )
    price = config.prices.get(endpoint.model, ModelPrice())
    return ModelTier(tier=tier, client=client, confidence=endpoint.confidence, price=price, masked=masked)


def _api_key(tier: Tier, endpoint: ModelEndpoint, settings: Settings) -> str | None:
    """From the key file, else the named environment variable; a remote tier without a key is a config error."""
    if endpoint.api_key_file is not None:
        path = settings.resolve(endpoint.api_key_file)
        if path.is_file():
            return read_secret(path).decode("utf-8").strip()  # refused unless 0600, like every key file
    if endpoint.api_key_env and os.environ.get(endpoint.api_key_env):
        return os.environ[endpoint.api_key_env]
    if tier is Tier.REMOTE:
        raise ConfigError("settings", None, "extract.router.remote: no API key in api_key_file or api_key_env")
    return None


def _flag(result: Escalation, reason: str) -> None:
    log.warning("document flagged for review: %s", reason)
    result.needs_review = True
    result.review_reason = reason


def _cost(price: ModelPrice, tokens_in: int, tokens_out: int) -> Decimal:
    per_million = Decimal(1_000_000)
    return (
        Decimal(str(price.usd_per_million_input)) * tokens_in + Decimal(str(price.usd_per_million_output)) * tokens_out
    ) / per_million


def _estimate_tokens(messages: list[dict[str, str]]) -> int:
    return sum(len(m["content"]) // _CHARS_PER_TOKEN + _MESSAGE_OVERHEAD_TOKENS for m in messages)


def _document_text(pages: list[PageLike], limit: int) -> str:
    text = "\n".join(f"--- page {page.number} ---\n{page.text}" for page in pages)
    # pypdf can return lone surrogates (half an emoji); they cannot be encoded as UTF-8 JSON, so replace them.
    return text[:limit].encode("utf-8", "replace").decode("utf-8")


def _field_type(kind: DocKind, name: str) -> type:
    annotation = SCHEMAS[kind].model_fields[name].annotation
    args = typing.get_args(annotation) or (annotation,)
    return next((arg for arg in args if arg is not type(None)), str)


def _scalar_fields(kind: DocKind) -> list[str]:
    return [name for name in SCHEMAS[kind].model_fields if typing.get_origin(_field_type(kind, name)) is not list]


def _normalize(kind: DocKind, name: str, raw: str) -> str | None:
    """A model's string answer in the same canonical form the rules tier produces."""
    kind_type = _field_type(kind, name)
    if kind_type is date:
        parsed = parse_date(raw)
        return parsed.isoformat() if parsed else None
    if kind_type is Decimal:
        amount = parse_amount(raw)
        return None if amount is None else str(amount)
    if name == "iban":
        return normalize_iban(raw) or None
    if name == "seller_vat_id":
        return normalize_vat_id(raw) or None
    if name == "currency":
        return currency_code(raw)
    return " ".join(raw.split()) or None


def _model_field(tier: ModelTier, kind: DocKind, name: str, raw: str, pages: list[PageLike]) -> ExtractedField | None:
    value = _normalize(kind, name, raw)
    if value is None:
        return None
    located: dict[str, Any] = {"page": None, "span": None}
    confidence = tier.confidence * _UNLOCATED_FACTOR
    for page in pages:
        position = page.text.find(raw.strip())
        if raw.strip() and position >= 0:
            located = {"page": page.number, "span": (position, position + len(raw.strip()))}
            confidence = tier.confidence
            break
    return ExtractedField(value=value, confidence=confidence, tier=tier.tier, **located)
