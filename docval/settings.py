"""Settings: defaults < ``docval.toml`` < ``DOCVAL_*`` environment variables.

One settings object describes one installation: where its data directory is
and how each package behaves. Each package owns one nested section
(``[ledger]``, ``[extract]``, ``[pii]``, ``[flows]``, ``[reports]``) so a
setting's home is obvious from its name (``DOCVAL_LEDGER__CHECKPOINT_EVERY``).
Secrets (keys) are files under ``data_dir/keys``, never settings, so they
cannot leak into Prefect parameters or logs by being printed with the config.
"""

from __future__ import annotations

import os
import re
import tomllib
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from docval.errors import ConfigError

__all__ = [
    "ExtractSettings",
    "FlowSettings",
    "LedgerSettings",
    "ModelEndpoint",
    "ModelPrice",
    "PiiSettings",
    "ReportSettings",
    "RouterSettings",
    "Settings",
    "WorkbenchSettings",
    "config_path",
    "load_settings",
]

CONFIG_ENV = "DOCVAL_CONFIG"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_WITNESS = r"^https?://\S+ [^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$"


class LedgerSettings(_Section):
    origin: str = Field("docval.local/ledger", description="First line of every checkpoint (C2SP origin).")
    db_file: Path = Field(
        Path("ledger.duckdb"), description="The ledger's DuckDB file; relative to data_dir. One file per shard."
    )
    key_dir: Path = Field(
        Path("keys"), description="Folder of ledger.key/ledger.vkey; relative to data_dir. One key per shard."
    )
    key_name: str = Field("docval-ledger", description="Name in the note verifier key.")
    checkpoint_every: int = Field(1000, ge=1, description="Sign a checkpoint after this many new entries.")
    checkpoint_seconds: float = Field(60.0, gt=0, description="...or after this long with unsigned entries.")
    lock_timeout_seconds: float = Field(30.0, gt=0, description="Wait this long for the DuckDB file lock.")
    writer_hold_seconds: float = Field(
        1.0, gt=0, description="A bulk-writer session (Ledger.writer) gives the lock up after holding it this long."
    )
    witnesses: list[Annotated[str, StringConstraints(pattern=_WITNESS)]] = Field(
        [], description='C2SP witnesses cosigning every checkpoint: "http://HOST:PORT <witness verifier key>".'
    )
    witness_quorum: int = Field(0, ge=0, description="Cosignatures a checkpoint needs (0: every witness's).")


class ModelPrice(_Section):
    """What one model costs; the router turns token counts into money with it (budgets are in USD)."""

    usd_per_million_input: float = Field(0.0, ge=0)
    usd_per_million_output: float = Field(0.0, ge=0)


class ModelEndpoint(_Section):
    """One OpenAI-compatible chat-completions endpoint. The API key is never a setting: it is read from
    ``api_key_file`` (relative to data_dir) or the environment variable NAMED by ``api_key_env``."""

    enabled: bool = Field(False, description="Tiers are off until an endpoint is configured.")
    base_url: str = Field("", description="e.g. http://127.0.0.1:11434/v1 (Ollama); /chat/completions is appended.")
    model: str = Field("", description="Model id sent in the request and recorded in every ModelCall.")
    api_key_file: Path | None = Field(None, description="File holding the bearer key; relative to data_dir.")
    api_key_env: str | None = Field(None, description="Name of the environment variable holding the key.")
    confidence: float = Field(0.85, ge=0, le=1, description="Confidence given to this tier's answers.")


class RouterSettings(_Section):
    """The model router (DESIGN.md step 4): rules -> local -> remote, escalating only weak fields."""

    field_threshold: float = Field(0.8, ge=0, le=1, description="Fields below this confidence escalate.")
    field_thresholds: dict[str, float] = Field({}, description="Per-field overrides of field_threshold.")
    trained_model: bool = Field(True, description="Read weak invoice fields with the shipped trained model tier.")
    local: ModelEndpoint = ModelEndpoint(base_url="http://127.0.0.1:11434/v1", confidence=0.85)
    remote: ModelEndpoint = ModelEndpoint(api_key_file=Path("keys/remote_model.key"), confidence=0.9)
    prices: dict[str, ModelPrice] = Field({}, description="Price table by model id; unknown models cost 0.")
    call_timeout_seconds: float = Field(30.0, gt=0, description="Per HTTP request to a model.")
    max_retries: int = Field(2, ge=0, description="Retries after a 429, 5xx or timeout.")
    backoff_seconds: float = Field(0.5, ge=0, description="First retry delay; doubles each retry.")
    breaker_failures: int = Field(3, ge=1, description="Consecutive failed calls that open an endpoint's circuit.")
    breaker_cooldown_seconds: float = Field(60.0, gt=0, description="An open circuit retries after this long.")
    max_output_tokens: int = Field(800, ge=1, description="Cap on a model's answer length.")
    max_prompt_chars: int = Field(24000, ge=1000, description="Longer document text is cut before sending.")
    doc_budget_usd: float = Field(0.05, ge=0, description="Model spend per document; over it -> human review.")
    day_budget_usd: float = Field(5.0, ge=0, description="Model spend per UTC day across processes.")
    eval_margin: float = Field(0.05, ge=0, le=1, description="docval eval --gate fails on a larger field drop.")


