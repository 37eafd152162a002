"""Failures a caller must be able to act on: a bad method name, which fails
before anything is sent, and a daemon that is not running."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

import podauth
from harness.daemon import Daemon

NAMES = ("oidc-device-code", "oidc-auth-code", "saml")


def assert_lists_the_methods(error: ValueError, bad: str) -> None:
    text = str(error)
    assert repr(bad) in text
    for name in NAMES:
        assert name in text


def test_bad_method_is_a_value_error_before_any_rpc(tmp_path: Path) -> None:
    # Nothing listens on this socket: reaching the daemon would raise
    # DaemonNotRunning instead.
    with podauth.Client(tmp_path / "nothing.sock") as client:
        with pytest.raises(ValueError) as raised:
            client.prove("oidc-devicecode", {"pod-a": "podauth-test"})
    assert not isinstance(raised.value, podauth.DaemonNotRunning)
    assert_lists_the_methods(raised.value, "oidc-devicecode")


def test_module_level_bad_method(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PODAUTH_SOCK", str(tmp_path / "nothing.sock"))
    with pytest.raises(ValueError) as raised:
        podauth.prove("SAML", {"pod-a": "request"})
    assert_lists_the_methods(raised.value, "SAML")

    with pytest.raises(ValueError) as raised:
        asyncio.run(podauth.aio.prove("device-code", {"pod-a": "podauth-test"}))
    assert_lists_the_methods(raised.value, "device-code")


def test_login_takes_only_the_oidc_methods(tmp_path: Path) -> None:
    with podauth.Client(tmp_path / "nothing.sock") as client:
        with pytest.raises(ValueError, match="oidc-auth-code"):
            client.login(method="saml")


def test_daemon_refuses_an_unknown_environment(client: podauth.Client) -> None:
    with pytest.raises(podauth.InvalidRequest) as raised:
        client.prove("oidc-device-code", {"pod-a": "podauth-test"}, environment="nowhere")
    assert raised.value.code == "INVALID_ARGUMENT"
    assert "nowhere" in str(raised.value)


def assert_says_how_to_start(error: podauth.DaemonNotRunning, path: Path) -> None:
    text = str(error)
    assert str(path) in text
    assert "podauthd &" in text
    assert "systemctl --user start podauthd" in text


def test_daemon_down_says_how_to_start_it(tmp_path: Path) -> None:
    path = tmp_path / "agent.sock"
    with podauth.Client(path) as client:
        for call in (client.status, client.methods, client.token, client.logout):
            with pytest.raises(podauth.DaemonNotRunning) as raised:
                call()
            assert_says_how_to_start(raised.value, path)
            assert "no such socket" in str(raised.value)
        with pytest.raises(podauth.DaemonNotRunning):
            client.prove("oidc-auth-code", {"pod-a": "podauth-test"})
        with pytest.raises(podauth.DaemonNotRunning):
            client.login()


def test_stale_socket_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "agent.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()  # the file stays, nothing listens: a crashed daemon's socket
    with pytest.raises(podauth.DaemonNotRunning, match="stale socket") as raised:
        podauth.Client(path).status()
    assert_says_how_to_start(raised.value, path)


def test_module_level_daemon_down_names_podauth_sock(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "agent.sock"
    monkeypatch.setenv("PODAUTH_SOCK", str(path))
    with pytest.raises(podauth.DaemonNotRunning) as raised:
        podauth.status()
    assert f"PODAUTH_SOCK={path} podauthd &" in str(raised.value)

    with pytest.raises(podauth.DaemonNotRunning):
        asyncio.run(podauth.aio.token())


def test_daemon_stopped_under_a_client(daemon: Daemon) -> None:
    with podauth.Client(daemon.socket) as client:
        assert client.status().version
        daemon.stop()
        daemon.wait_gone()
        with pytest.raises(podauth.DaemonNotRunning):
            client.status()
