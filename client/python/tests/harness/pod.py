"""A reference Pod: what a Pod does with a proof it is handed.

It redeems an authorization code with its verifier, or polls with a device
code, at the provider's token endpoint, as the Pod's own client; then it
verifies the access token's signature against the provider's JWKS, its
issuer and its audience, and returns the subject it names.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import jwt

from podauth import AuthCodeProof, DeviceCodeProof

from .provider import CLIENT_ID, DEVICE_GRANT, PROOF_AUDIENCE, Provider


class PodRefused(Exception):
    """The token endpoint said no; ``error`` is its OAuth error code."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error


class ReferencePod:
    def __init__(self, provider: Provider, client_id: str = CLIENT_ID) -> None:
        self.provider = provider
        self.client_id = client_id
        self._jwks = jwt.PyJWKClient(provider.discovery["jwks_uri"])

    def redeem(self, proof: AuthCodeProof) -> str:
        """Redeems the code with the verifier; the verified subject."""
        answer = self._token_request(
            grant_type="authorization_code",
            code=proof.auth_code,
            code_verifier=proof.code_verifier,
            redirect_uri=proof.redirect_uri,
        )
        return self.verify(answer["access_token"])

    def poll(self, proof: DeviceCodeProof, timeout: float = 30.0) -> str:
        """Polls with the device code until the user approved; the
        verified subject."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                answer = self._token_request(grant_type=DEVICE_GRANT, device_code=proof.device_code)
                return self.verify(answer["access_token"])
            except PodRefused as refused:
                if refused.error != "authorization_pending" or time.monotonic() > deadline:
                    raise
            time.sleep(max(proof.interval, 1))

    def verify(self, access_token: str) -> str:
        """Checks signature, issuer and audience; returns ``sub``."""
        key = self._jwks.get_signing_key_from_jwt(access_token)
        claims = jwt.decode(
            access_token,
            key.key,
            algorithms=["RS256"],
            audience=PROOF_AUDIENCE,
            issuer=self.provider.issuer,
        )
        return claims["sub"]

    def _token_request(self, **fields: str) -> dict[str, Any]:
        body = urllib.parse.urlencode({"client_id": self.client_id, **fields}).encode()
        request = urllib.request.Request(self.provider.discovery["token_endpoint"], data=body)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            answer = json.loads(error.read() or b"{}")
            raise PodRefused(
                answer.get("error", str(error.code)), answer.get("error_description", "")
            ) from None
