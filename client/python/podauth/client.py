"""The blocking client, and the module-level calls built on it.

``podauth.prove(...)``, ``podauth.token()`` and the rest talk to the
daemon on the socket the environment names (see :mod:`podauth.agent_socket`)
through one shared channel per socket; a :class:`Client` talks to a socket
of the caller's choosing. Every call may be made from any thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

import grpc

from . import _wire
from ._wire import pb, pb_grpc
from .agent_socket import socket_path
from .display import ActionView, view_for
from .methods import DEVICE_CODE, LOGIN_METHODS, check_method
from .proofs import Challenge, Proof, UserAction
from .session import LoginResult, LogoutResult, Token
from .status import MethodInfo, Status

#: How long a call that needs no user may take before it fails, in seconds.
DEFAULT_RPC_TIMEOUT = 30.0

T = TypeVar("T")
OnAction = Callable[[UserAction], None]


class Client:
    """A connection to podauthd on one socket.

    ``socket`` defaults to the path the environment names, by the rule the
    daemon and CLI use. The connection is made at the first call.
    """

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
        # A plain unix: channel: podauthd accepts the :authority grpc-core
        # derives from the socket path.
        self._channel = grpc.insecure_channel(f"unix:{self.socket}")
        self._stub = pb_grpc.AgentStub(self._channel)

    def __repr__(self) -> str:
        return f"podauth.Client(socket={str(self.socket)!r})"

    def close(self) -> None:
        """Closes the connection; calls in flight fail."""
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def methods(self) -> list[MethodInfo]:
        """The identity verification methods the daemon speaks."""
        return _wire.methods(self._unary(self._stub.ListMethods, pb.ListMethodsRequest()))

    def status(self) -> Status:
        """The daemon's version, uptime, socket, sessions and pending requests."""
        return _wire.status(self._unary(self._stub.Status, pb.StatusRequest()))

    def token(self, environment: str | None = None) -> Token:
        """A valid access token of the shared session (refreshed when due).

        Raises :class:`~podauth.errors.NotLoggedIn` when there is no
        session: call :meth:`login` once, from any client.
        """
        request = pb.GetTokenRequest(environment=environment or "")
        return _wire.token(self._unary(self._stub.GetToken, request))

    def logout(self, environment: str | None = None) -> LogoutResult:
        """Revokes the shared session at the IdP where it can, and forgets it."""
        request = pb.LogoutRequest(environment=environment or "")
        return _wire.logout(self._unary(self._stub.Logout, request))

    def login(
        self,
        environment: str | None = None,
        method: str = DEVICE_CODE,
        open_browser: bool = True,
        timeout: float | None = None,
        on_action: OnAction | None = None,
    ) -> LoginResult:
        """Signs the user in for the daemon's shared session.

        The user action (a link, and a code for device code) is shown as it
        arrives, or handed to ``on_action``; returns once the user finished.
        """
        request = _wire.login_request(environment, method, open_browser, timeout)
        view = view_for("login", on_action)
        call = self._stub.Login(request)
        try:
            for event in call:
                result = _wire.login_event(event, view)
                if result is not None:
                    view.finish(None)
                    return result
            raise _wire.stream_ended_early("login")
        except BaseException as error:
            raise self._failed(call, view, error) from None

    def prove(
        self,
        method: str | None,
        pods: Mapping[str, Challenge],
        environment: str | None = None,
        open_browser: bool = True,
        timeout: float | None = None,
        on_action: OnAction | None = None,
    ) -> dict[str, Proof]:
        """Proves the user's identity to each Pod; returns one proof per Pod.

        ``method`` is ``"oidc-device-code"`` (None means that default),
        ``"oidc-auth-code"`` or ``"saml"``; any other name raises
        ValueError before anything is sent. ``pods`` maps each Pod's id to
        the challenge it sent: its OIDC client id, or for saml its
        ``SAMLRequest`` (a string or :class:`~podauth.SamlRequest`). The
        result maps each Pod's id to its proof, in the order given.
        ``timeout`` is how long the user has, in seconds (the daemon's
        default when None).
        """
        request = _wire.prove_request(method, pods, environment, open_browser, timeout)
        view = view_for("prove", on_action)
        collector = _wire.ProofCollector(request)
        call = self._stub.Prove(request)
        try:
            for event in call:
                _wire.prove_event(event, view, collector)
            result = collector.result()
        except BaseException as error:
            raise self._failed(call, view, error) from None
        view.finish(None)
        return result

    def _unary(self, rpc: Callable[..., T], request: object) -> T:
        try:
            return rpc(request, timeout=self.rpc_timeout)
        except grpc.RpcError as error:
            raise _wire.rpc_error(error, self.socket, self._source) from None

    def _failed(self, call: grpc.Future, view: ActionView, error: BaseException) -> BaseException:
        """Cancels a stream (the daemon then withdraws its challenges), shows
        the failure and returns the exception to raise."""
        call.cancel()
        if isinstance(error, grpc.RpcError):
            error = _wire.rpc_error(error, self.socket, self._source)
        view.finish(error)
        return error


_clients: dict[Path, Client] = {}
_clients_lock = threading.Lock()


def default_client() -> Client:
    """The shared client for the socket the environment names now."""
    path, _ = socket_path()
    with _clients_lock:
        client = _clients.get(path)
        if client is None:
            client = _clients[path] = Client()
        return client


def prove(
    method: str | None,
    pods: Mapping[str, Challenge],
    environment: str | None = None,
    open_browser: bool = True,
    timeout: float | None = None,
    on_action: OnAction | None = None,
) -> dict[str, Proof]:
    """Proves the user's identity to each Pod; see :meth:`Client.prove`."""
    check_method(method)
    return default_client().prove(method, pods, environment, open_browser, timeout, on_action)


def token(environment: str | None = None) -> Token:
    """A valid access token of the shared session; see :meth:`Client.token`."""
    return default_client().token(environment)


def login(
    environment: str | None = None,
    method: str = DEVICE_CODE,
    open_browser: bool = True,
    timeout: float | None = None,
    on_action: OnAction | None = None,
) -> LoginResult:
    """Signs in for the shared session; see :meth:`Client.login`."""
    check_method(method, LOGIN_METHODS)
    return default_client().login(environment, method, open_browser, timeout, on_action)


def logout(environment: str | None = None) -> LogoutResult:
    """Ends the shared session; see :meth:`Client.logout`."""
    return default_client().logout(environment)


def status() -> Status:
    """The daemon's status; see :meth:`Client.status`."""
    return default_client().status()


def methods() -> list[MethodInfo]:
    """The daemon's methods; see :meth:`Client.methods`."""
    return default_client().methods()
