#!/usr/bin/env bash
# Self-test of the test OpenID Provider: starts a fresh provider.mjs and
# drives every flow that podauth's end-to-end tests rely on with curl and a
# cookie jar (no browser). Needs bash, curl and node. Exits non-zero on the
# first failure.
#
#   bash tests/idp/oidc/selftest.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="$(mktemp -d)"
PROVIDER_PID=""

PROOF_AUD='https://am.bitfount.com/api/access/modellerProofOfIdentity'
HUB_AUD='https://hub.bitfount.com/api'
CLIENT='podauth-test'
DEVICE_GRANT='urn:ietf:params:oauth:grant-type:device_code'
CALLBACK_PATH='/api/auth/callback/auth0'
INTERVAL=2
ACCESS_TTL=120
DEVICE_TTL=300

PASSED=0
FAILED=0

cleanup() {
  exec 7>&- 2>/dev/null || true
  if [[ -n "$PROVIDER_PID" ]] && kill -0 "$PROVIDER_PID" 2>/dev/null; then
    kill "$PROVIDER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  FAILED=$((FAILED + 1))
  echo "--- provider stderr ---" >&2
  cat "$WORK/provider.err" >&2 || true
  echo "$PASSED passed, $FAILED failed"
  exit 1
}

ok() {
  echo "ok: $*"
  PASSED=$((PASSED + 1))
}

# json FILE EXPR: evaluate a JS expression over the JSON object `o`.
json() {
  node -e '
    const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const v = eval(process.argv[2]);
    process.stdout.write(v === undefined || v === null ? "" : String(v));
  ' "$1" "$2"
}

# jwt TOKEN: verify an RS256 JWT against the provider's /jwks and print its
# payload as JSON; fails if the signature or header is wrong.
jwt() {
  node -e '
    const crypto = require("crypto");
    const [token, issuer] = process.argv.slice(1);
    (async () => {
      const [h, p, s] = token.split(".");
      const header = JSON.parse(Buffer.from(h, "base64url"));
      if (header.alg !== "RS256") throw new Error(`alg ${header.alg}`);
      const { keys } = await (await fetch(`${issuer}/jwks`)).json();
      const jwk = keys.find((k) => k.kid === header.kid);
      if (!jwk) throw new Error(`no key ${header.kid}`);
      const key = crypto.createPublicKey({ key: jwk, format: "jwk" });
      const good = crypto.verify("RSA-SHA256", Buffer.from(`${h}.${p}`), key,
        Buffer.from(s, "base64url"));
      if (!good) throw new Error("bad signature");
      process.stdout.write(Buffer.from(p, "base64url").toString());
    })().catch((e) => { console.error(e.message); process.exit(1); });
  ' "$1" "$ISSUER"
}

pkce_pair() {
  VERIFIER="$(node -e 'process.stdout.write(require("crypto").randomBytes(48).toString("base64url"))')"
  CHALLENGE="$(node -e 'process.stdout.write(require("crypto").createHash("sha256")
    .update(process.argv[1]).digest("base64url"))' "$VERIFIER")"
}

# get JAR URL: GET without following redirects; sets STATUS and LOCATION.
get() {
  local out
  out="$(curl -sS -c "$1" -b "$1" -o "$WORK/body" -w '%{http_code} %{redirect_url}' "$2")"
  STATUS="${out%% *}"
  LOCATION="${out#* }"
}

# post JAR URL ARGS...: POST a form without following redirects.
post() {
  local jar="$1" url="$2" out
  shift 2
  out="$(curl -sS -c "$jar" -b "$jar" -o "$WORK/body" -w '%{http_code} %{redirect_url}' \
    "$@" "$url")"
  STATUS="${out%% *}"
  LOCATION="${out#* }"
}

# token ARGS...: POST to /token; body in $WORK/token.json, status in STATUS.
token() {
  STATUS="$(curl -sS -o "$WORK/token.json" -w '%{http_code}' "$@" "$ISSUER/token")"
}

