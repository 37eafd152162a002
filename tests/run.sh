#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what the tests
# need (Debian packages, the pinned npm tree of the test OpenID Provider,
# cargo-deb, a Python venv), builds the workspace, and runs every test
# against real IdPs, a real headless Chromium, a real Secret Service and the
# real daemon, then the benchmark's quick mode and the Python client's tests.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/setup/install-deps.sh
(cd tests/idp/oidc && npm ci --no-audit --no-fund --loglevel=error)

# The packaging test builds the Debian package with cargo-deb; a pinned
# version, installed when missing.
cargo_deb_version=3.8.0
if ! cargo deb --version >/dev/null 2>&1; then
  cargo install cargo-deb --version "$cargo_deb_version" --locked --quiet
fi

cargo build --workspace --bins
cargo test --workspace --no-fail-fast

# The benchmark in its quick mode, on the debug build made above: checks
# that every measurement still runs and prints its table; it never fails
# on timings (docs/benchmarks.md).
bench/run.sh --quick

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
