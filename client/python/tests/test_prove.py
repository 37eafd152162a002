"""Each OIDC method from Python, end to end: the real daemon, provider and
browser, and a reference Pod that checks every proof it is handed."""

from __future__ import annotations

import pytest

import podauth
from harness.browser import LOGIN, Browser
from harness.daemon import Daemon
from harness.pod import ReferencePod
from harness.provider import CLIENT_ID, OTHER_CLIENT_ID, Provider


def callback_prefix(daemon: Daemon) -> str:
    return f"http://localhost:{daemon.callback_port}/"


def test_device_code_for_two_pods(
    client: podauth.Client, browser: Browser, pod: ReferencePod
) -> None:
    actions: list[podauth.UserAction] = []
    proofs = client.prove(
        "oidc-device-code", {"pod-a": CLIENT_ID, "pod-b": CLIENT_ID}, on_action=actions.append
    )

    assert list(proofs) == ["pod-a", "pod-b"]
    assert all(isinstance(p, podauth.DeviceCodeProof) for p in proofs.values())
    assert [a.pod_ids for a in actions] == [("pod-a",), ("pod-b",)]
    for action in actions:
        assert action.user_code and action.user_code in action.url
        assert action.verification_uri and not action.browser_opened
        browser.approve_device(action.url)
    for proof in proofs.values():
        assert pod.poll(proof) == LOGIN


def test_auth_code_for_two_pods_in_one_browser_visit(
    client: podauth.Client, daemon: Daemon, browser: Browser, pod: ReferencePod
) -> None:
    actions: list[podauth.UserAction] = []

    def sign_in(action: podauth.UserAction) -> None:
        actions.append(action)
        browser.sign_in(action.url, callback_prefix(daemon))

    proofs = client.prove(
        "oidc-auth-code", {"pod-a": CLIENT_ID, "pod-b": CLIENT_ID}, on_action=sign_in, timeout=60
    )

    assert len(actions) == 1 and actions[0].pod_ids == ("pod-a", "pod-b")
    assert list(proofs) == ["pod-a", "pod-b"]
    for proof in proofs.values():
        assert isinstance(proof, podauth.AuthCodeProof)
        assert proof.redirect_uri.startswith(callback_prefix(daemon))
        assert pod.redeem(proof) == LOGIN
    assert client.status().pending == ()


def test_idp_refusal_is_refused_with_its_error(
    client: podauth.Client, daemon: Daemon, browser: Browser
) -> None:
    def cancel(action: podauth.UserAction) -> None:
        browser.cancel_sign_in(action.url, callback_prefix(daemon))

    with pytest.raises(podauth.Refused, match="access_denied") as raised:
        client.prove("oidc-auth-code", {"pod-a": CLIENT_ID}, on_action=cancel, timeout=60)
    assert raised.value.code == "PERMISSION_DENIED"
    assert client.status().pending == ()


def test_pod_of_another_environment_is_refused(client: podauth.Client) -> None:
    with pytest.raises(podauth.Refused, match=OTHER_CLIENT_ID):
        client.prove("oidc-device-code", {"pod-x": OTHER_CLIENT_ID}, on_action=lambda a: None)


def test_user_who_never_comes_back_times_out(client: podauth.Client) -> None:
    with pytest.raises(podauth.TimedOut) as raised:
        client.prove("oidc-auth-code", {"pod-a": CLIENT_ID}, timeout=1, on_action=lambda a: None)
    assert isinstance(raised.value, TimeoutError)
    assert client.status().pending == ()


def test_login_token_logout(
    client: podauth.Client, daemon: Daemon, browser: Browser, provider: Provider
) -> None:
    with pytest.raises(podauth.NotLoggedIn):
        client.token()

    result = client.login(
        method="oidc-auth-code",
        on_action=lambda a: browser.sign_in(a.url, callback_prefix(daemon)),
        timeout=60,
    )
    assert (result.environment, result.subject) == ("test", LOGIN)

    token = client.token()
    assert token.access_token and token.access_token not in repr(token)
    assert token.authorization == f"{token.token_type} {token.access_token}"
    assert client.token().access_token == token.access_token
    assert [s.subject for s in client.status().sessions] == [LOGIN]

    assert client.logout().was_logged_in
    with pytest.raises(podauth.NotLoggedIn):
        client.token()