# authorize JAR REDIRECT_URI SCOPE AUDIENCE STATE [CLIENT]: GET /auth.
authorize() {
  pkce_pair
  get "$1" "$ISSUER/auth?$(
    node -e 'process.stdout.write(new URLSearchParams({
      client_id: process.argv[6] || "podauth-test", response_type: "code",
      redirect_uri: process.argv[1], scope: process.argv[2],
      audience: process.argv[3], state: process.argv[4],
      code_challenge: process.argv[5], code_challenge_method: "S256",
    }).toString())' "$2" "$3" "$4" "$5" "$CHALLENGE" "${6:-}"
  )"
}

# query_param URL NAME
query_param() {
  node -e 'process.stdout.write(new URL(process.argv[1]).searchParams.get(process.argv[2]) ?? "")' \
    "$1" "$2"
}

# login JAR INTERACTION_URL NAME: submit the login form; ends at the redirect
# after /auth/:uid (or /device/resume), in LOCATION.
login() {
  grep -q 'id="login-form"' "$WORK/body" || fail "no login form at $2"
  post "$1" "$2/login" --data-urlencode "login=$3" --data-urlencode 'password=any'
  [[ "$STATUS" == 303 ]] || fail "login POST gave $STATUS"
  get "$1" "$LOCATION"
}

redeem_code() {  # CODE REDIRECT_URI [CLIENT [CURL ARGS...]]
  local code="$1" uri="$2" client="${3:-$CLIENT}"
  shift 2; shift || true
  token -d grant_type=authorization_code --data-urlencode "code=$code" \
    --data-urlencode "code_verifier=$VERIFIER" --data-urlencode "redirect_uri=$uri" \
    -d "client_id=$client" "$@"
}

# --------------------------------------------------------------- start ----

if [[ ! -d "$HERE/node_modules/oidc-provider" ]]; then
  (cd "$HERE" && npm ci --no-audit --no-fund >&2)
fi

mkfifo "$WORK/stdin"
exec 7<>"$WORK/stdin"
start_ns="$(date +%s%N)"
# fd 7 is the only writer of the provider's stdin: closing it is EOF.
node "$HERE/provider.mjs" --port 0 --interval "$INTERVAL" --access-token-ttl "$ACCESS_TTL" \
  --device-code-ttl "$DEVICE_TTL" <"$WORK/stdin" \
  >"$WORK/provider.out" 2>"$WORK/provider.err" 7>&- &
PROVIDER_PID=$!
for _ in $(seq 100); do
  grep -q '^READY ' "$WORK/provider.out" 2>/dev/null && break
  sleep 0.02
done
grep -q '^READY http://127.0.0.1:[0-9]*$' "$WORK/provider.out" || fail "no READY line"
ready_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
ISSUER="$(sed -n 's/^READY //p' "$WORK/provider.out")"
PORT="${ISSUER##*:}"
[[ "$(wc -l <"$WORK/provider.out")" == 1 ]] || fail "stdout has more than the READY line"
(( ready_ms < 1000 )) || fail "READY after ${ready_ms} ms"
ok "READY $ISSUER after ${ready_ms} ms"

curl -sS "$ISSUER/.well-known/openid-configuration" -o "$WORK/disco.json"
[[ "$(json "$WORK/disco.json" o.issuer)" == "$ISSUER" ]] || fail "discovery issuer"
[[ "$(json "$WORK/disco.json" 'o.code_challenge_methods_supported.join()')" == S256 ]] \
  || fail "PKCE methods"
ok "discovery: issuer, device endpoint $(json "$WORK/disco.json" o.device_authorization_endpoint)"

# ------------------------------------------- 1. auth code + PKCE ----------

JAR="$WORK/browser.jar"
RU="http://localhost:$((20000 + RANDOM % 20000))$CALLBACK_PATH"
authorize "$JAR" "$RU" 'execute:task' "$PROOF_AUD" state-one
[[ "$STATUS" == 303 && "$LOCATION" == "$ISSUER/interaction/"* ]] \
  || fail "1: /auth gave $STATUS $LOCATION"
