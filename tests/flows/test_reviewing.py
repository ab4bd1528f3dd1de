"""`docval up`'s workbench: served from a thread with the flows' publish function, and the start-up lines."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from docval.settings import Settings, load_settings
from flows.approvals.enrol import demo_keys_dir
from flows.env import free_port
from flows.errors import FlowError
from flows.reviewing import served_workbench, start_lines


@pytest.fixture
def bench_settings(flow_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("DOCVAL_WORKBENCH__PORT", str(free_port()))
    return load_settings()


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_the_workbench_answers_while_served_and_stops_with_the_block(bench_settings: Settings) -> None:
    with served_workbench(bench_settings) as url:
        assert url == f"http://localhost:{bench_settings.workbench.port}"
        status, body = _get(f"{url}/signin")
        assert status == 200 and "passkey" in body.lower()
        lines = start_lines(bench_settings, workbench=url, prefect_ui="http://127.0.0.1:4200", cli="docval")
        invitation = next(line for line in lines if line.startswith("demo invitation: "))
        link = invitation.split()[2]
        assert link.startswith(f"{url}/enrol/")
        status, body = _get(link)  # the demo reviewer's one-time link opens the enrolment page
        assert status == 200 and "bob" in body
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{url}/signin", timeout=2)


def test_start_lines_say_where_files_go_where_to_review_and_what_to_run(bench_settings: Settings) -> None:
    lines = start_lines(bench_settings, workbench="http://localhost:8600", prefect_ui="http://127.0.0.1:4200", cli="dv")
    text = "\n".join(lines)
    assert f"drop files into: {bench_settings.inbox.resolve()}" in text
    assert f"results appear in: {bench_settings.outbox.resolve()}" in text
    assert "reviewer workbench: http://localhost:8600" in text
    assert f"--admin-key {demo_keys_dir(bench_settings)}/erin" in text
    assert "Prefect UI: http://127.0.0.1:4200" in text
    assert "dv pending" in text and "dv report --from " in text


def test_a_taken_port_stops_the_start_with_what_to_do(bench_settings: Settings) -> None:
    with served_workbench(bench_settings), pytest.raises(FlowError, match="set \\[workbench\\] port"):  # noqa: SIM117
        with served_workbench(bench_settings):
            pass
