"""Between podauth's records and the protocol messages of podauth.v1.

Requests are checked here before anything is sent (method names, the shape
of each Pod's challenge), and gRPC failures become podauth's exceptions.
The sync and asyncio clients share everything in this module.
"""

from __future__ import annotations

import errno
import socket as socketlib
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import grpc

from . import errors
from .methods import LOGIN_METHODS, SAML, check_method
from .proofs import (
    AuthCodeProof,
    Challenge,
    DeviceCodeProof,
    Proof,
    SamlProof,
    SamlRequest,
    UserAction,
)
from .session import LoginResult, LogoutResult, Token
from .status import MethodInfo, PendingRequest, SessionInfo, Status

try:
    from .v1 import agent_pb2 as pb
    from .v1 import agent_pb2_grpc as pb_grpc
except ImportError as exc:  # pragma: no cover - only in a source tree never built
    raise ImportError(
        "podauth's gRPC stubs are missing: they are generated when the package is "
        "built; install it with `pip install ./client/python` rather than importing "
        f"it from the source tree ({exc})"
    ) from exc

__all__ = ["pb", "pb_grpc"]

#: The longest a Pod may let the user take; the daemon refuses more.
MAX_TIMEOUT_SECONDS = 60 * 60


def prove_request(
    method: str | None,
    pods: Mapping[str, Challenge],
    environment: str | None,
    open_browser: bool,
    timeout: float | None,
) -> pb.ProveRequest:
    """A ProveRequest, checked: the method is one of the three names and
    every Pod has a challenge of the kind the method takes."""
    method = check_method(method)
    if isinstance(pods, (str, bytes)) or not isinstance(pods, Mapping):
        raise TypeError(
            "pods must map each Pod's id to its challenge, e.g. "
            "{'pod-a': '<client id>'}; got " + type(pods).__name__
        )
    if not pods:
        raise ValueError("pods is empty: name at least one Pod and its challenge")

    challenges = [_challenge(method, pod_id, challenge) for pod_id, challenge in pods.items()]
    request = pb.ProveRequest(method=method, challenges=challenges, environment=environment or "")
    if timeout is not None:
        request.timeout_seconds = _timeout_seconds(timeout)
    request.open_browser = bool(open_browser)
    return request


def _challenge(method: str, pod_id: Any, challenge: Any) -> pb.Challenge:
    if not isinstance(pod_id, str) or not pod_id:
        raise ValueError(f"a Pod id must be a non-empty string, got {pod_id!r}")
    if method == SAML:
        if isinstance(challenge, str):
            challenge = SamlRequest(challenge)
        if not isinstance(challenge, SamlRequest) or not challenge.saml_request:
            raise ValueError(
                f"Pod {pod_id!r}: the saml method takes the Pod's SAMLRequest value "
                f"(a string or podauth.SamlRequest), got {type(challenge).__name__}"
            )
        saml = pb.SamlChallenge(
            saml_request=challenge.saml_request, idp_sso_url=challenge.idp_sso_url
        )
        return pb.Challenge(pod_id=pod_id, saml=saml)
    if not isinstance(challenge, str) or not challenge:
        raise ValueError(
            f"Pod {pod_id!r}: the {method or 'default'} method takes the OIDC client id "
            f"the Pod sent, as a non-empty string, got {challenge!r}"
        )
    return pb.Challenge(pod_id=pod_id, client_id=challenge)


def login_request(
    environment: str | None, method: str, open_browser: bool, timeout: float | None
) -> pb.LoginRequest:
    """A LoginRequest for one of the two OIDC methods."""
    request = pb.LoginRequest(
        environment=environment or "", method=check_method(method, LOGIN_METHODS)
    )
    if timeout is not None:
        request.timeout_seconds = _timeout_seconds(timeout)
    request.open_browser = bool(open_browser)
    return request


def _timeout_seconds(timeout: float) -> int:
    seconds = int(timeout)
    if not 1 <= seconds <= MAX_TIMEOUT_SECONDS:
        raise ValueError(
            f"timeout must be between 1 and {MAX_TIMEOUT_SECONDS} seconds, got {timeout!r}"
        )
    return seconds


def _time(unix: int) -> datetime | None:
    return datetime.fromtimestamp(unix, tz=timezone.utc) if unix > 0 else None


def user_action(message: pb.UserAction) -> UserAction:
    return UserAction(
        pod_ids=tuple(message.pod_ids),
        url=message.url,
        user_code=message.user_code,
        verification_uri=message.verification_uri,
        expires_at=_time(message.expires_at_unix),
        browser_opened=message.browser_opened,
    )


