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

from docval.lazy import lazy_exports

_EXPORTS = {
    "READER_ROLE": "pii.vault",
    "MaskedFields": "pii.engine",
    "Operator": "pii.config",
    "PiiAccessDenied": "pii.errors",
    "PiiConfig": "pii.config",
    "PiiEngine": "pii.engine",
    "PiiError": "pii.errors",
    "Revelation": "pii.vault",
    "SubjectErased": "pii.errors",
    "Vault": "pii.vault",
    "load_config": "pii.config",
}

__all__ = sorted(_EXPORTS)  # each name is imported from its module on first use
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
