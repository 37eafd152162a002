"""Where the repository, the binaries and the test IdPs are."""

from __future__ import annotations

import os
from pathlib import Path

#: The podauth repository (client/python/tests/harness is four levels down).
REPO = Path(__file__).resolve().parents[4]
PROTO_ROOT = REPO / "proto"
OIDC_PROVIDER = REPO / "tests" / "idp" / "oidc" / "provider.mjs"
SAML_IDP = REPO / "tests" / "idp" / "saml" / "start-idp.sh"


def binary(name: str) -> Path:
    """A built podauth binary: ``$PODAUTH_BIN_DIR/NAME``, else the
    workspace's debug build."""
    directory = os.environ.get("PODAUTH_BIN_DIR")
    if directory:
        path = Path(directory) / name
    else:
        target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
        path = target / "debug" / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist: build it with `cargo build --workspace --bins` "
            "or point PODAUTH_BIN_DIR at the directory holding it"
        )
    return path
