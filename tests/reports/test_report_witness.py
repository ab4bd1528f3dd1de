"""The report names the witness status of its checkpoint, and its bundle verifies against the pinned
witness key (a real witness over HTTP on 127.0.0.1, a real ledger, the bundle's own verify.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

from reporthelpers import run_period

from docval.settings import Settings, load_settings
from ledger import Ledger
from ledger.witness import add_log, init_witness, serve
from reports import generate_report


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_report_shows_its_checkpoints_witness_status(settings: Settings, filled: Ledger, tmp_path: Path) -> None:
    """The report seals its checkpoint and offers it to the witnesses itself; one that is down shows as pending."""
    key = init_witness(tmp_path / "w1", "auditor.example/w1")
    add_log(tmp_path / "w1", settings.ledger.origin, filled.verifier_key())  # the key after the ledger's rotation
    config = Path(os.environ["DOCVAL_CONFIG"])
    config.write_text(f'[ledger]\nwitnesses = ["http://127.0.0.1:{free_port()} {key}"]\n')  # nobody listens
    unsent = generate_report(load_settings(), run_period(), tmp_path / "before")
    assert "Witnesses: NOT YET COSIGNED by 0 of 1 witnesses (1 required); not by auditor.example/w1." in (
        unsent.html.read_text()
    )
    server = serve(tmp_path / "w1", "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        config.write_text(f'[ledger]\nwitnesses = ["http://127.0.0.1:{server.server_address[1]} {key}"]\n')
        files = generate_report(load_settings(), run_period(), tmp_path / "after", bundle=True)
    finally:
        server.shutdown()
        server.server_close()
    assert "Witnesses: cosigned by 1 of 1 witnesses (1 required)." in files.html.read_text()
    (tmp_path / "w1.vkey").write_text(f"{key}\n")
    bundle = tmp_path / "after" / "bundle"
    audited = subprocess.run(
        [sys.executable, str(bundle / "verify.py"), str(bundle), "--witness-key", str(tmp_path / "w1.vkey")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert audited.returncode == 0 and "PASS witnesses: the checkpoint is cosigned by auditor.example/w1" in (
        audited.stdout
    ), audited.stdout
