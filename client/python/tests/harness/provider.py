"""The test OpenID Provider (``tests/idp/oidc/provider.mjs``) as a process.

It prints ``READY http://127.0.0.1:PORT`` once it listens and exits when
its stdin closes, so the harness holds a pipe to it for its lifetime.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from typing import Any

from .paths import OIDC_PROVIDER
from .processes import stop

#: Test clients the provider knows.
CLIENT_ID = "podauth-test"
OTHER_CLIENT_ID = "podauth-other"
PROOF_AUDIENCE = "https://am.bitfount.com/api/access/modellerProofOfIdentity"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class Provider:
    """A running provider; ``issuer`` is ``http://127.0.0.1:PORT``."""

    def __init__(self, log_path: str) -> None:
        self._log = open(log_path, "wb")
        self.process = subprocess.Popen(
            ["node", str(OIDC_PROVIDER), "--port", "0", "--interval", "1"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        line = self.process.stdout.readline().decode().strip()
        if not line.startswith("READY "):
            stop(self.process)
            raise RuntimeError(
                f"the test OpenID Provider did not start (said {line!r}); see {log_path}; "
                "run `npm ci` in tests/idp/oidc first"
            )
        self.issuer = line.split(" ", 1)[1]
        self._discovery: dict[str, Any] | None = None

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        stop(self.process)
        self._log.close()

    def get_json(self, path: str) -> Any:
        with urllib.request.urlopen(self.issuer + path, timeout=10) as response:
            return json.load(response)

    @property
    def discovery(self) -> dict[str, Any]:
        if self._discovery is None:
            self._discovery = self.get_json("/.well-known/openid-configuration")
        return self._discovery

    def stats(self) -> dict[str, Any]:
        """Token requests counted by grant type since the last reset."""
        return self.get_json("/__test/stats")

    def token_requests(self, grant_type: str) -> int:
        return self.stats()["token_requests"].get(grant_type, 0)
