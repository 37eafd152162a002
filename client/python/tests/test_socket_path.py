"""The socket path rule, and that it is the CLI's rule exactly."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.paths import binary
from podauth.agent_socket import MAX_SOCKET_PATH_BYTES, socket_path_from
from podauth.errors import SocketPathError

# uid 4_000_000 has no /run/user directory on any test machine.
NO_RUN_USER_UID = 4_000_000


def resolve(sock: str | None, xdg: str | None) -> Path:
    return socket_path_from(sock, xdg, NO_RUN_USER_UID, "/tmp")[0]


def test_explicit_variable_wins() -> None:
    assert resolve("/x/a.sock", "/run/user/1") == Path("/x/a.sock")


def test_xdg_runtime_dir_is_next() -> None:
    assert resolve(None, "/run/user/7") == Path("/run/user/7/podauth/agent.sock")


def test_empty_variables_count_as_unset() -> None:
    assert resolve("", "") == Path("/tmp/podauth-4000000/agent.sock")


def test_run_user_found_without_the_variable(tmp_path: Path) -> None:
    uid = os.getuid()
    run_user = Path(f"/run/user/{uid}")
    path, source = socket_path_from(None, None, uid, tmp_path)
    if run_user.is_dir() and run_user.stat().st_uid == uid:
        assert (path, source) == (run_user / "podauth/agent.sock", "/run/user")
    else:
        assert (path, source) == (tmp_path / f"podauth-{uid}/agent.sock", "temporary directory")


def test_relative_explicit_path_is_refused() -> None:
    with pytest.raises(SocketPathError, match="absolute"):
        resolve("agent.sock", None)


def test_too_long_path_names_its_length() -> None:
    long = "/" + "d" * 200
    limit = f"201 bytes long, over the platform limit of {MAX_SOCKET_PATH_BYTES}"
    with pytest.raises(SocketPathError, match=limit):
        resolve(long, None)


CASES = {
    "explicit": {"PODAUTH_SOCK": "/x/y/agent.sock", "XDG_RUNTIME_DIR": "/tmp/rt"},
    "xdg": {"XDG_RUNTIME_DIR": "/tmp/rt"},
    "empty explicit": {"PODAUTH_SOCK": "", "XDG_RUNTIME_DIR": "/tmp/rt"},
    "tmpdir": {"TMPDIR": "/tmp/somewhere"},
    "no tmpdir": {},
    "empty tmpdir": {"TMPDIR": ""},
}


@pytest.mark.parametrize("case", CASES)
def test_same_path_as_the_cli(case: str) -> None:
    unset = ("PODAUTH_SOCK", "XDG_RUNTIME_DIR", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(CASES[case])

    cli = subprocess.run(
        [str(binary("podauth")), "status"], env=env, capture_output=True, text=True, timeout=30
    )
    found = re.search(r"not running on (.*?): ", cli.stderr)
    assert found, f"unexpected CLI output: {cli.stderr!r}"

    code = "import json; from podauth import socket_path; print(json.dumps(str(socket_path()[0])))"
    ours = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(ours.stdout) == found.group(1)
