"""The workbench in real headless Chromium with a CDP virtual authenticator (one browser for the module).

Real parts throughout: the Debian Chromium binary driven by Playwright, py_webauthn on the server, the
approvals core recording into a real ledger, admins' real ssh-keygen keys, `docval users invite/confirm`
run in-process (the first invitation as a real subprocess), and page images rendered by pypdfium2 from a
real invoice PDF. The tests are one story in file order (the module's fixture is the shared world): the
first enrols bob, alice and carol and decides a document; the attack tests that follow reuse their sessions.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from benchcheck import SOURCE, enrol_ssh, make_key, waiting_document
from playwright.sync_api import Browser, BrowserContext, CDPSession, Page, expect, sync_playwright
from typer.testing import CliRunner

from approvals.audit import check_installation
from approvals.entries import DecisionPayload
from approvals.record import read_roster, record_decision
from approvals.roles import Role
from approvals.signers import ssh_signature
from approvals.state import fold_state
from approvals.statement import DecisionStatement
from docval.hashing import KeyedHasher
from docval.settings import Settings, load_settings
from docval.shards import shard_settings
from flows.reviewing import home_ledgers
from ledger import Ledger, init_keys
from pii.vault import Vault
from workbench import cli as workbench_cli
from workbench.app import build_server
from workbench.corrections import CorrectionStatement

CHROMIUM = "/usr/lib/chromium/chromium"
AXE = Path(__file__).parent / "data" / "axe-core" / "axe.min.js"
SHOTS = Path(os.environ.get("DOCVAL_SCREENSHOTS", Path(__file__).parent / "screenshots"))

FINGERPRINT = re.compile(r"^[0-9a-f]{4}(:[0-9a-f]{4}){7}$")

pytestmark = pytest.mark.timeout(300)


@dataclass
class Bench:
    base: str
    env: dict[str, str]
    settings: Settings
    ledger: Ledger
    erin_key: Path
    doc: str
    doc2: str
    browser: Browser
    shard: Ledger  # a cluster worker's shard ledger, holding the history of ``sharded``
    sharded: str
    published: list[str] = field(default_factory=list)
    people: dict[str, Reviewer] = field(default_factory=dict)

    def docval(self, *args: str, subprocess_: bool = False) -> str:
        """Run a ``docval`` command: in this process (the same typer commands, fast) or as a real subprocess."""
        if subprocess_:
            done = subprocess.run(
                [sys.executable, "-m", "docval", *args], env=self.env, capture_output=True, text=True, timeout=60
            )
            assert done.returncode == 0, done.stderr
            return done.stdout
        commands = typer.Typer()
        workbench_cli.register(commands)
        result = CliRunner().invoke(commands, list(args), env=self.env)
        assert result.exit_code == 0, result.output
        return result.stdout


@dataclass
class Reviewer:
    """One person's browser: their own context, page and virtual authenticator (which holds their passkey)."""

    context: BrowserContext
    page: Page
    errors: list[str]
    cdp: CDPSession  # kept: the virtual authenticator lives as long as the CDP session that added it


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[Bench]:
    root = tmp_path_factory.mktemp("workbench")
    port = _free_port()
    env = {
        **os.environ,
        "DOCVAL_CONFIG": str(root / "docval.toml"),
        "DOCVAL_DATA_DIR": str(root / "var"),
        "DOCVAL_WORKBENCH__PORT": str(port),
    }
    with pytest.MonkeyPatch.context() as patch:
        for name in ("DOCVAL_CONFIG", "DOCVAL_DATA_DIR", "DOCVAL_WORKBENCH__PORT"):
            patch.setenv(name, env[name])
        settings = load_settings()
    settings.ensure_dirs()
    init_keys(settings.keys_dir, settings.ledger.key_name)
    ledger = Ledger.open(settings)
    keys = root / "people"  # people's own machines: outside the data directory
    keys.mkdir()
    erin, alice = make_key(keys, "erin"), make_key(keys, "alice")
    enrol_ssh(ledger, "erin", [Role.ADMIN], erin, "erin", erin)
    enrol_ssh(ledger, "alice", [Role.SUBMITTER, Role.REVIEWER], alice, "erin", erin)
    pdf = shared_data / "invoices-invoice2data" / "compare" / "AmazonWebServices.pdf"
    doc = waiting_document(settings, ledger, pdf, maker="alice")
    doc2 = waiting_document(settings, ledger, pdf, maker="alice")
    shard = shard_settings(settings, "w1")  # as a cluster worker leaves it: its own signed ledger, shared store
    init_keys(shard.ledger_keys_dir, shard.ledger.key_name)
    shard_ledger = Ledger.open(shard)
    sharded = waiting_document(settings, shard_ledger, pdf, maker="alice")
    published: list[str] = []
    server = build_server(settings, published.append, home_ledgers(settings))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "workbench did not start"
        time.sleep(0.02)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        base = f"http://localhost:{port}"
        yield Bench(base, env, settings, ledger, erin, doc, doc2, browser, shard_ledger, sharded, published)
        browser.close()
    server.should_exit = True
    thread.join(timeout=10)


