#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what the tests
# need (Debian packages, the pinned npm tree of the test OpenID Provider),
# builds the workspace, and runs every test against real IdPs, a real
# headless Chromium and the real daemon.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/setup/install-deps.sh
(cd tests/idp/oidc && npm ci --no-audit --no-fund --loglevel=error)

cargo build --workspace --bins
cargo test --workspace
