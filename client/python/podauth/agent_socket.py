"""Where the daemon's socket is, by the same rule as podauthd and the CLI.

Order: ``$PODAUTH_SOCK`` (absolute); else
``$XDG_RUNTIME_DIR/podauth/agent.sock``; else
``/run/user/UID/podauth/agent.sock`` when that directory exists and belongs
to the user (``su`` and cron shells often lack the variable); else
``$TMPDIR/podauth-UID/agent.sock`` (``/tmp`` when ``TMPDIR`` is unset).
Empty variables count as unset. This mirrors ``proto/src/socket_path.rs``;
a change to one must be made to the other.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .errors import SocketPathError

#: The longest socket path the platform takes, in bytes (``sun_path`` is
#: 108 bytes on Linux and 104 on macOS, with a terminating NUL).
MAX_SOCKET_PATH_BYTES = 107 if sys.platform.startswith("linux") else 103


def socket_path() -> tuple[Path, str]:
    """The socket path from this process's environment, and its source.

    The source is one of ``PODAUTH_SOCK``, ``XDG_RUNTIME_DIR``,
    ``/run/user`` or ``temporary directory``, as podauthd names them.
    """
    return socket_path_from(
        podauth_sock=os.environ.get("PODAUTH_SOCK"),
        xdg_runtime_dir=os.environ.get("XDG_RUNTIME_DIR"),
        uid=os.getuid(),
        temp_dir=_temp_dir(),
    )


def socket_path_from(
    podauth_sock: str | None,
    xdg_runtime_dir: str | None,
    uid: int,
    temp_dir: str | os.PathLike[str],
) -> tuple[Path, str]:
    """The rule on explicit inputs, so that it can be tested without
    touching the environment."""
    if podauth_sock:
        path = Path(podauth_sock)
        if not path.is_absolute():
            raise SocketPathError(f"PODAUTH_SOCK must be an absolute path, got {podauth_sock}")
        source = "PODAUTH_SOCK"
    elif xdg_runtime_dir:
        path = Path(xdg_runtime_dir) / "podauth" / "agent.sock"
        source = "XDG_RUNTIME_DIR"
    elif (run_user := _owned_run_user_dir(uid)) is not None:
        path = run_user / "podauth" / "agent.sock"
        source = "/run/user"
    else:
        path = Path(temp_dir) / f"podauth-{uid}" / "agent.sock"
        source = "temporary directory"

    length = len(os.fsencode(path))
    if length > MAX_SOCKET_PATH_BYTES:
        raise SocketPathError(
            f"socket path {path} is {length} bytes long, over the platform limit of "
            f"{MAX_SOCKET_PATH_BYTES}; set PODAUTH_SOCK to a shorter path"
        )
    return path, source


def _owned_run_user_dir(uid: int) -> Path | None:
    directory = Path(f"/run/user/{uid}")
    try:
        meta = directory.stat()
    except OSError:
        return None
    is_dir = meta.st_mode & 0o170000 == 0o040000
    return directory if is_dir and meta.st_uid == uid else None


def _temp_dir() -> str:
    # Rust's std::env::temp_dir: TMPDIR as it is, else /tmp. Python's
    # tempfile.gettempdir() differs (it tries TEMP, TMP and writability).
    value = os.environ.get("TMPDIR")
    return value if value is not None else "/tmp"
