"""Records of the daemon's own state: its methods and its status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class MethodInfo:
    """One identity verification method as the daemon describes it."""

    name: str
    is_default: bool
    uses_callback: bool
    description: str


@dataclass(frozen=True)
class PendingRequest:
    """A request in flight and the Pods still waiting for the browser."""

    request_id: str
    method: str
    environment: str
    waiting_pod_ids: tuple[str, ...]
    seconds_left: int


@dataclass(frozen=True)
class SessionInfo:
    """A session the daemon holds in memory."""

    environment: str
    subject: str
    access_token_expires_at: datetime | None


@dataclass(frozen=True)
class Status:
    """What ``podauth status`` shows: version, uptime, where the daemon
    listens, its environments, sessions and pending requests."""

    version: str
    uptime_seconds: int
    pid: int
    socket_path: str
    callback_url: str
    default_environment: str
    environments: tuple[str, ...]
    pending: tuple[PendingRequest, ...]
    config_path: str
    store_backend: str
    store_reason: str
    sessions: tuple[SessionInfo, ...]
