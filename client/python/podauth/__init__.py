"""podauth: prove your identity to Pods from Python, through podauthd.

One daemon per user, ``podauthd``, does the browser and identity-provider
work; this package asks it over its Unix socket. Every notebook kernel,
script and CLI of the user shares that daemon, its login and its callback
port::

    import podauth
    proofs = podauth.prove("oidc-auth-code", {"my-pod": "<client id the Pod sent>"})
    proofs["my-pod"]      # AuthCodeProof(pod_id='my-pod', auth_code=<redacted>, ...)

The calls here block; :mod:`podauth.aio` has the same calls for asyncio.
Nothing from Jupyter is imported here: in a kernel, user actions are shown
through IPython's display, found at run time.
"""

from . import aio, errors
from .agent_socket import socket_path
from .client import Client, login, logout, methods, prove, status, token
from .errors import (
    DaemonNotRunning,
    InvalidRequest,
    NotLoggedIn,
    PodauthError,
    Refused,
    ResponseRejected,
    TimedOut,
    Unavailable,
)
from .methods import AUTH_CODE, DEFAULT_METHOD, DEVICE_CODE, METHODS, SAML
from .proofs import AuthCodeProof, DeviceCodeProof, Proof, SamlProof, SamlRequest, UserAction
from .session import LoginResult, LogoutResult, Token
from .status import MethodInfo, Status

__version__ = "0.1.0"

__all__ = [
    "AUTH_CODE",
    "AuthCodeProof",
    "Client",
    "DEFAULT_METHOD",
    "DEVICE_CODE",
    "DaemonNotRunning",
    "DeviceCodeProof",
    "InvalidRequest",
    "LoginResult",
    "LogoutResult",
    "METHODS",
    "MethodInfo",
    "NotLoggedIn",
    "PodauthError",
    "Proof",
    "Refused",
    "ResponseRejected",
    "SAML",
    "SamlProof",
    "SamlRequest",
    "Status",
    "TimedOut",
    "Token",
    "Unavailable",
    "UserAction",
    "aio",
    "errors",
    "login",
    "logout",
    "methods",
    "prove",
    "socket_path",
    "status",
    "token",
]
