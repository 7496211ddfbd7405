#!/usr/bin/env bash
# Regenerate the bundled captures: real clients (curl, python) against a real server (lab/shop.py),
# in two network namespaces joined by a veth pair, recorded with tcpdump. Needs root.
#   captures/gen/generate.sh            all scenarios
#   captures/gen/generate.sh demo kinds some of them
# Each capture NAME.pcap gets NAME.truth.json (see captures/README.md).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$ROOT/captures"
"$HERE/setup.sh"
PREFIX=psgen
source "$HERE/netns.sh"
WORK="$(mktemp -d)"
trap 'netns_down; rm -rf "$WORK"' EXIT

netns_up
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=shop.lab" -addext "subjectAltName=DNS:shop.lab" \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1
SHOP="python3 $ROOT/lab/shop.py"
$S $SHOP --host 10.77.0.2 --port 80 & 
$S $SHOP --host fd77::2 --port 8081 &
$S $SHOP --host 10.77.0.2 --port 443 --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem" &
wait_http http://10.77.0.2/ready
wait_http "http://[fd77::2]:8081/ready"
wait_http -k https://10.77.0.2/ready

H=(--resolve shop.lab:80:10.77.0.2 --resolve shop.lab:443:10.77.0.2 -s -o /dev/null)
CURL="$C curl"
# An expired token (exp 2024-01-01) for user bob, signed with the lab key: a fixed value.
EXPIRED="eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJib2IiLCJpc3MiOiJzaG9wLmxhYiIsInJvbGVzIjpbImN1c3RvbWVyIl0sImlhdCI6MTcwNDAyNzYwMCwiZXhwIjoxNzA0MTE0MDAwfQ.q1ZlJ8mZ2r7w0kq0t1pbZ5N2m6a0c3Yk7nqzvQ0hUe8"

record() { # name, then the scenario function
    local name=$1 fn=$2
    rm -f "$WORK/cap.pcap"
    $S tcpdump -i "$VS" -s 0 -U -w "$WORK/cap.pcap" tcp 2>/dev/null &
    local tp=$!
    sleep 1
    "$fn"
    sleep 1
    kill -INT $tp; wait $tp 2>/dev/null || true
    cp "$WORK/cap.pcap" "$OUT/$name.pcap"
    chmod 644 "$OUT/$name.pcap"
    echo "$name.pcap: $(stat -c %s "$OUT/$name.pcap") bytes" >&2
}

login_token() { # user password [extra curl args] -> prints the JWT from the login response
    $CURL -s "${H[@]:0:4}" -d "username=$1&password=$2" "${@:3}" http://shop.lab/login | python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])'
}

