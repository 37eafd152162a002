"""The exceptions podauth raises.

Every failure is a :class:`PodauthError`. A refusal by the daemon becomes
the subclass for its gRPC status code and carries the daemon's message,
which says what was wrong and what to do; the classes also derive from the
built-in exception a Python caller would expect (``ValueError`` for a bad
request, ``TimeoutError`` for a user who did not finish in time).
"""

from __future__ import annotations

from pathlib import Path


class PodauthError(Exception):
    """Base of every podauth error.

    ``code`` is the gRPC status code name when the daemon refused the call
    (for example ``"PERMISSION_DENIED"``), else None; ``message`` is the
    text shown to people.
    """

    code: str | None = None

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class SocketPathError(PodauthError, ValueError):
    """The socket path from the environment cannot be used."""


class DaemonNotRunning(PodauthError, ConnectionError):
    """Nothing answers on the agent's socket.

    The message says where the client looked and how to start podauthd.
    """

    def __init__(self, socket: Path, reason: str, source: str | None = None) -> None:
        env = f"PODAUTH_SOCK={socket} " if source == "PODAUTH_SOCK" else ""
        super().__init__(
            f"podauthd is not running: nothing answers on {socket} ({reason}). "
            f"Start it with `systemctl --user start podauthd` where the user service is "
            f"installed (`podauth service install`), or run `{env}podauthd &` in a terminal."
        )
        self.socket = socket
        self.reason = reason


class InvalidRequest(PodauthError, ValueError):
    """The daemon refused the request as malformed (INVALID_ARGUMENT): an
    unknown method or environment, or a challenge it cannot read."""


class Refused(PodauthError):
    """The proof was refused (PERMISSION_DENIED): a Pod of another
    environment, or the identity provider said no (its error is in the
    message)."""


class TimedOut(PodauthError, TimeoutError):
    """The user did not finish in the browser in time (DEADLINE_EXCEEDED)."""


class NotLoggedIn(PodauthError):
    """There is no usable session (UNAUTHENTICATED): call ``login()``."""


class Unavailable(PodauthError):
    """The identity provider is unreachable or the daemon is stopping
    (UNAVAILABLE)."""


class ResponseRejected(PodauthError):
    """An identity provider's response did not match its challenge
    (ABORTED)."""


class ProtocolError(PodauthError):
    """The daemon's answer broke the protocol (for example a stream that
    ended without its final message)."""


#: The error class for each gRPC status code the daemon uses.
BY_CODE: dict[str, type[PodauthError]] = {
    "INVALID_ARGUMENT": InvalidRequest,
    "PERMISSION_DENIED": Refused,
    "DEADLINE_EXCEEDED": TimedOut,
    "UNAUTHENTICATED": NotLoggedIn,
    "UNAVAILABLE": Unavailable,
    "ABORTED": ResponseRejected,
}
