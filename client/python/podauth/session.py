"""Records of the daemon's shared session: tokens, login and logout.

The daemon holds one session per environment for every client of the
user; these records are what a client sees of it. An access token is a
secret: it is the ``access_token`` attribute, and neither ``repr`` nor
``str`` shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ._redact import redacted_repr


@dataclass(frozen=True, repr=False)
class Token:
    """A valid access token of the session; the daemon refreshes it when
    due, so ask again rather than keeping it past ``expires_at``."""

    access_token: str
    expires_at: datetime | None
    token_type: str

    def __repr__(self) -> str:
        return redacted_repr(self, frozenset({"access_token"}))

    __str__ = __repr__

    @property
    def authorization(self) -> str:
        """The value of an HTTP ``Authorization`` header."""
        return f"{self.token_type or 'Bearer'} {self.access_token}"


@dataclass(frozen=True)
class LoginResult:
    """A finished login: who signed in, and until when the first access
    token lasts (the session itself refreshes)."""

    environment: str
    subject: str
    expires_at: datetime | None


@dataclass(frozen=True)
class LogoutResult:
    """``was_logged_in`` is False when there was no session to forget;
    ``revoked`` is True when the IdP confirmed the revocation."""

    was_logged_in: bool
    revoked: bool