scenario_demo() {
    $CURL "${H[@]}" http://shop.lab/
    $CURL "${H[@]}" http://shop.lab/static/app.css
    TOKEN=$(login_token alice 'Tr0ub4dor%263')
    $CURL "${H[@]}" -H "Authorization: Bearer $TOKEN" http://shop.lab/api/orders
    $CURL "${H[@]}" -H "Authorization: Bearer $TOKEN" http://shop.lab/api/profile
    $CURL "${H[@]}" -b "session=sess-2bd806c97f0e00af1a1fc3328fa763a9" http://shop.lab/cart
    $CURL "${H[@]}" -H "Authorization: Bearer $EXPIRED" http://shop.lab/api/orders
    # The same flow over HTTPS: nothing to see.
    T2=$($CURL -sk "${H[@]:0:4}" -d 'username=alice&password=Tr0ub4dor%263' https://shop.lab/login | python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])')
    $CURL -k "${H[@]}" -H "Authorization: Bearer $T2" https://shop.lab/api/orders
}

scenario_kinds() {
    $CURL "${H[@]}" http://shop.lab/
    $CURL "${H[@]}" http://shop.lab/docs
    $CURL "${H[@]}" -u 'admin:S3cure:Adm1n!' http://shop.lab/admin
    $CURL "${H[@]}" -H 'Authorization: Digest username="carol", realm="admin", nonce="5f2a9c", uri="/admin", response="6629fae49393a05397450978507c4ef1"' http://shop.lab/admin
    $CURL "${H[@]}" -H 'X-API-Key: lab-apikey-7f3c9a12e4b8d6f0' http://shop.lab/v1/items
    $CURL "${H[@]}" -b 'sessionid=7c1d9e4b2a6f8035c4e1; _ga=GA1.2.1234567890.1700000000; XSRF-TOKEN=a1b2c3d4e5f6a7b8' http://shop.lab/cart
    $CURL "${H[@]}" -d 'username=dave&password=Correct-Horse-42&csrf_token=c5f1e0d2a9b8c7d6e5f4' http://shop.lab/login
    $CURL "${H[@]}" -H 'Content-Type: application/json' -d '{"user":{"email":"erin@shop.lab","password":"erin-P4ss-json"}}' http://shop.lab/login
    $CURL "${H[@]}" -F username=frank -F password=frank-multipart-9 http://shop.lab/login
    $CURL "${H[@]}" -d 'grant_type=password&username=gina&password=gina-oauth-77&client_id=shop-cli&client_secret=cs-4e8b1f0a9d2c7e63' http://shop.lab/oauth/token
    $CURL "${H[@]}" -H 'Content-Type: application/json' -d '{"query":"mutation Login($username: String!, $password: String!) { login(username: $username, password: $password) { token } }","variables":{"username":"hank","password":"hank-GraphQL-1"}}' http://shop.lab/graphql
    $CURL "${H[@]}" 'http://shop.lab/feed?access_token=at-0f9e8d7c6b5a4938&page=2'
    $CURL "${H[@]}" http://shop.lab/sso
    $CURL "${H[@]}" -H 'Accept-Encoding: gzip' -d 'username=ivan&password=ivan-gzip-chunked' 'http://shop.lab/login?gz=1'
    JW=$(login_token judy 'judy-Pa55' -o /dev/stdout)
    $CURL "${H[@]}" -H "X-Forwarded-User-Token: $JW" http://shop.lab/search
    $CURL "${H[@]}" "http://shop.lab/verify/$JW"
    # Negatives
    $CURL "${H[@]}" -d 'username=mallory&password=' http://shop.lab/login
    $CURL "${H[@]}" 'http://shop.lab/search?q=shoes&pass=;cat%20/etc/passwd'
}

scenario_ipv6_altport() {
    TOKEN=$($CURL -s -d 'username=vera&password=v6-Secret-pass' 'http://[fd77::2]:8081/login' | python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])')
    $CURL -s -o /dev/null -H "Authorization: Bearer $TOKEN" 'http://[fd77::2]:8081/api/orders'
}

scenario_tiny_mss() {
    ip -n "$SRV" route change 10.77.0.0/24 dev "$VS" advmss 48
    ip -n "$CLI" route change 10.77.0.0/24 dev "$VC" advmss 48
    TOKEN=$(login_token walter 'tiny-MSS-secret-long-enough')
    $CURL "${H[@]}" -H "Authorization: Bearer $TOKEN" http://shop.lab/api/profile
    $CURL "${H[@]}" -b "session=sess-0e8a3b6f1d2c4957a8b0c1d2" http://shop.lab/cart
    ip -n "$SRV" route change 10.77.0.0/24 dev "$VS"
    ip -n "$CLI" route change 10.77.0.0/24 dev "$VC"
}

scenario_pipelined() {
    $C python3 - <<'PY'
import base64, socket
s = socket.create_connection(("10.77.0.2", 80))
basic = base64.b64encode(b"admin:S3cure:Adm1n!").decode()
reqs = ("GET /api/orders HTTP/1.1\r\nHost: shop.lab\r\nAuthorization: Bearer opaque-pipelined-token-31f7c2\r\n\r\n"
        "GET /admin HTTP/1.1\r\nHost: shop.lab\r\nAuthorization: Basic " + basic + "\r\n\r\n"
        "GET /cart HTTP/1.1\r\nHost: shop.lab\r\nCookie: session=sess-pipelined-9a8b7c6d5e4f\r\nConnection: close\r\n\r\n")
s.sendall(reqs.encode())
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
s.close()
PY
}

# ---------------------------------------------------------------- ground truth (captures/README.md)
# What each scenario sent and how the shop answered, written beside the capture. Severity follows the
# documented rules (README "Severity"): every login here is accepted by the shop (critical for a
# password); the JWTs it mints live an hour (high), EXPIRED is past its exp (medium); Digest is
# material (medium). `evidence_has`: phrases the alert's evidence must contain (case-insensitive).
# Shorthands for the leaks every shop login produces: the password (one line), then its Set-Cookie
# (HttpOnly, no Secure, no SameSite) and its JWT in the response body.
SETCOOKIE_EVIDENCE='"evidence_has": ["Set-Cookie without Secure", "HttpOnly set", "SameSite missing"]'
shop_login() { # user password server host path [form|json|multipart]
    local kind=form phrase='"login form", "password field"'
    case ${6:-form} in
        json) kind=json phrase='"JSON login", "password field"' ;;
        multipart) phrase='"multipart", "password field"' ;;
    esac
    local where="\"server\": \"$3\", \"host\": \"$4\", \"method\": \"POST\", \"path\": \"$5\""
    local cookie
    cookie=$(python3 -c 'import hashlib,sys; print("sess-" + hashlib.sha256(sys.argv[1].encode()).hexdigest()[:24])' "$1")
    cat <<EOF
  {"kind": "${kind}_login", "secret": "$2", "user": "$1", $where, "severity": "critical", "evidence_has": [$phrase]},
  {"kind": "set_cookie_insecure", "secret": "$cookie", "user": null, $where, "severity": "high", $SETCOOKIE_EVIDENCE},
  {"kind": "login_response_token", "user": "$1", $where, "jwt_sub": "$1", "severity": "high", "evidence_has": ["response body", "HS256", "sub $1"]},
