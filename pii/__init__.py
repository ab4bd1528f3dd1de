"""Offline Presidio detection, consistent pseudonyms, the erasable vault and leak scanning (step 6).

Public surface::

    from pii import PiiEngine, PiiError
    engine = PiiEngine.from_settings(settings)      # pii.yaml (data dir, else packaged default); never downloads
    masked = engine.mask_text(text, kind=kind, doc=doc, subject=subject)   # docval.domain.MaskedText
    mask = engine.mask_function(kind)               # docval.domain.MaskFunction for extractors' remote tier
    result = engine.mask_fields(fields, kind=kind, doc=doc, subject=subject)  # MaskedFields; .event() -> doc.masked
    engine.vault.reveal(doc, token, user=user, roles=roles)   # Revelation(value, event: PiiRevealedPayload)
    engine.vault.erase(subject)                     # PiiErasedPayload (crypto-shredding)
    scan_paths(paths, engine=engine)                # list[LeakHit]: file, type, location; never the value
"""

from pii.config import Operator, PiiConfig, load_config
from pii.engine import MaskedFields, PiiEngine
from pii.errors import PiiAccessDenied, PiiError, SubjectErased
from pii.vault import READER_ROLE, Revelation, Vault

__all__ = [
    "READER_ROLE",
    "MaskedFields",
    "Operator",
    "PiiAccessDenied",
    "PiiConfig",
    "PiiEngine",
    "PiiError",
    "Revelation",
    "SubjectErased",
    "Vault",
    "load_config",
]
