"""The test SAML IdP (SimpleSAMLphp, ``tests/idp/saml/start-idp.sh``) as a
process, and a reference SAML Pod.

The Pod builds its AuthnRequest for the HTTP-Redirect binding and checks
what the daemon hands back: the Response signature against the IdP's
certificate (with the ``xmlsec1`` tool), then ``InResponseTo``,
``Destination`` and the status, and returns the NameID.
"""

from __future__ import annotations

import base64
import secrets
import subprocess
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
import zlib
from datetime import datetime, timezone
from pathlib import Path

from podauth import SamlProof

from .paths import SAML_IDP
from .processes import free_port, stop, wait_until

SP_ENTITY_ID = "https://pod.test/saml"
USERNAME, PASSWORD = "alice", "alice-password"
PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
ASSERTION = "urn:oasis:names:tc:SAML:2.0:assertion"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"


class SamlIdp:
    """A running SimpleSAMLphp that posts to ``acs_port``'s ``/api/saml``."""

    def __init__(self, directory: Path, acs_port: int) -> None:
        self.port = free_port()
        self._log = open(directory / "saml-idp.log", "wb")
        self.process = subprocess.Popen(
            ["bash", str(SAML_IDP), str(self.port), str(acs_port)],
            env={"SAML_IDP_DIR": str(directory / "idp"), "PATH": "/usr/bin:/bin"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        values: dict[str, str] = {}
        while "SAML_IDP_ACS_URL" not in values:
            line = self.process.stdout.readline().decode()
            if not line:
                stop(self.process)
                raise RuntimeError(f"the SAML IdP did not start; see {self._log.name}")
            key, _, value = line.strip().partition("=")
            values.setdefault(key, value)
        self.sso_url = values["SAML_IDP_SSO_URL"]
        self.cert = Path(values["SAML_IDP_CERT"])
        wait_until("the SAML IdP's metadata", self._serving(values["SAML_IDP_METADATA_URL"]), 15)

    @staticmethod
    def _serving(url: str):
        def check() -> bool:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    return response.status == 200
            except (urllib.error.URLError, ConnectionError):
                return False

        return check

    def close(self) -> None:
        stop(self.process)
        self._log.close()


class SamlPod:
    """A Pod that challenges with an AuthnRequest and verifies the answer."""

    def __init__(self, idp: SamlIdp, acs_url: str) -> None:
        self.idp = idp
        self.acs_url = acs_url
        self.request_id = "_" + secrets.token_hex(16)

    def challenge(self) -> str:
        """The ``SAMLRequest`` value: raw DEFLATE, then base64."""
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        xml = (
            f'<samlp:AuthnRequest xmlns:samlp="{PROTOCOL}" xmlns:saml="{ASSERTION}" '
            f'ID="{self.request_id}" Version="2.0" IssueInstant="{now}" '
            f'Destination="{self.idp.sso_url}" AssertionConsumerServiceURL="{self.acs_url}" '
            'ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">'
            f"<saml:Issuer>{SP_ENTITY_ID}</saml:Issuer></samlp:AuthnRequest>"
        )
        deflate = zlib.compressobj(wbits=-15)
        raw = deflate.compress(xml.encode()) + deflate.flush()
        return base64.b64encode(raw).decode()

    def verify(self, proof: SamlProof, workdir: Path) -> str:
        """Checks the Response; returns the NameID it asserts."""
        xml = base64.b64decode(proof.saml_response)
        response_file = workdir / f"{proof.pod_id}-response.xml"
        response_file.write_bytes(xml)
        signature = "/*[local-name()='Response']/*[local-name()='Signature']"
        checked = subprocess.run(
            [
                "xmlsec1",
                "--verify",
                "--pubkey-cert-pem",
                str(self.idp.cert),
                "--id-attr:ID",
                f"{PROTOCOL}:Response",
                "--node-xpath",
                signature,
                str(response_file),
            ],
            capture_output=True,
            text=True,
        )
        if checked.returncode != 0:
            raise AssertionError(f"Response signature does not verify: {checked.stderr}")

        root = ET.fromstring(xml)
        assert root.get("InResponseTo") == self.request_id, "InResponseTo is not my request"
        assert root.get("Destination") == self.acs_url
        status = root.find(f"{{{PROTOCOL}}}Status/{{{PROTOCOL}}}StatusCode")
        assert status is not None and status.get("Value") == SUCCESS
        a = f"{{{ASSERTION}}}"
        name_id = root.find(f"{a}Assertion/{a}Subject/{a}NameID")
        assert name_id is not None and name_id.text
        return name_id.text
