"""The saml method from Python: a real SimpleSAMLphp IdP, the browser, and
a Pod that verifies the posted Response's signature and InResponseTo."""

from __future__ import annotations

import base64
import dataclasses
import shutil
import tempfile
from pathlib import Path

import pytest

import podauth
from harness.browser import Browser, saml_sign_in
from harness.daemon import Daemon
from harness.provider import Provider
from harness.saml_idp import USERNAME, SamlIdp, SamlPod

pytestmark = pytest.mark.slow


@pytest.fixture
def saml_setup(provider: Provider):
    if shutil.which("php") is None or shutil.which("xmlsec1") is None:
        pytest.fail("the saml test needs php, simplesamlphp and xmlsec1 (tests/setup)")
    directory = Path(tempfile.mkdtemp(prefix="pa-saml-"))
    daemon = Daemon(directory, provider.issuer)
    idp = SamlIdp(directory, daemon.callback_port)
    daemon.config.write_text(daemon.config.read_text() + f'saml_sso_url = "{idp.sso_url}"\n')
    try:
        daemon.start()
        yield daemon, idp
    finally:
        daemon.stop()
        idp.close()
        shutil.rmtree(directory, ignore_errors=True)


def test_saml_for_two_pods_in_one_browser_visit(
    saml_setup: tuple[Daemon, SamlIdp], browser: Browser, tmp_path: Path
) -> None:
    daemon, idp = saml_setup
    acs_url = f"http://localhost:{daemon.callback_port}/api/saml"
    pods = {"pod-a": SamlPod(idp, acs_url), "pod-b": SamlPod(idp, acs_url)}
    actions: list[podauth.UserAction] = []

    def sign_in(action: podauth.UserAction) -> None:
        actions.append(action)
        saml_sign_in(browser, action.url, f"http://localhost:{daemon.callback_port}/")

    with podauth.Client(daemon.socket) as client:
        proofs = client.prove(
            "saml",
            {pod_id: pod.challenge() for pod_id, pod in pods.items()},
            on_action=sign_in,
            timeout=60,
        )

    assert [a.pod_ids for a in actions] == [("pod-a", "pod-b")]
    assert list(proofs) == ["pod-a", "pod-b"]
    for pod_id, proof in proofs.items():
        assert isinstance(proof, podauth.SamlProof)
        assert pods[pod_id].verify(proof, tmp_path) == USERNAME

    # The Pod's check is real: a Response altered after signing fails it.
    proof = proofs["pod-a"]
    xml = base64.b64decode(proof.saml_response).replace(b">alice<", b">mallory<")
    forged = dataclasses.replace(proof, saml_response=base64.b64encode(xml).decode())
    with pytest.raises(AssertionError, match="signature"):
        pods["pod-a"].verify(forged, tmp_path)