class ExtractSettings(_Section):
    max_file_bytes: int = Field(50 * 1024 * 1024, ge=1, description="Larger PDFs are quarantined.")
    max_pages: int = Field(500, ge=1, description="PDFs with more pages are quarantined.")
    parse_timeout_seconds: float = Field(60.0, gt=0, description="Whole-document parse limit.")
    page_timeout_seconds: float = Field(10.0, gt=0, description="Text extraction limit per page.")
    max_memory_bytes: int = Field(1024**3, ge=64 * 1024**2, description="Address-space limit of the parser process.")
    max_attachment_bytes: int = Field(5 * 1024 * 1024, ge=1, description="Larger embedded e-invoice XML is ignored.")
    min_text_chars: int = Field(20, ge=0, description="Pages with less extracted text than this are OCRed.")
    ocr_enabled: bool = Field(True, description="OCR pages without a text layer (Debian tesseract-ocr).")
    ocr_language: str = Field(
        "eng",
        description="Tesseract language pack(s), e.g. 'eng+deu'; 'auto': those of the six installed here.",
    )
    ocr_dpi: int = Field(300, ge=50, le=600, description="Rendering resolution for OCR.")
    ocr_page_timeout_seconds: float = Field(60.0, gt=0, description="OCR limit per page.")
    max_ocr_pages: int = Field(20, ge=0, description="Documents needing OCR on more pages are quarantined.")
    total_tolerance: Decimal = Field(Decimal("0.02"), ge=0, description="Allowed rounding gap in invoice sums.")
    max_future_days: int = Field(30, ge=0, description="Dates further ahead than this are a finding.")
    required_fields: dict[str, tuple[str, ...]] = Field(
        {
            "invoice": ("invoice_number", "issue_date", "seller_name", "seller_vat_id", "grand_total"),
            "kyc_form": ("full_name", "date_of_birth", "address"),
        },
        description="Fields each document kind must carry (MISSING_FIELD otherwise).",
    )
    national_id_scheme: str = Field("de.idnr", description="python-stdnum module validating national_id; '' = off.")
    router: RouterSettings = RouterSettings()


class PiiSettings(_Section):
    config_file: Path = Field(Path("pii.yaml"), description="Recognizers and operators; relative to data_dir.")


class FlowSettings(_Section):
    prefect_api_url: str = Field("http://127.0.0.1:4200/api", description="Prefect server the worker uses.")
    policy_file: Path = Field(Path("policy.yaml"), description="Decision policy; relative to data_dir.")
    stable_seconds: float = Field(1.0, gt=0, description="A dropped file is claimed once unchanged this long.")
    stranded_seconds: float = Field(
        30.0, gt=0, description="Cluster: documents a dead run left in work/ this long get a recovery run."
    )
    batch_max: int = Field(200, ge=1, description="At most this many documents per processing flow run.")
    batch_wait_seconds: float = Field(0.5, ge=0, description="Collect claims this long before starting a batch.")
    serve_limit: int = Field(50, ge=1, description="Concurrent served runs (publish, deadlines, reports, ...).")
    retention_days: int = Field(365, ge=0, description="Archived originals older than this are deleted.")
    anchor_seconds: float = Field(60.0, gt=0, description="Interval of the anchor-shards deployment (ledger shards).")

    @model_validator(mode="before")
    @classmethod
    def _os_makers_moved(cls, data: Any) -> Any:
        """A mapping that names makers decides who may not approve: admins sign it, so it is not a setting."""
        if isinstance(data, dict) and "os_makers" in data:
            raise ValueError(
                "os_makers moved to policy.yaml (`os_makers:`), which admins sign: move the mapping there and "
                "run `docval policy apply --admin-key FILE` (docval does not start while docval.toml has it)"
            )
        return data


class ReportSettings(_Section):
    out_dir: Path = Field(Path("reports/out"), description="Scheduled reports land here; relative to data_dir.")
    lineage_rows: int = Field(1000, ge=1, description="Documents shown in the report's lineage table; all in the CSV.")
    schedule_cron: str = Field("0 6 1 * *", description="Default schedule of the report deployment (monthly).")