EOF
}

truth_demo() {
    cat <<EOF
{
 "leaks": [
$(shop_login alice 'Tr0ub4dor&3' 10.77.0.2:80 shop.lab /login form)
  {"kind": "bearer_jwt", "user": "alice", "server": "10.77.0.2:80", "host": "shop.lab", "method": "GET", "path": "/api/orders", "jwt_sub": "alice", "count": 2, "severity": "high", "evidence_has": ["Bearer", "HS256", "sub alice"]},
  {"kind": "cookie_token", "secret": "sess-2bd806c97f0e00af1a1fc3328fa763a9", "user": null, "server": "10.77.0.2:80", "host": "shop.lab", "method": "GET", "path": "/cart", "severity": "high", "evidence_has": ["session cookie"]},
  {"kind": "bearer_jwt", "secret": "$EXPIRED", "user": "bob", "server": "10.77.0.2:80", "host": "shop.lab", "method": "GET", "path": "/api/orders", "jwt_sub": "bob", "severity": "medium", "evidence_has": ["Bearer", "HS256", "sub bob"]}
 ],
 "negatives": [
  "the HTML login page mentions password and token",
  "a static stylesheet",
  "the same login and API calls over HTTPS (TLS, SNI shop.lab): nothing readable",
  "the Bearer token reused on /api/profile is the same leak (count 2), not a new one"
 ]
}
EOF
}

truth_kinds() {
    local at='"server": "10.77.0.2:80", "host": "shop.lab"'
    cat <<EOF
{
 "leaks": [
  {"kind": "basic_auth", "secret": "S3cure:Adm1n!", "user": "admin", $at, "method": "GET", "path": "/admin", "severity": "critical", "evidence_has": ["Basic authentication", "user:password"]},
  {"kind": "other_auth", "user": "carol", $at, "method": "GET", "path": "/admin", "severity": "medium", "evidence_has": ["Digest", "no plaintext password"]},
  {"kind": "api_key_header", "secret": "lab-apikey-7f3c9a12e4b8d6f0", "user": null, $at, "method": "GET", "path": "/v1/items", "severity": "high", "evidence_has": ["API key header"]},
  {"kind": "cookie_token", "secret": "7c1d9e4b2a6f8035c4e1", "user": null, $at, "method": "GET", "path": "/cart", "severity": "high", "evidence_has": ["session cookie"]},
$(shop_login dave Correct-Horse-42 10.77.0.2:80 shop.lab /login form)
$(shop_login erin@shop.lab erin-P4ss-json 10.77.0.2:80 shop.lab /login json)
$(shop_login frank frank-multipart-9 10.77.0.2:80 shop.lab /login multipart)
  {"kind": "form_login", "secret": "gina-oauth-77", "user": "gina", $at, "method": "POST", "path": "/oauth/token", "severity": "critical", "evidence_has": ["OAuth2 password grant"]},
  {"kind": "form_login", "secret": "cs-4e8b1f0a9d2c7e63", "user": "gina", $at, "method": "POST", "path": "/oauth/token", "severity": "high", "evidence_has": ["OAuth2 client secret"]},
  {"kind": "login_response_token", "user": "gina", $at, "method": "POST", "path": "/oauth/token", "jwt_sub": "gina", "severity": "high", "evidence_has": ["response body", "HS256", "sub gina"]},
  {"kind": "login_response_token", "secret": "rt-030923893f54c3d04b0bc141bad6", "user": null, $at, "method": "POST", "path": "/oauth/token", "severity": "high", "evidence_has": ["response body"]},
  {"kind": "json_login", "secret": "hank-GraphQL-1", "user": "hank", $at, "method": "POST", "path": "/graphql", "severity": "critical", "evidence_has": ["GraphQL", "password"]},
  {"kind": "login_response_token", "user": "hank", $at, "method": "POST", "path": "/graphql", "jwt_sub": "hank", "severity": "high", "evidence_has": ["response body", "HS256", "sub hank"]},
  {"kind": "url_token", "secret": "at-0f9e8d7c6b5a4938", "user": null, $at, "method": "GET", "path": "/feed?access_token=at-0f9e8d7c6b5a4938&page=2", "severity": "high", "evidence_has": ["token in a URL"]},
  {"kind": "url_token", "secret": "sso-ticket-5b9e2c71d04a8f36", "user": null, $at, "method": "GET", "path": "/sso", "severity": "high", "evidence_has": ["token in a URL"]},
$(shop_login ivan ivan-gzip-chunked 10.77.0.2:80 shop.lab '/login?gz=1' form)
$(shop_login judy judy-Pa55 10.77.0.2:80 shop.lab /login form)
  {"kind": "api_key_header", "user": "judy", $at, "method": "GET", "path": "/search", "jwt_sub": "judy", "severity": "high", "evidence_has": ["custom header", "HS256", "sub judy"]},
  {"kind": "jwt_other", "user": "judy", $at, "method": "GET", "path": null, "jwt_sub": "judy", "severity": "high", "evidence_has": ["JWT", "HS256", "sub judy"]}
 ],
 "low_confidence": [
  {"kind": "url_token", "secret": ";cat /etc/passwd", "user": null, $at, "method": "GET", "path": "/search?q=shoes&pass=;cat%20/etc/passwd", "severity": "low", "evidence_has": ["password in a URL"]}
 ],
 "negatives": [
  "login page HTML mentions password, token and Bearer",
  "documentation page with the jwt.io example token",
  "csrf_token form field and XSRF-TOKEN cookie",
  "_ga tracking cookie",
  "a login with an empty password (mallory)",
  "?pass=;cat /etc/passwd attack payload in a search URL (low confidence: only with --include-low)",
  "a static stylesheet"
 ]
}
EOF
}

