"""The three identity verification methods, by their exact names.

A method is chosen by its string name, as in the design and the protocol.
Names are checked here, before any call to the daemon, so that a typo
fails at once with the list of valid names.
"""

from __future__ import annotations

DEVICE_CODE = "oidc-device-code"
AUTH_CODE = "oidc-auth-code"
SAML = "saml"

#: Every method name, the default first.
METHODS: tuple[str, ...] = (DEVICE_CODE, AUTH_CODE, SAML)
#: The method the daemon uses when a request names none.
DEFAULT_METHOD = DEVICE_CODE
#: The methods that can sign in the daemon's shared session.
LOGIN_METHODS: tuple[str, ...] = (DEVICE_CODE, AUTH_CODE)


def check_method(method: str | None, allowed: tuple[str, ...] = METHODS) -> str:
    """Returns ``method`` ("" for the default when None) or raises ValueError.

    The error names the bad value and lists the valid names, the default
    marked, so that the fix is in the message.
    """
    if method is None:
        return ""
    if not isinstance(method, str) or method not in allowed:
        raise ValueError(
            f"unknown identity verification method {method!r}; valid methods: {_listing(allowed)}"
        )
    return method


def _listing(names: tuple[str, ...]) -> str:
    return ", ".join(f"{name} (default)" if name == DEFAULT_METHOD else name for name in names)