class WorkbenchSettings(_Section):
    """The reviewer workbench (``docval review``). Browsers allow passkeys on ``localhost`` without TLS, never on a
    bare IP address, so the server binds 127.0.0.1 and is addressed as http://localhost:PORT."""

    host: str = Field("127.0.0.1", description="Address the web server binds.")
    port: int = Field(8600, ge=1, le=65535, description="Port of the web server.")
    rp_id: str = Field("localhost", description="WebAuthn relying-party id: the host name reviewers type.")
    origin: str = Field(
        "", description="Origin pages are served from; '' = http://localhost:PORT. https://... behind TLS."
    )
    idle_minutes: float = Field(15.0, gt=0, description="A session with no request for this long is signed out.")
    invite_hours: float = Field(48.0, gt=0, description="An enrolment link expires after this long.")
    page_size: int = Field(50, ge=1, le=500, description="Queue rows per page.")

    @property
    def public_origin(self) -> str:
        return self.origin or f"http://localhost:{self.port}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOCVAL_", env_nested_delimiter="__", extra="forbid", frozen=True)

    data_dir: Path = Field(Path("var"), description="Everything docval writes lives below this folder.")
    ledger: LedgerSettings = LedgerSettings()
    extract: ExtractSettings = ExtractSettings()
    pii: PiiSettings = PiiSettings()
    flows: FlowSettings = FlowSettings()
    reports: ReportSettings = ReportSettings()
    workbench: WorkbenchSettings = WorkbenchSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=config_path()))

    # Folders of the life of a document (DESIGN.md); all below data_dir so one backup covers them.
    @cached_property
    def inbox(self) -> Path:
        return self.data_dir / "inbox"

    @cached_property
    def work_dir(self) -> Path:
        return self.data_dir / "work"

    @cached_property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @cached_property
    def outbox(self) -> Path:
        return self.data_dir / "outbox"

    @cached_property
    def archive_dir(self) -> Path:
        return self.data_dir / "archive"

    @cached_property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @cached_property
    def ledger_db(self) -> Path:
        return self.resolve(self.ledger.db_file)

    @cached_property
    def ledger_keys_dir(self) -> Path:
        """Where this ledger's (shard's) signing key lives; other secrets stay in ``keys_dir``."""
        return self.resolve(self.ledger.key_dir)

    @cached_property
    def store_db(self) -> Path:
        return self.data_dir / "store.duckdb"

    def awaiting_pdf(self, doc: str) -> Path:
        """Where an original waits for its approval: out of ``work/`` (nothing left to compute) but not archived."""
        return self.work_dir / "awaiting" / f"{doc}.pdf"

    def kept_original(self, doc: str) -> Path | None:
        """The unmasked original while it waits or once archived; None once retention removed it."""
        for path in (self.awaiting_pdf(doc), self.archive_dir / f"{doc}.pdf"):
            if path.exists():
                return path
        return None

    def resolve(self, relative: Path) -> Path:
        """A configured path, relative to ``data_dir`` unless absolute."""
        return relative if relative.is_absolute() else self.data_dir / relative

    def ensure_dirs(self) -> None:
        """Create the data directory's folders 0700 (docval.private explains why nothing here is shared)."""
        folders = (self.inbox, self.work_dir, self.quarantine_dir, self.outbox, self.archive_dir)
        for folder in (self.data_dir, *folders, self.keys_dir, self.ledger_keys_dir, self.ledger_db.parent):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)


def config_path() -> Path:
    """``$DOCVAL_CONFIG`` if set, else ``docval.toml`` in the working directory."""
    return Path(os.environ.get(CONFIG_ENV, "docval.toml"))


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the TOML file, the environment and ``overrides``; errors name the line."""
    path = config_path()
    text = ""
    if path.exists():
        text = path.read_text(encoding="utf-8")
        try:
            tomllib.loads(text)  # parsed again by the settings source; here only for a line-numbered error
        except tomllib.TOMLDecodeError as exc:
            line = re.search(r"at line (\d+)", str(exc))
            raise ConfigError(path, int(line.group(1)) if line else None, f"invalid TOML: {exc}") from None
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        origin = path if path.exists() and _toml_line(text, first["loc"]) else Path("environment")
        raise ConfigError(origin, _toml_line(text, first["loc"]), f"{location}: {first['msg']}") from None


def _toml_line(text: str, loc: tuple[Any, ...]) -> int | None:
    """Line of the key a validation error points at; tomllib keeps no positions, so search the text."""
    section, key = (str(loc[0]), str(loc[-1])) if len(loc) > 1 else (None, str(loc[0]))
    in_section = section is None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("["):
            header = line.strip("[] ")
            if section is None and header == key:
                return number
            in_section = header == section
            continue
        if in_section and line.split("=", 1)[0].strip() == key:
            return number
    return None
