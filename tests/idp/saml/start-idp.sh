#!/usr/bin/env bash
# Start podauth's test SAML 2.0 IdP: SimpleSAMLphp 1.19 (Debian package) under
# PHP's built-in web server, with a throwaway configuration made from the
# templates in config/. See README.md next to this file.
#
#   start-idp.sh PORT ACS...
#
#   PORT  TCP port on 127.0.0.1 for the IdP.
#   ACS   an AssertionConsumerService URL the SPs may ask for (used verbatim),
#         or a bare port number N, short for the three loopback URLs
#         http://localhost:N/api/saml http://127.0.0.1:N/api/saml
#         http://[::1]:N/api/saml. At least one.
#
# Environment (all optional):
#   SAML_IDP_DIR            state directory to use (created if missing; must not
#                           already hold a config). Default: a new mktemp dir.
#   SAML_IDP_SP_ENTITY_IDS  space-separated SP entity ids.
#                           Default: "https://pod.test/saml https://pod2.test/saml".
#   SAML_IDP_WORKERS        PHP built-in server worker processes (>1 forks
#                           workers that outlive a killed parent: then kill the
#                           whole process group). Default: 1, a single process.
#   SAML_IDP_LOG            "file" (default: $SAML_IDP_DIR/log/simplesamlphp.log)
#                           or "stderr".
#   SAML_IDP_SSP_WWW        SimpleSAMLphp web root.
#                           Default: /usr/share/simplesamlphp/www.
#
# Prints KEY=VALUE lines on stdout (SAML_IDP_*), then execs php in the
# foreground. Ready when GET $SAML_IDP_METADATA_URL answers 200 (php also
# prints "Development Server (http://127.0.0.1:PORT) started" on stderr).
set -euo pipefail

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
    exit 2
}

[ $# -ge 2 ] || usage
port=$1
shift
[[ $port =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || {
    echo "start-idp.sh: bad PORT: $port" >&2
    exit 2
}

acs_urls=()
for arg in "$@"; do
    if [[ $arg =~ ^[0-9]+$ ]]; then
        acs_urls+=("http://localhost:$arg/api/saml" "http://127.0.0.1:$arg/api/saml" "http://[::1]:$arg/api/saml")
    elif [[ $arg =~ ^https?:// ]]; then
        acs_urls+=("$arg")
    else
        echo "start-idp.sh: not an ACS URL or port: $arg" >&2
        exit 2
    fi
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
www=${SAML_IDP_SSP_WWW:-/usr/share/simplesamlphp/www}
[ -f "$www/saml2/idp/SSOService.php" ] || {
    echo "start-idp.sh: SimpleSAMLphp not found at $www (apt-get install simplesamlphp php-cli php-xml php-mbstring)" >&2
    exit 1
}
command -v php >/dev/null && command -v openssl >/dev/null || {
    echo "start-idp.sh: needs php and openssl" >&2
    exit 1
}

dir=${SAML_IDP_DIR:-}
if [ -z "$dir" ]; then
    dir=$(mktemp -d "${TMPDIR:-/tmp}/podauth-saml-idp.XXXXXX")
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [ -e "$dir/config" ]; then
    echo "start-idp.sh: $dir/config already exists; give each IdP its own SAML_IDP_DIR" >&2
    exit 1
fi
mkdir -p "$dir/config/metadata" "$dir/cert" "$dir/log" "$dir/data" "$dir/tmp" "$dir/sessions"
chmod 700 "$dir/sessions"
cp "$here/config/config.php" "$here/config/authsources.php" "$dir/config/"
cp "$here/config/metadata/saml20-idp-hosted.php" "$here/config/metadata/saml20-sp-remote.php" "$dir/config/metadata/"

# Throwaway signing key pair for this run only.
openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days 3650 \
    -subj "/CN=podauth test SAML IdP (throwaway)" \
    -keyout "$dir/cert/idp-test.key" -out "$dir/cert/idp-test.crt" 2>/dev/null

base_url="http://127.0.0.1:$port/"
entity_id="${base_url}saml2/idp/metadata.php"
log_to_stderr=false
[ "${SAML_IDP_LOG:-file}" = stderr ] && log_to_stderr=true

# params.php: PHP writes its own literals, so no quoting worries here.
php -d display_errors=stderr -r '
    [, $out, $port, $baseUrl, $entityId, $stateDir, $logToStderr, $spIds] = $argv;
    $acs = array_slice($argv, 8);
    $params = [
        "port" => (int) $port,
        "base_url" => $baseUrl,
        "entity_id" => $entityId,
        "state_dir" => $stateDir,
        "log_to_stderr" => $logToStderr === "true",
        "sp_entity_ids" => preg_split("/\s+/", trim($spIds)),
        "acs_urls" => $acs,
        "secret_salt" => bin2hex(random_bytes(16)),
        "admin_password" => bin2hex(random_bytes(16)),
    ];
    file_put_contents($out, "<?php\n// Written by start-idp.sh.\nreturn " . var_export($params, true) . ";\n");
' -- "$dir/config/params.php" "$port" "$base_url" "$entity_id" "$dir" "$log_to_stderr" \
    "${SAML_IDP_SP_ENTITY_IDS:-https://pod.test/saml https://pod2.test/saml}" "${acs_urls[@]}"

echo "SAML_IDP_DIR=$dir"
echo "SAML_IDP_ENTITY_ID=$entity_id"
echo "SAML_IDP_SSO_URL=${base_url}saml2/idp/SSOService.php"
echo "SAML_IDP_METADATA_URL=$entity_id"
echo "SAML_IDP_CERT=$dir/cert/idp-test.crt"
echo "SAML_IDP_LOG=$([ "$log_to_stderr" = true ] && echo stderr || echo "$dir/log/simplesamlphp.log")"
for url in "${acs_urls[@]}"; do
    echo "SAML_IDP_ACS_URL=$url"
done

export SIMPLESAMLPHP_CONFIG_DIR="$dir/config"
workers=${SAML_IDP_WORKERS:-1}
[[ $workers =~ ^[0-9]+$ ]] || {
    echo "start-idp.sh: bad SAML_IDP_WORKERS: $workers" >&2
    exit 2
}
if [ "$workers" -gt 1 ]; then
    export PHP_CLI_SERVER_WORKERS=$workers
else
    unset PHP_CLI_SERVER_WORKERS
fi
exec php -d session.save_path="$dir/sessions" -d display_errors=stderr -d log_errors=0 \
    -S "127.0.0.1:$port" -t "$www"
