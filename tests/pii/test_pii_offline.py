"""Building the engine and masking must never touch the network (spaCy model download, tldextract PSL fetch)."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from docval.settings import Settings
from pii import PiiEngine


class NetworkUsed(AssertionError):
    pass


def _refuse(*args: object, **kwargs: object) -> None:
    raise NetworkUsed(f"network access attempted: {args!r}")


def test_engine_builds_and_masks_offline(monkeypatch: pytest.MonkeyPatch, fresh_settings: Settings) -> None:
    monkeypatch.setattr(socket, "create_connection", _refuse)
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse)
    monkeypatch.setattr(socket, "getaddrinfo", _refuse)
    engine = PiiEngine.from_settings(fresh_settings)
    masked = engine.mask_text("Write to jane.doe@example.co.uk or ops@corp.internal")
    assert masked.text == "Write to <EMAIL_ADDRESS_1> or <EMAIL_ADDRESS_2>"


def test_fresh_process_opens_no_socket(tmp_path: Path) -> None:
    """Imports included: a new interpreter that cannot connect or resolve builds the engine and masks an e-mail.

    (Creating a socket is allowed: urllib3 probes IPv6 support with one at import, without any traffic.)
    """
    script = textwrap.dedent(
        f"""
        import socket
        def refuse(*args, **kwargs):
            raise SystemExit(f"network access attempted: {{args!r}}")
        socket.socket.connect = socket.socket.connect_ex = socket.socket.sendto = refuse
        socket.create_connection = socket.getaddrinfo = refuse
        from pathlib import Path
        from docval.settings import Settings
        from pii import PiiEngine
        settings = Settings(data_dir=Path({str(tmp_path / "var")!r}))
        settings.ensure_dirs()
        engine = PiiEngine.from_settings(settings)
        print(engine.mask_text("mail anna@example.com, IBAN DE89 3704 0044 0532 0130 00").text)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "mail <EMAIL_ADDRESS_1>, IBAN <IBAN_CODE_1>"
    assert "Traceback" not in result.stderr
