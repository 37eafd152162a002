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

# The Python client: installed with pip from the checkout into a fresh venv,
# as a user would, with every version pinned by its constraints file (the
# build's grpcio-tools included), then its tests against the binaries built
# above. pytest's exit status 5 (no tests collected) is a failure too.
python_venv=target/python-venv
rm -rf "$python_venv"
if ! python3 -m venv "$python_venv" 2>/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  python3 -m venv "$python_venv"
fi
PIP_CONSTRAINT="$PWD/client/python/tests/constraints.txt" \
  "$python_venv/bin/pip" install --quiet --disable-pip-version-check "./client/python[test]"
python_status=0
PODAUTH_BIN_DIR="${CARGO_TARGET_DIR:-$PWD/target}/debug" \
  "$python_venv/bin/pytest" client/python/tests || python_status=$?
if [ "$python_status" -eq 5 ]; then
  echo "tests/run.sh: pytest collected no Python tests" >&2
fi
[ "$python_status" -eq 0 ] || exit "$python_status"
