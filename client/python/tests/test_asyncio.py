"""podauth.aio: the same calls from asyncio code, several at once on one
loop, and cancellation that withdraws the daemon's pending challenges."""

from __future__ import annotations

import asyncio

import pytest

import podauth
import podauth.aio
from harness.browser import LOGIN, Browser
from harness.daemon import Daemon
from harness.pod import ReferencePod
from harness.provider import CLIENT_ID


class Robot:
    """Signs in for each user action, one at a time, off the event loop."""

    def __init__(self, browser: Browser, daemon: Daemon) -> None:
        self.browser = browser
        self.prefix = f"http://localhost:{daemon.callback_port}/"
        self.urls: asyncio.Queue[str] = asyncio.Queue()
        self.task = asyncio.create_task(self._run())

    def on_action(self, action: podauth.UserAction) -> None:
        self.urls.put_nowait(action.url)

    async def _run(self) -> None:
        while True:
            url = await self.urls.get()
            await asyncio.to_thread(self.browser.sign_in, url, self.prefix)

    async def stop(self) -> None:
        self.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.task


def test_concurrent_proofs_and_tokens_on_one_loop(
    daemon_env: Daemon, browser: Browser, pod: ReferencePod
) -> None:
    async def scenario() -> None:
        robot = Robot(browser, daemon_env)
        try:
            assert [m.name for m in await podauth.aio.methods()] == list(podauth.METHODS)
            login = await podauth.aio.login(
                method="oidc-auth-code", on_action=robot.on_action, timeout=60
            )
            assert login.subject == LOGIN

            # Two proofs and five token requests in flight together.
            proofs_a, proofs_b, *tokens = await asyncio.gather(
                podauth.aio.prove(
                    "oidc-auth-code",
                    {"a1": CLIENT_ID, "a2": CLIENT_ID},
                    on_action=robot.on_action,
                    timeout=60,
                ),
                podauth.aio.prove(
                    "oidc-auth-code", {"b1": CLIENT_ID}, on_action=robot.on_action, timeout=60
                ),
                *(podauth.aio.token() for _ in range(5)),
            )
        finally:
            await robot.stop()

        assert list(proofs_a) == ["a1", "a2"] and list(proofs_b) == ["b1"]
        for proof in [*proofs_a.values(), *proofs_b.values()]:
            assert await asyncio.to_thread(pod.redeem, proof) == LOGIN
        assert len({t.access_token for t in tokens}) == 1
        assert (await podauth.aio.status()).pending == ()

    asyncio.run(scenario())


def test_cancelling_a_proof_withdraws_its_challenges(daemon: Daemon) -> None:
    async def scenario() -> None:
        async with podauth.aio.AsyncClient(daemon.socket) as client:
            shown = asyncio.Event()
            task = asyncio.create_task(
                client.prove(
                    "oidc-auth-code", {"pod-a": CLIENT_ID}, on_action=lambda a: shown.set()
                )
            )
            await asyncio.wait_for(shown.wait(), 10)
            assert [p.waiting_pod_ids for p in (await client.status()).pending] == [("pod-a",)]

            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            for _ in range(100):
                if not (await client.status()).pending:
                    break
                await asyncio.sleep(0.05)
            assert (await client.status()).pending == ()

    asyncio.run(scenario())


def test_async_errors_match_the_sync_ones(daemon: Daemon) -> None:
    async def scenario() -> None:
        async with podauth.aio.AsyncClient(daemon.socket) as client:
            with pytest.raises(podauth.NotLoggedIn):
                await client.token()
            with pytest.raises(podauth.Refused):
                await client.prove("oidc-device-code", {"x": "podauth-other"})
            with pytest.raises(ValueError, match="oidc-device-code"):
                await client.prove("nope", {"x": CLIENT_ID})

    asyncio.run(scenario())
