"""What goes into a proof request and what comes back, as plain records.

A request names one challenge per Pod: the OIDC client id the Pod sent
(``oidc-device-code``, ``oidc-auth-code``) or the SAML AuthnRequest it sent
(``saml``, as a plain string or a :class:`SamlRequest`). The answer is one
proof per Pod, of the class for the method, which the caller hands back to
that Pod. User actions are what the user must do in a browser meanwhile.

The secret parts of a proof (codes, verifiers, SAML responses) are plain
attributes but never appear in ``repr``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ._redact import redacted_repr


@dataclass(frozen=True)
class SamlRequest:
    """A Pod's SAML challenge: the HTTP-Redirect ``SAMLRequest`` value (raw
    DEFLATE, base64) and, optionally, the IdP single sign-on URL to send
    the browser to instead of the environment's."""

    saml_request: str
    idp_sso_url: str = ""


#: What a Pod sent: its OIDC client id, or its SAML AuthnRequest.
Challenge = str | SamlRequest


@dataclass(frozen=True)
class UserAction:
    """Something the user must do in a browser.

    ``url`` is the page to open; for device code, ``user_code`` is the code
    to confirm there and ``verification_uri`` the page to type it into by
    hand. ``browser_opened`` says whether the daemon opened ``url`` itself.
    """

    pod_ids: tuple[str, ...]
    url: str
    user_code: str
    verification_uri: str
    expires_at: datetime | None
    browser_opened: bool


@dataclass(frozen=True, repr=False)
class DeviceCodeProof:
    """oidc-device-code (RFC 8628): the Pod polls the token endpoint with
    ``device_code`` every ``interval`` seconds until ``expires_at``."""

    pod_id: str
    device_code: str
    expires_at: datetime | None
    interval: int

    method = "oidc-device-code"

    def __repr__(self) -> str:
        return redacted_repr(self, frozenset({"device_code"}))


@dataclass(frozen=True, repr=False)
class AuthCodeProof:
    """oidc-auth-code (RFC 7636): the Pod redeems ``auth_code`` with
    ``code_verifier`` and ``redirect_uri`` at the token endpoint."""

    pod_id: str
    auth_code: str
    code_verifier: str
    redirect_uri: str

    method = "oidc-auth-code"

    def __repr__(self) -> str:
        return redacted_repr(self, frozenset({"auth_code", "code_verifier"}))


@dataclass(frozen=True, repr=False)
class SamlProof:
    """saml: the form the IdP posted, unchanged, for the Pod to verify."""

    pod_id: str
    saml_response: str
    relay_state: str

    method = "saml"

    def __repr__(self) -> str:
        return redacted_repr(self, frozenset({"saml_response"}))


#: One Pod's proof, of the class for the method.
Proof = DeviceCodeProof | AuthCodeProof | SamlProof
