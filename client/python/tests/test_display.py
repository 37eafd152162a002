"""User actions shown as they stream in: one notebook output updated in
place inside a kernel (here with a stand-in for IPython's display), lines
on stderr elsewhere. The real kernel's messages are checked in
test_kernels.py."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

import podauth
from harness.provider import CLIENT_ID
from podauth.display import NotebookView, TerminalView, view_for


class FakeHandle:
    def __init__(self, log: list[tuple[str, dict[str, str]]]) -> None:
        self.log = log

    def update(self, bundle: dict[str, str], raw: bool = False) -> None:
        assert raw
        self.log.append(("update", bundle))


@pytest.fixture
def notebook(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, str]]]:
    """Stands in for IPython inside a kernel; returns the display log."""
    log: list[tuple[str, dict[str, str]]] = []

    def display(bundle: dict[str, str], raw: bool = False, display_id: Any = None) -> FakeHandle:
        assert raw and display_id is True
        log.append(("display", bundle))
        return FakeHandle(log)

    shell = types.SimpleNamespace(kernel=object())
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: shell  # type: ignore[attr-defined]
    display_module = types.ModuleType("IPython.display")
    display_module.display = display  # type: ignore[attr-defined]
    ipython.display = display_module  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display_module)
    return log


def test_view_is_chosen_by_where_it_runs(notebook: list, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(view_for("prove", None), NotebookView)
    monkeypatch.delitem(sys.modules, "IPython")
    assert isinstance(view_for("prove", None), TerminalView)


def test_device_code_in_a_notebook_is_one_output_updated_in_place(
    notebook: list, client: podauth.Client
) -> None:
    proofs = client.prove("oidc-device-code", {"pod-a": CLIENT_ID, "pod-b": CLIENT_ID})

    kinds = [kind for kind, _ in notebook]
    assert kinds == ["display", "update", "update", "update", "update"]
    first = notebook[0][1]["text/html"]
    assert 'class="podauth-user-code"' in first and 'class="podauth-qr"' in first
    assert "<a href=" in first and "data:image/svg+xml" in first
    last = notebook[-1][1]
    # The codes stay up after the proofs are out: the Pods poll until the
    # user confirmed them.
    assert last["text/html"].count('class="podauth-user-code"') == 2
    assert "Proofs ready for pod-a, pod-b" in last["text/html"]
    assert last["text/plain"].splitlines()[-1].strip().startswith("done: confirm each code")
    # Proof secrets never reach the display.
    for _, bundle in notebook:
        for proof in proofs.values():
            assert proof.device_code not in bundle["text/html"] + bundle["text/plain"]


def test_failure_is_shown_in_the_same_output(notebook: list, client: podauth.Client) -> None:
    with pytest.raises(podauth.TimedOut):
        client.prove("oidc-auth-code", {"pod-a": CLIENT_ID}, timeout=1)
    assert [kind for kind, _ in notebook] == ["display", "update"]
    assert "Failed:" in notebook[-1][1]["text/html"]


def test_terminal_prints_lines(
    client: podauth.Client, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    client.prove("oidc-device-code", {"pod-a": CLIENT_ID})
    err = capsys.readouterr().err
    assert err.startswith("podauth: open http") and "confirm the code" in err
    assert "(Pods: pod-a)" in err


def test_secrets_stay_out_of_repr() -> None:
    proof = podauth.AuthCodeProof("pod-a", "the-code", "the-verifier", "http://localhost/cb")
    token = podauth.Token("the-token", None, "Bearer")
    saml = podauth.SamlProof("pod-a", "PHNhbWw+", "relay")
    device = podauth.DeviceCodeProof("pod-a", "the-device-code", None, 5)
    for record, secrets in [
        (proof, ["the-code", "the-verifier"]),
        (token, ["the-token"]),
        (saml, ["PHNhbWw+"]),
        (device, ["the-device-code"]),
    ]:
        shown = repr(record) + str(record)
        assert "<redacted>" in shown and "pod-a" in shown or record is token
        for secret in secrets:
            assert secret not in shown