def _open_browser(bench: Bench, name: str) -> Reviewer:
    context = bench.browser.new_context(base_url=bench.base)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    reviewer = Reviewer(context, page, errors, cdp)
    bench.people[name] = reviewer
    return reviewer


def _enrol(bench: Bench, name: str, *roles: str, subprocess_: bool = False) -> Reviewer:
    """Invite (CLI) -> the person registers a passkey (browser) -> the admin confirms its fingerprint (CLI).

    ``subprocess_``: run the invitation as a real ``python -m docval`` (slow on a busy machine: once per module).
    """
    role_args = [arg for role in roles for arg in ("--role", role)]
    invite = ("users", "invite", name, *role_args, "--admin-key", str(bench.erin_key))
    link = bench.docval(*invite, subprocess_=subprocess_).splitlines()[0]
    assert link.startswith(f"{bench.base}/enrol/")
    reviewer = _open_browser(bench, name)
    response = reviewer.page.goto(link)
    assert response is not None and response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    reviewer.page.click("#enrol")
    fingerprint = reviewer.page.locator("#fingerprint")
    expect(fingerprint).to_have_text(FINGERPRINT)
    confirm = ("users", "confirm", name, fingerprint.text_content() or "", "--admin-key", str(bench.erin_key))
    bench.docval(*confirm)
    return reviewer


def _sign_in(bench: Bench, reviewer: Reviewer) -> None:
    reviewer.page.goto("/signin")
    reviewer.page.click("#signin")
    reviewer.page.wait_for_url(f"{bench.base}/")


def _decide(reviewer: Reviewer, doc: str, decision: str, reason: str) -> None:
    reviewer.page.goto(f"/doc/{doc}")
    reviewer.page.fill("#reason", reason)
    reviewer.page.click(f'button[data-decision="{decision}"]')


def _round(bench: Bench, doc: str) -> str:
    return [e.data["round"] for e in bench.ledger.entries_for_doc(doc) if e.kind == "approval.requested"][-1]


def _kinds(bench: Bench, doc: str | None = None) -> list[str]:
    entries = bench.ledger.entries_for_doc(doc) if doc else list(bench.ledger.entries())
    return [str(entry.kind) for entry in entries]


