"""The asyncio client: the same calls as :mod:`podauth.client`, awaitable.

``await podauth.aio.prove(...)`` and the other module-level calls share one
channel per event loop and socket; an :class:`AsyncClient` belongs to the
loop it is first used in. Cancelling a waiting ``prove`` or ``login``
cancels the call, and the daemon withdraws its pending challenges.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import grpc
import grpc.aio

from . import _wire
from ._wire import pb, pb_grpc
from .agent_socket import socket_path
from .client import DEFAULT_RPC_TIMEOUT, OnAction
from .display import ActionView, view_for
from .methods import DEVICE_CODE, LOGIN_METHODS, check_method
from .proofs import Challenge, Proof
from .session import LoginResult, LogoutResult, Token
from .status import MethodInfo, Status

T = TypeVar("T")


class AsyncClient:
    """A connection to podauthd on one socket, for asyncio code."""

    def __init__(
        self,
        socket: str | os.PathLike[str] | None = None,
        *,
        rpc_timeout: float = DEFAULT_RPC_TIMEOUT,
    ) -> None:
        self._source: str | None
        if socket is None:
            self.socket, self._source = socket_path()
        else:
            self.socket, self._source = Path(socket), None
        self.rpc_timeout = rpc_timeout
        self._channel = grpc.aio.insecure_channel(f"unix:{self.socket}")
        self._stub = pb_grpc.AgentStub(self._channel)

    def __repr__(self) -> str:
        return f"podauth.aio.AsyncClient(socket={str(self.socket)!r})"

    async def close(self) -> None:
        """Closes the connection; calls in flight are cancelled."""
        await self._channel.close(grace=None)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def methods(self) -> list[MethodInfo]:
        """The identity verification methods the daemon speaks."""
        return _wire.methods(await self._unary(self._stub.ListMethods, pb.ListMethodsRequest()))

    async def status(self) -> Status:
        """The daemon's version, uptime, socket, sessions and pending requests."""
        return _wire.status(await self._unary(self._stub.Status, pb.StatusRequest()))

    async def token(self, environment: str | None = None) -> Token:
        """A valid access token of the shared session (refreshed when due)."""
        request = pb.GetTokenRequest(environment=environment or "")
        return _wire.token(await self._unary(self._stub.GetToken, request))

    async def logout(self, environment: str | None = None) -> LogoutResult:
        """Revokes the shared session where the IdP can, and forgets it."""
        request = pb.LogoutRequest(environment=environment or "")
        return _wire.logout(await self._unary(self._stub.Logout, request))

    async def login(
        self,
        environment: str | None = None,
        method: str = DEVICE_CODE,
        open_browser: bool = True,
        timeout: float | None = None,
        on_action: OnAction | None = None,
    ) -> LoginResult:
        """Signs the user in for the shared session; see
        :meth:`podauth.Client.login`."""
        request = _wire.login_request(environment, method, open_browser, timeout)
        view = view_for("login", on_action)
        call = self._stub.Login(request)
        try:
            async for event in call:
                result = _wire.login_event(event, view)
                if result is not None:
                    view.finish(None)
                    return result
            raise _wire.stream_ended_early("login")
        except BaseException as error:
            raise self._failed(call, view, error) from None

    async def prove(
        self,
        method: str | None,
        pods: Mapping[str, Challenge],
        environment: str | None = None,
        open_browser: bool = True,
        timeout: float | None = None,
        on_action: OnAction | None = None,
    ) -> dict[str, Proof]:
        """Proves the user's identity to each Pod; see
        :meth:`podauth.Client.prove`."""
        request = _wire.prove_request(method, pods, environment, open_browser, timeout)
        view = view_for("prove", on_action)
        collector = _wire.ProofCollector(request)
        call = self._stub.Prove(request)
        try:
            async for event in call:
                _wire.prove_event(event, view, collector)
            result = collector.result()
        except BaseException as error:
            raise self._failed(call, view, error) from None
        view.finish(None)
        return result

    async def _unary(self, rpc: Callable[..., Awaitable[T]], request: object) -> T:
        try:
            return await rpc(request, timeout=self.rpc_timeout)
        except grpc.RpcError as error:
            raise _wire.rpc_error(error, self.socket, self._source) from None

    def _failed(self, call: Any, view: ActionView, error: BaseException) -> BaseException:
        """Cancels a stream (the daemon then withdraws its challenges), shows
        the failure and returns the exception to raise."""
        call.cancel()
        if isinstance(error, grpc.RpcError):
            error = _wire.rpc_error(error, self.socket, self._source)
        view.finish(error)
        return error


_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Path, AsyncClient]] = (
    weakref.WeakKeyDictionary()
)


def default_client() -> AsyncClient:
    """The shared client of the running loop for the socket named now."""
    loop = asyncio.get_running_loop()
    path, _ = socket_path()
    per_loop = _clients.setdefault(loop, {})
    client = per_loop.get(path)
    if client is None:
        client = per_loop[path] = AsyncClient()
    return client


async def prove(
    method: str | None,
    pods: Mapping[str, Challenge],
    environment: str | None = None,
    open_browser: bool = True,
    timeout: float | None = None,
    on_action: OnAction | None = None,
) -> dict[str, Proof]:
    """Proves the user's identity to each Pod; see :meth:`podauth.Client.prove`."""
    check_method(method)
    client = default_client()
    return await client.prove(method, pods, environment, open_browser, timeout, on_action)


async def token(environment: str | None = None) -> Token:
    """A valid access token of the shared session."""
    return await default_client().token(environment)


async def login(
    environment: str | None = None,
    method: str = DEVICE_CODE,
    open_browser: bool = True,
    timeout: float | None = None,
    on_action: OnAction | None = None,
) -> LoginResult:
    """Signs in for the shared session."""
    check_method(method, LOGIN_METHODS)
    return await default_client().login(environment, method, open_browser, timeout, on_action)


async def logout(environment: str | None = None) -> LogoutResult:
    """Ends the shared session."""
    return await default_client().logout(environment)


async def status() -> Status:
    """The daemon's status."""
    return await default_client().status()


async def methods() -> list[MethodInfo]:
    """The daemon's methods."""
    return await default_client().methods()