INTERACTION="$LOCATION"
get "$JAR" "$INTERACTION"
[[ "$STATUS" == 200 ]] || fail "1: login page $STATUS"
login "$JAR" "$INTERACTION" alice
[[ "$STATUS" == 303 && "$LOCATION" == "$RU?"* ]] || fail "1: no callback: $STATUS $LOCATION"
CODE="$(query_param "$LOCATION" code)"
[[ -n "$CODE" ]] || fail "1: no code"
[[ "$(query_param "$LOCATION" state)" == state-one ]] || fail "1: state"
[[ "$(query_param "$LOCATION" iss)" == "$ISSUER" ]] || fail "1: iss"
ok "1: login page then callback to $RU with code, state, iss"

GOOD_VERIFIER="$VERIFIER"
VERIFIER="${VERIFIER%?}x"
redeem_code "$CODE" "$RU"
[[ "$STATUS" == 400 && "$(json "$WORK/token.json" o.error)" == invalid_grant ]] \
  || fail "1: wrong verifier gave $STATUS $(cat "$WORK/token.json")"
ok "1: wrong code_verifier is invalid_grant (the code stays usable)"

VERIFIER="$GOOD_VERIFIER"
redeem_code "$CODE" "$RU"
[[ "$STATUS" == 200 ]] || fail "1: token $STATUS $(cat "$WORK/token.json")"
[[ "$(json "$WORK/token.json" o.token_type)" == Bearer ]] || fail "1: token_type"
[[ -z "$(json "$WORK/token.json" o.refresh_token)" ]] || fail "1: unexpected refresh token"
jwt "$(json "$WORK/token.json" o.access_token)" >"$WORK/at.json" || fail "1: JWT check"
[[ "$(json "$WORK/at.json" o.sub)" == alice ]] || fail "1: sub $(cat "$WORK/at.json")"
[[ "$(json "$WORK/at.json" o.aud)" == "$PROOF_AUD" ]] || fail "1: aud $(cat "$WORK/at.json")"
[[ "$(json "$WORK/at.json" o.iss)" == "$ISSUER" ]] || fail "1: iss in JWT"
[[ "$(json "$WORK/at.json" 'o.scope.split(" ").includes("execute:task")')" == true ]] \
  || fail "1: scope $(cat "$WORK/at.json")"
[[ "$(json "$WORK/at.json" o.client_id)" == "$CLIENT" ]] || fail "1: client_id"
[[ "$(json "$WORK/at.json" 'o.exp - o.iat')" == "$ACCESS_TTL" ]] || fail "1: lifetime"
[[ "$(json "$WORK/token.json" o.expires_in)" == "$ACCESS_TTL" ]] || fail "1: expires_in"
ok "1: /token without audience gave RS256 JWT sub=alice aud=$PROOF_AUD scope=execute:task"

redeem_code "$CODE" "$RU"
[[ "$STATUS" == 400 && "$(json "$WORK/token.json" o.error)" == invalid_grant ]] \
  || fail "1: reused code gave $STATUS"
ok "1: reused code is invalid_grant"

authorize "$JAR" "$RU" 'execute:task' "$PROOF_AUD" state-one-c
redeem_code "$(query_param "$LOCATION" code)" "$RU" "$CLIENT" --data-urlencode "audience=$PROOF_AUD"
[[ "$STATUS" == 200 ]] || fail "1: token with audience repeated $STATUS $(cat "$WORK/token.json")"
jwt "$(json "$WORK/token.json" o.access_token)" >"$WORK/at.json"
[[ "$(json "$WORK/at.json" o.aud)" == "$PROOF_AUD" ]] || fail "1: aud with audience repeated"
ok "1: /token that repeats the audience gets the same JWT audience"

# ---------------------------- 2. same session: straight back with a code --

