"""A real ``podauthd`` per test: its own socket, config, state directory
and callback port, pointed at the test provider."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from .paths import binary
from .processes import free_port, stop, wait_until

ENVIRONMENT = "test"


class Daemon:
    """A running podauthd; ``socket`` is where clients find it."""

    def __init__(self, directory: Path, issuer: str, saml_sso_url: str | None = None) -> None:
        self.directory = directory
        self.socket = directory / "agent.sock"
        self.callback_port = free_port()
        self.config = directory / "config.toml"
        saml = f'saml_sso_url = "{saml_sso_url}"\n' if saml_sso_url else ""
        self.config.write_text(
            f'default_environment = "{ENVIRONMENT}"\n'
            'browser = "none"\n'
            f"callback_port = {self.callback_port}\n"
            f"[environments.{ENVIRONMENT}]\n"
            f'issuer = "{issuer}"\n'
            'client_id = "podauth-test"\n' + saml
        )
        self.log_path = directory / "podauthd.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> Daemon:
        env = dict(os.environ)
        env.update(
            PODAUTH_STATE_DIR=str(self.directory / "state"),
            PODAUTH_TOKEN_STORE="file",
            RUST_LOG="info",
            NO_COLOR="1",
        )
        env.pop("PODAUTH_SOCK", None)
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [
                str(binary("podauthd")),
                "--config",
                str(self.config),
                "--socket",
                str(self.socket),
                "--callback-port",
                str(self.callback_port),
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            env=env,
        )
        try:
            wait_until("podauthd to log `ready`", self._ready, timeout=15)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"podauthd did not start; its log:\n{self.log()}") from None
        return self

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"podauthd exited at start; its log:\n{self.log()}")
        return self.socket.exists() and " ready" in self.log()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self._log.close()
            self.process = None

    def wait_gone(self) -> None:
        """Waits until the socket file is removed after a stop."""
        deadline = time.monotonic() + 5
        while self.socket.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
