#!/usr/bin/env bash
# Installs the Debian packages the end-to-end suite needs (a real browser,
# the SAML IdP, a Secret Service, the C libraries samael builds against,
# systemd's tools and what building the Debian package takes), and nothing
# when they are all there already.
set -euo pipefail

packages=(
  chromium chromium-driver
  gnome-keyring dbus dbus-x11 libsecret-tools keyutils
  clang libclang-dev libxml2-dev libxmlsec1-dev libssl-dev pkg-config xmlsec1
  openssh-client
  simplesamlphp php-cli php-xml php-mbstring
  systemd procps python3
  dpkg-dev
  nodejs npm
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$package")
done
# The machine may bring its own Node.js outside Debian's packages.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for package in "${missing[@]}"; do
    case "$package" in nodejs|npm) ;; *) filtered+=("$package") ;; esac
  done
  missing=("${filtered[@]}")
fi

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