for host in localhost 127.0.0.1 '[::1]'; do
  for client in podauth-test podauth-other; do
    RU2="http://$host:$((20000 + RANDOM % 20000))$CALLBACK_PATH"
    authorize "$JAR" "$RU2" 'execute:task' "$PROOF_AUD" "state-$host" "$client"
    [[ "$STATUS" == 303 && "$LOCATION" == "$RU2?"* ]] \
      || fail "2: $client $RU2 gave $STATUS $LOCATION"
    [[ "$(query_param "$LOCATION" state)" == "state-$host" ]] || fail "2: state"
    redeem_code "$(query_param "$LOCATION" code)" "$RU2" "$client"
    [[ "$STATUS" == 200 ]] || fail "2: token $STATUS $(cat "$WORK/token.json")"
    jwt "$(json "$WORK/token.json" o.access_token)" >"$WORK/at.json"
    [[ "$(json "$WORK/at.json" o.sub)" == alice ]] || fail "2: sub"
  done
  ok "2: logged-in session, host $host on a non-29206 port: 303 straight to callback, both clients"
done

get "$JAR" "$ISSUER/auth?client_id=$CLIENT&response_type=code&scope=execute:task&state=s&code_challenge=$CHALLENGE&code_challenge_method=S256&redirect_uri=http%3A%2F%2Fexample.com%3A29206%2Fapi%2Fauth%2Fcallback%2Fauth0"
[[ "$STATUS" == 400 ]] || fail "2: foreign redirect host gave $STATUS $LOCATION"
grep -q 'redirect_uri did not match' "$WORK/body" || fail "2: foreign host error page"
ok "2: a non-loopback redirect host is refused (400 page, no redirect)"

get "$JAR" "$ISSUER/auth?client_id=$CLIENT&response_type=code&scope=execute:task&state=s-nopkce&redirect_uri=$(
  node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "$RU")"
[[ "$STATUS" == 303 && "$(query_param "$LOCATION" error)" == invalid_request ]] \
  || fail "2: missing PKCE gave $STATUS $LOCATION"
ok "2: /auth without code_challenge: error=invalid_request on the redirect"

# ---------------------------------------------- 3. cancel on login page --

