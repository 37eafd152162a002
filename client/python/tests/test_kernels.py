"""Two real Jupyter kernels share one daemon, one login and one callback
port.

The test signs in once with ``podauth.login()`` and the browser robot;
then two ipykernel kernels call ``token()`` and ``prove()`` at the same
moment. Each proof's user action reaches the test the way a notebook shows
it, as the kernel's display messages, and the robot follows the link found
there. The provider's counters show that nobody signed in again.
"""

from __future__ import annotations

import html
import json
import re
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import podauth
from harness.browser import LOGIN, Browser
from harness.daemon import Daemon
from harness.kernels import Execution, Kernel, run_together
from harness.pod import ReferencePod
from harness.provider import CLIENT_ID, DEVICE_GRANT, Provider

pytestmark = pytest.mark.slow

KERNELS = 2
CELL = """
import dataclasses, json, time
import podauth, podauth.aio

time.sleep(max(0.0, {start} - time.time()))   # both kernels start together
token = podauth.token()
proofs = podauth.prove("oidc-auth-code", {{"{pod}": "{client_id}"}}, timeout=60)
again = await podauth.aio.token()
print(json.dumps({{
    "token": token.access_token,
    "async_token": again.access_token,
    "proofs": {{pod: dataclasses.asdict(p) for pod, p in proofs.items()}},
}}))
"""
LINK = re.compile(r'class="podauth-action">Sign in at <a href="([^"]+)"')


@pytest.fixture
def kernels(daemon: Daemon):
    directory = Path(tempfile.mkdtemp(prefix="pa-kernels-"))
    env = {"PODAUTH_SOCK": str(daemon.socket)}
    with ThreadPoolExecutor(KERNELS) as pool:
        started = list(pool.map(lambda i: Kernel(directory / f"k{i}", env), range(KERNELS)))
    try:
        for kernel in started:
            kernel.wait_ready()
        yield started
    finally:
        for kernel in started:
            kernel.close()


def grants(provider: Provider) -> dict[str, int]:
    return dict(provider.stats()["token_requests"])


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after.get(k, 0) - before.get(k, 0) for k in set(before) | set(after)}


def test_two_kernels_share_one_login_and_one_port(
    daemon_env: Daemon,
    kernels: list[Kernel],
    browser: Browser,
    provider: Provider,
    pod: ReferencePod,
) -> None:
    prefix = f"http://localhost:{daemon_env.callback_port}/"

    # One login, in this process, through the browser.
    before_login = grants(provider)
    podauth.login(
        method="oidc-auth-code", on_action=lambda a: browser.sign_in(a.url, prefix), timeout=60
    )
    shared = podauth.token().access_token
    after_login = grants(provider)
    assert delta(before_login, after_login).get("authorization_code") == 1

    # Both kernels at the same moment. The robot waits until both proofs
    # wait on the daemon together, then follows the links they display.
    links: dict[int, str] = {}
    waiting_together: list[int] = []

    def follow_links(kernel: int, msg: dict[str, Any]) -> None:
        page = msg["content"].get("data", {}).get("text/html", "")
        for url in map(html.unescape, LINK.findall(page)):
            links.setdefault(kernel, url)
        if len(links) == KERNELS and not waiting_together:
            waiting_together.append(len(podauth.status().pending))
            for url in links.values():
                browser.sign_in(url, prefix)

    start = time.time() + 1.0
    cells = [
        textwrap.dedent(CELL.format(start=start, pod=f"kernel-{i}", client_id=CLIENT_ID))
        for i in range(KERNELS)
    ]
    runs = run_together(kernels, cells, follow_links, timeout=90)

    results = []
    for run in runs:
        assert run.error is None, f"kernel {run.kernel} failed:\n{run.error}"
        results.append(json.loads(run.stdout.strip().splitlines()[-1]))
        assert_displayed_in_place(run)

    # One session for all: the same token everywhere, no new login.
    assert {r["token"] for r in results} == {shared}
    assert {r["async_token"] for r in results} == {shared}
    assert waiting_together == [KERNELS]
    for i, result in enumerate(results):
        proof = podauth.AuthCodeProof(**result["proofs"][f"kernel-{i}"])
        assert pod.redeem(proof) == LOGIN
    spent = delta(after_login, grants(provider))
    # The two Pods' redemptions, and no login, refresh or device grant.
    assert spent.get("authorization_code") == KERNELS
    assert spent.get("refresh_token", 0) == 0 and spent.get(DEVICE_GRANT, 0) == 0
    assert [s.subject for s in podauth.status().sessions] == [LOGIN]


def assert_displayed_in_place(run: Execution) -> None:
    """The user action was displayed once and then updated, not re-printed."""
    displays = run.displays()
    kinds = [m["msg_type"] for m in displays]
    assert kinds[0] == "display_data" and set(kinds[1:]) == {"update_display_data"}, kinds
    ids = {m["content"]["transient"]["display_id"] for m in displays}
    assert len(ids) == 1, f"more than one output: {ids}"
    first = displays[0]["content"]["data"]
    last = displays[-1]["content"]["data"]
    assert "Sign in at" in first["text/html"] and "sign in at" in first["text/plain"]
    assert "Proofs ready for kernel-" in last["text/html"]
    assert last["text/plain"].rstrip().endswith("done")
