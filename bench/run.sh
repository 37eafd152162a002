#!/usr/bin/env bash
# Builds podauthd, podauth and the benchmark, then runs the whole benchmark
# and prints its table (Markdown) on stdout; progress goes to stderr.
#
#   bench/run.sh            release build, full run (two to three minutes)
#   bench/run.sh --quick    CI: a few hundred milliseconds of each measurement,
#                           to check that everything still runs; never fails
#                           on timings
#
# --quick runs the debug build, which the test suite has just made, so CI
# pays for no release build; its figures are rough debug figures.
# ssh-agent (openssh-client) and systemd-socket-activate (systemd) are
# installed when missing; without them their rows would say "not measured".
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v ssh-agent >/dev/null || missing+=(openssh-client)
command -v systemd-socket-activate >/dev/null || missing+=(systemd)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bench/run.sh: installing ${missing[*]}" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

profile=release
out=release
for arg in "$@"; do
  if [ "$arg" = --quick ]; then
    profile=dev
    out=debug
  fi
done
cargo build --profile "$profile" --quiet -p podauthd -p podauth -p podauth-bench
bin_dir="${CARGO_TARGET_DIR:-$PWD/target}/$out"
exec "$bin_dir/podauth-bench" --bin-dir "$bin_dir" "$@"