JAR3="$WORK/cancel.jar"
authorize "$JAR3" "$RU" 'execute:task' "$PROOF_AUD" state-cancel
get "$JAR3" "$LOCATION"
grep -q 'id="login-cancel"' "$WORK/body" || fail "3: no cancel button"
ACTION="$(sed -n 's/.*<form id="cancel-form" method="post" action="\([^"]*\)".*/\1/p' "$WORK/body")"
post "$JAR3" "$ISSUER$ACTION" -X POST
[[ "$STATUS" == 303 ]] || fail "3: abort gave $STATUS"
get "$JAR3" "$LOCATION"
[[ "$STATUS" == 303 && "$LOCATION" == "$RU?"* ]] || fail "3: abort resume $STATUS $LOCATION"
[[ "$(query_param "$LOCATION" error)" == access_denied ]] || fail "3: error in $LOCATION"
[[ "$(query_param "$LOCATION" state)" == state-cancel ]] || fail "3: state in $LOCATION"
ok "3: Cancel on the login page: callback with error=access_denied&state=state-cancel"

# ------------------------------------------------------ 4. device flow --

# device_start SCOPE AUDIENCE: POST /device/auth, response in $WORK/device.json
device_start() {
  curl -sS -o "$WORK/device.json" -d "client_id=$CLIENT" --data-urlencode "scope=$1" \
    --data-urlencode "audience=$2" "$ISSUER/device/auth"
  for field in device_code user_code verification_uri verification_uri_complete expires_in; do
    [[ -n "$(json "$WORK/device.json" "o.$field")" ]] || fail "4: no $field: $(cat "$WORK/device.json")"
  done
  [[ "$(json "$WORK/device.json" o.interval)" == "$INTERVAL" ]] \
    || fail "4: interval $(cat "$WORK/device.json")"
  [[ "$(json "$WORK/device.json" o.expires_in)" == "$DEVICE_TTL" ]] \
    || fail "4: expires_in $(cat "$WORK/device.json")"
  DEVICE_CODE="$(json "$WORK/device.json" o.device_code)"
}

poll() {
  token -d "grant_type=$DEVICE_GRANT" --data-urlencode "device_code=$DEVICE_CODE" \
    -d "client_id=$CLIENT"
}

# device_open JAR: open verification_uri_complete and post the auto-submit
# form, as the page's script would; ends on the confirm page.
device_open() {
  get "$1" "$(json "$WORK/device.json" o.verification_uri_complete)"
  [[ "$STATUS" == 200 ]] || fail "4: verification page $STATUS"
  XSRF="$(sed -n 's/.*name="xsrf" value="\([^"]*\)".*/\1/p' "$WORK/body" | head -1)"
  USER_CODE="$(sed -n 's/.*name="user_code" value="\([^"]*\)".*/\1/p' "$WORK/body" | head -1)"
  [[ -n "$XSRF" && -n "$USER_CODE" ]] || fail "4: auto-submit form fields"
  post "$1" "$ISSUER/device" --data-urlencode "xsrf=$XSRF" --data-urlencode "user_code=$USER_CODE"
  [[ "$STATUS" == 200 ]] && grep -q 'id="device-confirm"' "$WORK/body" \
    || fail "4: confirm page $STATUS"
  XSRF="$(sed -n 's/.*name="xsrf" value="\([^"]*\)".*/\1/p' "$WORK/body" | head -1)"
}

device_start 'execute:task' "$PROOF_AUD"
[[ "$(json "$WORK/device.json" o.verification_uri)" == "$ISSUER/device" ]] || fail "4: verification_uri"
ok "4: /device/auth: device_code, user_code, verification_uri(_complete), expires_in, interval=$INTERVAL"
poll
[[ "$STATUS" == 400 && "$(json "$WORK/token.json" o.error)" == authorization_pending ]] \
  || fail "4: first poll $STATUS $(cat "$WORK/token.json")"
ok "4: poll before approval: authorization_pending"

JAR4="$WORK/device.jar"
device_open "$JAR4"
post "$JAR4" "$ISSUER/device" --data-urlencode "xsrf=$XSRF" \
  --data-urlencode "user_code=$USER_CODE" -d confirm=yes
[[ "$STATUS" == 303 && "$LOCATION" == "$ISSUER/interaction/"* ]] || fail "4: confirm gave $STATUS $LOCATION"
INTERACTION="$LOCATION"
get "$JAR4" "$INTERACTION"
login "$JAR4" "$INTERACTION" bob
[[ "$STATUS" == 200 ]] && grep -q 'id="device-success"' "$WORK/body" \
  || fail "4: success page $STATUS $LOCATION"
ok "4: verification_uri_complete -> confirm -> login -> success page"
poll
[[ "$STATUS" == 200 ]] || fail "4: poll after approval $STATUS $(cat "$WORK/token.json")"
jwt "$(json "$WORK/token.json" o.access_token)" >"$WORK/at.json"
[[ "$(json "$WORK/at.json" o.sub)" == bob ]] || fail "4: sub $(cat "$WORK/at.json")"
[[ "$(json "$WORK/at.json" o.aud)" == "$PROOF_AUD" ]] || fail "4: aud"
[[ "$(json "$WORK/at.json" 'o.scope.split(" ").includes("execute:task")')" == true ]] || fail "4: scope"
ok "4: poll after approval (no audience repeated): JWT sub=bob aud=$PROOF_AUD"
poll
[[ "$STATUS" == 400 && "$(json "$WORK/token.json" o.error)" == invalid_grant ]] \
  || fail "4: second redeem of the device code $STATUS $(cat "$WORK/token.json")"
ok "4: device code used twice: invalid_grant"

# A second device flow in the same browser session: login is skipped.
device_start 'execute:task' "$PROOF_AUD"
device_open "$JAR4"
post "$JAR4" "$ISSUER/device" --data-urlencode "xsrf=$XSRF" \
  --data-urlencode "user_code=$USER_CODE" -d confirm=yes
[[ "$STATUS" == 200 ]] && grep -q 'id="device-success"' "$WORK/body" \
  || fail "4b: confirm in a logged-in session gave $STATUS $LOCATION"
poll
[[ "$STATUS" == 200 ]] || fail "4b: poll $STATUS"
ok "4: second device code in the same session: confirm -> success (no login page)"

# Abort on the confirm page.
device_start 'execute:task' "$PROOF_AUD"
device_open "$WORK/abort.jar"
post "$WORK/abort.jar" "$ISSUER/device" --data-urlencode "xsrf=$XSRF" \
  --data-urlencode "user_code=$USER_CODE" -d confirm=yes -d abort=yes
[[ "$STATUS" == 200 ]] && grep -q 'id="device-error"' "$WORK/body" \
  || fail "4: abort page $STATUS"
poll
[[ "$STATUS" == 400 && "$(json "$WORK/token.json" o.error)" == access_denied ]] \
  || fail "4: poll after abort $STATUS $(cat "$WORK/token.json")"
ok "4: Abort on the confirm page: poller gets access_denied"

# Cancel on the login page of a device flow.
device_start 'execute:task' "$PROOF_AUD"
device_open "$WORK/abort2.jar"
post "$WORK/abort2.jar" "$ISSUER/device" --data-urlencode "xsrf=$XSRF" \
  --data-urlencode "user_code=$USER_CODE" -d confirm=yes
get "$WORK/abort2.jar" "$LOCATION"
ACTION="$(sed -n 's/.*<form id="cancel-form" method="post" action="\([^"]*\)".*/\1/p' "$WORK/body")"
post "$WORK/abort2.jar" "$ISSUER$ACTION" -X POST
get "$WORK/abort2.jar" "$LOCATION"
grep -q 'id="device-error"' "$WORK/body" || fail "4: login cancel page $STATUS"
poll
[[ "$STATUS" == 400 && "$(json "$WORK/token.json" o.error)" == access_denied ]] \
  || fail "4: poll after login cancel $STATUS $(cat "$WORK/token.json")"
ok "4: Cancel on the device flow's login page: poller gets access_denied"

# ------------------------------------------------ 5. refresh rotation --

curl -sS -X POST -o /dev/null "$ISSUER/__test/reset"
device_start 'openid profile offline_access' "$HUB_AUD"
poll
device_open "$JAR4"
post "$JAR4" "$ISSUER/device" --data-urlencode "xsrf=$XSRF" \
  --data-urlencode "user_code=$USER_CODE" -d confirm=yes
[[ "$STATUS" == 200 ]] && grep -q 'id="device-success"' "$WORK/body" || fail "5: no success page"
poll
[[ "$STATUS" == 200 ]] || fail "5: poll $STATUS $(cat "$WORK/token.json")"
RT1="$(json "$WORK/token.json" o.refresh_token)"
[[ -n "$RT1" ]] || fail "5: no refresh token: $(cat "$WORK/token.json")"
[[ -n "$(json "$WORK/token.json" o.id_token)" ]] || fail "5: no id token"
jwt "$(json "$WORK/token.json" o.access_token)" >"$WORK/at.json"
[[ "$(json "$WORK/at.json" o.aud)" == "$HUB_AUD" && "$(json "$WORK/at.json" o.sub)" == bob ]] \
  || fail "5: hub token $(cat "$WORK/at.json")"
ok "5: device flow for $HUB_AUD with offline_access: refresh token, id token, JWT scope '$(json "$WORK/at.json" o.scope)'"

refresh() {
  token -d grant_type=refresh_token --data-urlencode "refresh_token=$1" -d "client_id=$CLIENT"
}
refresh "$RT1"
[[ "$STATUS" == 200 ]] || fail "5: refresh $STATUS $(cat "$WORK/token.json")"
RT2="$(json "$WORK/token.json" o.refresh_token)"
[[ -n "$RT2" && "$RT2" != "$RT1" ]] || fail "5: refresh token not rotated"
jwt "$(json "$WORK/token.json" o.access_token)" >"$WORK/at.json"
[[ "$(json "$WORK/at.json" o.aud)" == "$HUB_AUD" ]] || fail "5: refreshed aud"
ok "5: refresh rotates the refresh token; new JWT for $HUB_AUD"

refresh "$RT2"
[[ "$STATUS" == 200 ]] || fail "5: second refresh $STATUS"
RT3="$(json "$WORK/token.json" o.refresh_token)"
refresh "$RT1"
[[ "$STATUS" == 400 && "$(json "$WORK/token.json" o.error)" == invalid_grant ]] \
  || fail "5: old refresh token gave $STATUS $(cat "$WORK/token.json")"
ok "5: reusing a rotated refresh token: invalid_grant"
refresh "$RT3"
[[ "$STATUS" == 400 && "$(json "$WORK/token.json" o.error)" == invalid_grant ]] \
  || fail "5: newest token after reuse gave $STATUS"
ok "5: ... and the reuse revoked the whole grant (newest token invalid_grant too)"

curl -sS -o "$WORK/stats.json" "$ISSUER/__test/stats"
[[ "$(json "$WORK/stats.json" o.token_requests.refresh_token)" == 4 ]] \
  || fail "5: stats $(cat "$WORK/stats.json")"
[[ "$(json "$WORK/stats.json" o.token_requests[\""$DEVICE_GRANT"\"])" == 2 ]] \
  || fail "5: stats $(cat "$WORK/stats.json")"
[[ "$(json "$WORK/stats.json" o.token_errors.refresh_token.invalid_grant)" == 2 ]] \
  || fail "5: stats errors $(cat "$WORK/stats.json")"
ok "5: /__test/stats: $(cat "$WORK/stats.json")"
curl -sS -X POST -o "$WORK/stats.json" "$ISSUER/__test/reset"
curl -sS -o "$WORK/stats.json" "$ISSUER/__test/stats"
[[ "$(json "$WORK/stats.json" 'Object.keys(o.token_requests).length')" == 0 ]] || fail "5: reset"
ok "5: POST /__test/reset zeroes the counters"

# offline_access through /auth, without any consent page, then revocation.
authorize "$JAR" "$RU" 'openid profile offline_access' "$HUB_AUD" state-hub
[[ "$STATUS" == 303 && "$LOCATION" == "$RU?"* ]] || fail "5: hub /auth $STATUS $LOCATION"
redeem_code "$(query_param "$LOCATION" code)" "$RU"
[[ "$STATUS" == 200 ]] || fail "5: hub code $STATUS $(cat "$WORK/token.json")"
RT="$(json "$WORK/token.json" o.refresh_token)"
[[ -n "$RT" ]] || fail "5: /auth dropped offline_access: $(cat "$WORK/token.json")"
jwt "$(json "$WORK/token.json" o.access_token)" >"$WORK/at.json"
[[ "$(json "$WORK/at.json" o.aud)" == "$HUB_AUD" && "$(json "$WORK/at.json" o.sub)" == alice ]] \
  || fail "5: hub auth-code JWT $(cat "$WORK/at.json")"
ok "5: auth code with offline_access in a logged-in session: no page, refresh token issued"
STATUS="$(curl -sS -o /dev/null -w '%{http_code}' -d "client_id=$CLIENT" \
  --data-urlencode "token=$RT" -d token_type_hint=refresh_token "$ISSUER/token/revocation")"
[[ "$STATUS" == 200 ]] || fail "5: revocation $STATUS"
refresh "$RT"
[[ "$STATUS" == 400 && "$(json "$WORK/token.json" o.error)" == invalid_grant ]] \
  || fail "5: revoked refresh token gave $STATUS"
ok "5: revoked refresh token: invalid_grant"

# --------------------------------------------------------- lifecycle --

exec 7>&-
for _ in $(seq 100); do
  kill -0 "$PROVIDER_PID" 2>/dev/null || break
  sleep 0.02
done
if kill -0 "$PROVIDER_PID" 2>/dev/null; then fail "provider still running after stdin EOF"; fi
wait "$PROVIDER_PID" || fail "provider exit status $? after stdin EOF"
PROVIDER_PID=""
ok "provider exits 0 when stdin reaches EOF"

node "$HERE/provider.mjs" --port 0 </dev/zero >"$WORK/p2.out" 2>&1 &
PROVIDER_PID=$!
for _ in $(seq 100); do grep -q READY "$WORK/p2.out" && break; sleep 0.02; done
kill -TERM "$PROVIDER_PID"
wait "$PROVIDER_PID" || fail "provider exit status $? after SIGTERM"
PROVIDER_PID=""
ok "provider exits 0 on SIGTERM"

echo "$PASSED passed, $FAILED failed"