def proof(message: pb.Proof) -> Proof:
    kind = message.WhichOneof("kind")
    if kind == "device_code":
        device = message.device_code
        return DeviceCodeProof(
            pod_id=message.pod_id,
            device_code=device.device_code,
            expires_at=_time(device.expires_at_unix),
            interval=device.interval_seconds,
        )
    if kind == "auth_code":
        code = message.auth_code
        return AuthCodeProof(
            pod_id=message.pod_id,
            auth_code=code.auth_code,
            code_verifier=code.code_verifier,
            redirect_uri=code.redirect_uri,
        )
    if kind == "saml":
        saml = message.saml
        return SamlProof(
            pod_id=message.pod_id, saml_response=saml.saml_response, relay_state=saml.relay_state
        )
    raise errors.ProtocolError(f"proof for Pod {message.pod_id!r} has no kind")


def methods(message: pb.ListMethodsResponse) -> list[MethodInfo]:
    return [
        MethodInfo(m.name, m.is_default, m.uses_callback, m.description) for m in message.methods
    ]


def status(m: pb.StatusResponse) -> Status:
    return Status(
        version=m.version,
        uptime_seconds=m.uptime_seconds,
        pid=m.pid,
        socket_path=m.socket_path,
        callback_url=m.callback_url,
        default_environment=m.default_environment,
        environments=tuple(m.environments),
        pending=tuple(
            PendingRequest(
                p.request_id, p.method, p.environment, tuple(p.waiting_pod_ids), p.seconds_left
            )
            for p in m.pending
        ),
        config_path=m.config_path,
        store_backend=m.store_backend,
        store_reason=m.store_reason,
        sessions=tuple(
            SessionInfo(s.environment, s.subject, _time(s.access_token_expires_at_unix))
            for s in m.sessions
        ),
    )


def token(m: pb.GetTokenResponse) -> Token:
    return Token(m.access_token, _time(m.expires_at_unix), m.token_type)


def login_done(m: pb.LoginDone) -> LoginResult:
    return LoginResult(m.environment, m.subject, _time(m.access_token_expires_at_unix))


def logout(m: pb.LogoutResponse) -> LogoutResult:
    return LogoutResult(m.was_logged_in, m.revoked)


class ProofCollector:
    """Gathers a Prove stream's proofs, in the order the Pods were named."""

    def __init__(self, request: pb.ProveRequest) -> None:
        self._order = [c.pod_id for c in request.challenges]
        self._proofs: dict[str, Proof] = {}
        self.done = False

    def add(self, item: Proof) -> None:
        self._proofs[item.pod_id] = item

    def result(self) -> dict[str, Proof]:
        if not self.done:
            raise errors.ProtocolError("the daemon ended the proof stream without Done")
        missing = [pod for pod in self._order if pod not in self._proofs]
        if missing:
            raise errors.ProtocolError(f"the daemon sent no proof for Pods {missing}")
        return {pod: self._proofs[pod] for pod in self._order}


def rpc_error(error: grpc.RpcError, socket: Path, source: str | None) -> errors.PodauthError:
    """The podauth exception for a failed call.

    A transport failure on a socket nobody listens on means the daemon is
    not running; everything else carries the daemon's own message.
    """
    code = error.code() if hasattr(error, "code") else None
    name = code.name if code is not None else "UNKNOWN"
    details = (error.details() if hasattr(error, "details") else None) or str(error)
    if code == grpc.StatusCode.UNAVAILABLE:
        reason = unreachable_reason(socket)
        if reason is not None:
            return errors.DaemonNotRunning(socket, reason, source)
    cls = errors.BY_CODE.get(name, errors.PodauthError)
    return cls(details, code=name)


def unreachable_reason(socket: Path) -> str | None:
    """Why nothing answers on ``socket``, or None when something does."""
    probe = socketlib.socket(socketlib.AF_UNIX, socketlib.SOCK_STREAM)
    try:
        probe.settimeout(2)
        probe.connect(str(socket))
    except FileNotFoundError:
        return "no such socket"
    except ConnectionRefusedError:
        return "connection refused: a stale socket"
    except OSError as exc:
        if exc.errno in (errno.ENOTSOCK, errno.ENOTDIR):
            return "not a socket"
        return exc.strerror or str(exc)
    finally:
        probe.close()
    return None


def prove_event(event: pb.ProveEvent, view: Any, collector: ProofCollector) -> None:
    """Routes one Prove stream event to the view and the collector."""
    kind = event.WhichOneof("event")
    if kind == "user_action":
        view.action(user_action(event.user_action))
    elif kind == "proof":
        item = proof(event.proof)
        collector.add(item)
        view.proof(item.pod_id)
    elif kind == "done":
        collector.done = True


def login_event(event: pb.LoginEvent, view: Any) -> LoginResult | None:
    """Routes one Login stream event; the result once it is Done."""
    kind = event.WhichOneof("event")
    if kind == "user_action":
        view.action(user_action(event.user_action))
    elif kind == "done":
        return login_done(event.done)
    return None


def stream_ended_early(what: str) -> errors.ProtocolError:
    return errors.ProtocolError(f"the daemon ended the {what} stream without its result")