def test_invite_enrol_sign_in_review_and_two_people_approve(bench: Bench) -> None:
    bob = _enrol(bench, "bob", "reviewer", "pii_reader", subprocess_=True)  # once through `python -m docval`
    _sign_in(bench, bob)
    queue = bob.page
    expect(queue.locator("table.queue tbody tr")).to_have_count(3)  # two in the root ledger, one in a shard
    expect(queue.locator("table.queue")).to_contain_text("low_confidence")
    expect(queue.locator("table.queue")).to_contain_text(SOURCE)  # the outbox's masked name, as pending shows it
    SHOTS.mkdir(parents=True, exist_ok=True)
    queue.screenshot(path=str(SHOTS / "queue.png"), full_page=True)

    queue.click(f'a[href="/doc/{bench.doc}"]')
    expect(queue.locator("tr.field.weak")).to_have_count(1)  # grand_total at 0.62
    image = queue.locator(".page img").first
    expect(image).to_be_visible()
    queue.wait_for_function("document.querySelector('.page img').naturalWidth > 0")
    queue.locator("tr.field").first.click()
    expect(queue.locator("#page-1 .mark")).to_be_visible()
    _expect_marked_where_printed(queue)
    assert "original.viewed" in _kinds(bench, bench.doc)
    queue.screenshot(path=str(SHOTS / "document.png"), full_page=True)

    first_round = _round(bench, bench.doc)
    queue.locator("details.correct summary").click()
    queue.select_option("#correct-field", "grand_total")
    queue.fill("#correct-value", "4.11")
    queue.click("#correct")
    expect(queue.locator("tr.field.weak")).to_have_count(0)  # now tier human, confidence 1.00
    assert _round(bench, bench.doc) != first_round
    corrected = [e for e in bench.ledger.entries_for_doc(bench.doc) if e.kind == "doc.corrected"]
    assert [(e.actor, e.data["statement"]["field"]) for e in corrected] == [("bob", "grand_total")]
    assert "4.11" not in json.dumps(corrected[0].data)  # values reach the ledger only as keyed hashes
    outbox = json.loads((bench.settings.outbox / f"{bench.doc}.json").read_text())
    assert outbox["fields"]["grand_total"]["tier"] == "human"
    assert _vault(bench).labels()[bench.doc] == {"grand_total": "4.11"}  # a truth label for docval eval

    _decide(bob, bench.doc, "approve", "matches the purchase order")
    expect(bob.page.locator("#progress")).to_contain_text("1 of 2 approvals — waiting for a second person")

    # bob's approval counts in this round: the page offers him no second vote and says why; the core still refuses
    expect(bob.page.locator("#decisions")).to_contain_text("Approved by bob (reviewer)")
    expect(bob.page.locator("#cannot-decide")).to_contain_text("has already decided in this round")
    expect(bob.page.locator("button[data-decision]")).to_have_count(0)
    again = _post(bob.page, f"/doc/{bench.doc}/decide/options", {"decision": "approve", "reason": "again"})
    assert again["status"] == 403 and "has already decided in this round" in again["body"]["error"]

    alice = _enrol(bench, "alice", "submitter", "reviewer")  # the maker, now with a passkey too
    _sign_in(bench, alice)
    expect(alice.page.locator("table.queue")).to_contain_text("your submission")
    alice.page.goto(f"/doc/{bench.doc}")  # the maker is offered no buttons, and told why
    expect(alice.page.locator("#cannot-decide")).to_contain_text("You submitted this document")
    expect(alice.page.locator("#cannot-decide")).to_contain_text("alice submitted this document and cannot decide")
    expect(alice.page.locator("button[data-decision]")).to_have_count(0)
    mine = _post(alice.page, f"/doc/{bench.doc}/decide/options", {"decision": "approve", "reason": "looks fine"})
    assert mine["status"] == 403 and "alice submitted this document" in mine["body"]["error"]

    carol = _enrol(bench, "carol", "reviewer")
    _sign_in(bench, carol)
    _decide(carol, bench.doc, "approve", "amount checked with the supplier")
    expect(carol.page.locator("#progress")).to_contain_text("2 of 2 approvals")
    assert bench.published == [bench.doc]
    assert carol.page.locator(".page img").count() == 0  # a reviewer without pii_reader sees no original
    shown = carol.page.locator("pre.masked-text")  # but the page's text, masked (fetched after the page loads)
    expect(shown).to_contain_text("Total for this invoice $4.11")
    expect(shown).to_contain_text("<PERSON_")
    expect(shown).not_to_contain_text("Sai Yu Chung")  # the billed person's address, in the PDF's text layer
    carol.page.screenshot(path=str(SHOTS / "document-masked.png"), full_page=True)

    refused = ["Failed to load resource: the server responded with a status of 403 (Forbidden)"]
    assert (bob.errors, alice.errors, carol.errors) == (refused, refused, [])  # only the two refused POSTs above
    kinds = _kinds(bench)
    assert kinds.count("session.signed_in") == 3
    assert kinds.count("approval.granted") == 2


def _vault(bench: Bench) -> Vault:
    keys = bench.settings.keys_dir
    return Vault(
        bench.settings.data_dir / "pii" / "vault.sqlite",
        keys / "pii-master.key",
        KeyedHasher.from_file(keys / "hmac.key"),
    )