truth_ipv6_altport() {
    local at='"server": "[fd77::2]:8081", "host": "[fd77::2]:8081"'
    cat <<EOF
{
 "leaks": [
$(shop_login vera v6-Secret-pass '[fd77::2]:8081' '[fd77::2]:8081' /login form)
  {"kind": "bearer_jwt", "user": "vera", $at, "method": "GET", "path": "/api/orders", "jwt_sub": "vera", "severity": "high", "evidence_has": ["Bearer", "HS256", "sub vera"]}
 ],
 "negatives": []
}
EOF
}

truth_tiny_mss() {
    local at='"server": "10.77.0.2:80", "host": "shop.lab"'
    cat <<EOF
{
 "leaks": [
$(shop_login walter tiny-MSS-secret-long-enough 10.77.0.2:80 shop.lab /login form)
  {"kind": "bearer_jwt", "user": "walter", $at, "method": "GET", "path": "/api/profile", "jwt_sub": "walter", "severity": "high", "evidence_has": ["Bearer", "HS256", "sub walter"]},
  {"kind": "cookie_token", "secret": "sess-0e8a3b6f1d2c4957a8b0c1d2", "user": null, $at, "method": "GET", "path": "/cart", "severity": "high", "evidence_has": ["session cookie"]}
 ],
 "negatives": [
  "every secret is split across several 48-byte segments"
 ]
}
EOF
}

truth_pipelined() {
    local at='"server": "10.77.0.2:80", "host": "shop.lab"'
    cat <<EOF
{
 "leaks": [
  {"kind": "bearer_opaque", "secret": "opaque-pipelined-token-31f7c2", "user": null, $at, "method": "GET", "path": "/api/orders", "severity": "high", "evidence_has": ["Bearer"]},
  {"kind": "basic_auth", "secret": "S3cure:Adm1n!", "user": "admin", $at, "method": "GET", "path": "/admin", "severity": "critical", "evidence_has": ["Basic authentication", "user:password"]},
  {"kind": "cookie_token", "secret": "sess-pipelined-9a8b7c6d5e4f", "user": null, $at, "method": "GET", "path": "/cart", "severity": "high", "evidence_has": ["session cookie"]}
 ],
 "negatives": [
  "three requests in one segment, three responses in one"
 ]
}
EOF
}

ALL=(demo kinds ipv6_altport tiny_mss pipelined)
for name in "${@:-${ALL[@]}}"; do
    record "$name" "scenario_$name"
    "truth_$name" | python3 -c 'import json,sys; json.dump(json.load(sys.stdin), sys.stdout, indent=1, ensure_ascii=False); print()' \
        >"$OUT/$name.truth.json"
done