def _expect_marked_where_printed(page: Page) -> None:
    """Selecting a field draws a rectangle around its value on the page image; a masked value marks its page."""
    page.locator("tr.field", has_text="seller_name").click()  # <ORGANIZATION_1> is not on the page
    expect(page.locator("#page-1 .mark")).to_be_visible()
    expect(page.locator("#page-1 .mark.spot")).to_have_count(0)
    page.locator("tr.field", has_text="grand_total").click()
    mark, image = page.locator("#page-1 .mark.spot"), page.locator("#page-1 img")
    expect(mark).to_be_visible()
    box, whole = mark.bounding_box(), image.bounding_box()
    assert box is not None and whole is not None
    assert box["width"] * box["height"] < 0.01 * whole["width"] * whole["height"]  # a value, not the page
    # "$4.11" is printed right of the middle, about a fifth down the page (pdfium: x 552-569 of 612 pt)
    assert 0.85 < (box["x"] - whole["x"]) / whole["width"] < 0.95
    assert 0.1 < (box["y"] - whole["y"]) / whole["height"] < 0.3


def test_decisions_verify_offline_from_ledger_bytes_alone(bench: Bench) -> None:
    """An auditor's check in a fresh process: enrolled COSE key + statement bytes + the exact assertion bytes."""
    roster = read_roster(bench.ledger)
    granted = [e for e in bench.ledger.entries_for_doc(bench.doc) if e.kind == "approval.granted"]
    assert [DecisionPayload.model_validate(e.data).statement.signer for e in granted] == ["bob", "carol"]
    script = (
        "import json, sys\n"
        "from approvals.passkey import verify_webauthn\n"
        "for case in json.load(sys.stdin):\n"
        "    verify_webauthn(case['key'], case['statement'].encode(), case['signature'])\n"
        "print('ok')\n"
    )
    cases = []
    for entry in granted:
        payload = DecisionPayload.model_validate(entry.data)
        key = roster.person(payload.statement.signer).key
        cases.append({"key": key, "statement": payload.statement.message().decode(), "signature": payload.signature})
    for entry in bench.ledger.entries_for_doc(bench.doc):  # bob's correction was signed with his passkey too
        if entry.kind == "doc.corrected":
            statement = CorrectionStatement.model_validate(entry.data["statement"])
            key = roster.person(entry.actor).key
            cases.append({"key": key, "statement": statement.message().decode(), "signature": entry.data["signature"]})
    assert len(cases) == 3
    done = subprocess.run([sys.executable, "-c", script], input=json.dumps(cases), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert check_installation(bench.settings) == []  # what `docval ledger verify` re-checks for people
    tampered = [dict(cases[0], statement=cases[0]["statement"].replace("approve", "reject"))]
    done = subprocess.run([sys.executable, "-c", script], input=json.dumps(tampered), capture_output=True, text=True)
    assert done.returncode != 0 and "challenge is not SHA-256 of the statement" in done.stderr


def test_a_document_whose_history_is_in_a_cluster_shard_is_decided_in_its_shard(bench: Bench) -> None:
    """The workbench reads and writes a document's home ledger (flows' lookup, injected), never the root's copy."""
    bob, alice, carol = bench.people["bob"], bench.people["alice"], bench.people["carol"]
    alice.page.goto("/")  # the maker is read from the shard's doc.claimed: alice sees her own submission
    expect(alice.page.locator(f'tr[data-href="/doc/{bench.sharded}"]')).to_contain_text("your submission")
    _decide(bob, bench.sharded, "approve", "checked against the order")
    expect(bob.page.locator("#progress")).to_contain_text("1 of 2 approvals — waiting for a second person")
    expect(bob.page.locator(".timeline")).to_contain_text("approval.granted by bob")
    _decide(carol, bench.sharded, "approve", "amount confirmed with the supplier")
    expect(carol.page.locator("#progress")).to_contain_text("2 of 2 approvals")
    kinds = [str(entry.kind) for entry in bench.shard.entries_for_doc(bench.sharded)]
    assert kinds.count("approval.granted") == 2 and "original.viewed" in kinds
    assert bench.ledger.entries_for_doc(bench.sharded) == []  # nothing of it reached the root ledger
    assert bench.published[-1] == bench.sharded


def _post(page: Page, url: str, body: dict, *, token: bool = True) -> dict:
    return page.evaluate(
        """async ([url, body, token]) => {
            const headers = {"Content-Type": "application/json", "Accept": "application/json"};
            if (token) headers["X-CSRF-Token"] = document.querySelector('meta[name="csrf-token"]').content;
            const r = await fetch(url, {method: "POST", headers, body: JSON.stringify(body)});
            return {status: r.status, body: await r.json()};
        }""",
        [url, body, token],
    )


def test_post_without_csrf_token_is_refused(bench: Bench) -> None:
    page = bench.people["bob"].page
    page.goto(f"/doc/{bench.doc2}")
    answer = _post(page, f"/doc/{bench.doc2}/decide/options", {"decision": "approve", "reason": "x"}, token=False)
    assert answer["status"] == 403 and "security token" in answer["body"]["error"]
    answer = _post(page, f"/doc/{bench.doc2}/decide/options", {"decision": "approve", "reason": "x"})
    assert answer["status"] == 200  # the same request with the page's token passes the guard


def test_post_from_another_origin_is_refused(bench: Bench) -> None:
    bob = bench.people["bob"]
    bob.page.goto(f"/doc/{bench.doc2}")
    token = bob.page.locator('meta[name="csrf-token"]').get_attribute("content")
    headers = {"Origin": "http://evil.example", "X-CSRF-Token": token or "", "Accept": "application/json"}
    answer = bob.context.request.post(
        f"{bench.base}/doc/{bench.doc2}/decide/options", data={"decision": "approve", "reason": "x"}, headers=headers
    )
    assert answer.status == 403 and "did not come from" in answer.json()["error"]


def test_replayed_assertions_are_refused(bench: Bench) -> None:
    """A used decision assertion cannot be posted again, and a sign-in assertion cannot stand in for a decision."""
    bob = bench.people["bob"]
    captured: dict[str, dict] = {}

    def keep(route, request) -> None:  # type: ignore[no-untyped-def]
        captured[request.url.split("/")[-2]] = json.loads(request.post_data or "{}")
        route.continue_()

    bob.page.route("**/signin/verify", keep)
    bob.page.route("**/decide/verify", keep)
    bob.page.goto("/")
    bob.page.click("#signout")
    bob.page.wait_for_url(f"{bench.base}/signin")
    assert _kinds(bench)[-1] == "session.signed_out"
    _sign_in(bench, bob)
    _decide(bob, bench.doc2, "approve", "checked")
    expect(bob.page.locator("#progress")).to_contain_text("1 of 2 approvals")
    granted = _kinds(bench, bench.doc2).count("approval.granted")

    replay = _post(bob.page, f"/doc/{bench.doc2}/decide/verify", captured["decide"])
    assert replay["status"] == 403 and "NO_PENDING_CHALLENGE" in replay["body"]["error"]

    carol = bench.people["carol"]
    carol.page.goto(f"/doc/{bench.doc2}")
    fresh = _post(carol.page, f"/doc/{bench.doc2}/decide/options", {"decision": "approve", "reason": "ok"})
    assert fresh["status"] == 200
    signin_as_decision = {"handle": fresh["body"]["handle"], "credential": captured["signin"]["credential"]}
    answer = _post(carol.page, f"/doc/{bench.doc2}/decide/verify", signin_as_decision)
    assert answer["status"] == 403
    assert _kinds(bench, bench.doc2).count("approval.granted") == granted
    assert bench.published == [bench.doc, bench.sharded]  # doc2 was not decided by the replays


def test_a_decided_document_shows_its_outcome_and_refuses_decisions(bench: Bench) -> None:
    """Who decided, when, by which rule; no buttons; a decision posted anyway is refused, a signed one ledgered."""
    bob, carol = bench.people["bob"], bench.people["carol"]
    bob.page.goto(f"/doc/{bench.doc}")  # approved by bob and carol: decided, the publish run follows
    outcome = bob.page.locator("#outcome")
    expect(outcome).to_contain_text("Decided, being published by rule low_confidence")
    expect(outcome).to_contain_text("Nothing is left to decide")
    expect(bob.page.locator("#decisions li")).to_have_count(2)
    expect(bob.page.locator("#decisions")).to_contain_text("Approved by carol (reviewer)")
    expect(bob.page.locator("button[data-decision]")).to_have_count(0)
    expect(bob.page.locator("details.correct")).to_have_count(0)
    answer = _post(bob.page, f"/doc/{bench.doc}/decide/options", {"decision": "reject", "reason": "too late"})
    assert answer["status"] == 403
    assert "already decided, being published by rule low_confidence" in answer["body"]["error"]
    assert "approved by bob (reviewer)" in answer["body"]["error"]

    # carol signs for doc2 while it waits; before her signature arrives, frank rejects it with his SSH key
    frank = make_key(bench.settings.data_dir.parent / "people", "frank")
    enrol_ssh(bench.ledger, "frank", [Role.REVIEWER], frank, "erin", bench.erin_key)

    def frank_first(route, request) -> None:  # type: ignore[no-untyped-def]
        state = fold_state(bench.doc2, bench.ledger.entries_for_doc(bench.doc2))
        statement = DecisionStatement(
            doc=bench.doc2,
            round=state.round or "",
            fields_sha256=state.fields_sha256 or "",
            decision="reject",
            reason="duplicate of an invoice paid last month",
            signer="frank",
            signed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        assert record_decision(bench.ledger, statement, ssh_signature(frank, statement.message())).accepted
        route.continue_()

    carol.page.route("**/decide/verify", frank_first)
    _decide(carol, bench.doc2, "approve", "amount confirmed")
    expect(carol.page.locator("#refusal")).to_contain_text("the document is already decided (reject)")
    carol.page.unroute("**/decide/verify")
    refused = [e for e in bench.ledger.entries_for_doc(bench.doc2) if e.kind == "approval.refused"]
    assert [e.data["statement"]["signer"] for e in refused] == ["carol"]  # ledgered, with her signature
    carol.page.goto(f"/doc/{bench.doc2}")
    expect(carol.page.locator("#outcome")).to_contain_text("Decided, being rejected")
    expect(carol.page.locator("#decisions")).to_contain_text("Rejected by frank (reviewer)")
    expect(carol.page.locator("button[data-decision]")).to_have_count(0)
    assert bench.doc2 not in bench.published


def test_passkey_without_admin_countersignature_cannot_sign_in(bench: Bench) -> None:
    """The operator who saw an invitation link registers their own passkey; it is not enrolled, and that is ledgered."""
    link = bench.docval("users", "invite", "mallory", "--role", "reviewer", "--admin-key", str(bench.erin_key))
    mallory = _open_browser(bench, "mallory")
    mallory.page.goto(link.splitlines()[0])
    mallory.page.click("#enrol")
    expect(mallory.page.locator("#fingerprint")).to_have_text(FINGERPRINT)
    mallory.page.goto("/signin")
    mallory.page.click("#signin")
    expect(mallory.page.locator("#status")).to_contain_text("NOT_ENROLLED")
    refused = [e for e in bench.ledger.entries() if e.kind == "session.refused"]
    assert refused and refused[-1].data["reason"] == "NOT_ENROLLED"
    mallory.page.goto(link.splitlines()[0])  # the link was used up
    expect(mallory.page.locator(".refusal")).to_contain_text("used already")


def test_pages_pass_an_axe_core_check(bench: Bench) -> None:
    """axe-core 4.14.1 (npm, vendored) run in each page; injected over CDP, as the pages' CSP forbids inline scripts."""
    bob, carol, visitor = bench.people["bob"], bench.people["carol"], _open_browser(bench, "visitor")
    axe = AXE.read_text()
    pages = ((bob, "/"), (bob, f"/doc/{bench.doc}"), (carol, f"/doc/{bench.doc}"), (visitor, "/signin"))
    for person, path in pages:  # carol: the masked page text instead of page images
        page = person.page
        page.goto(path)
        if person is carol:
            expect(page.locator("pre.masked-text")).to_have_count(1)
        cdp = person.context.new_cdp_session(page)
        cdp.send("Runtime.evaluate", {"expression": axe})
        cdp.detach()
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        serious = [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], (path, serious)
