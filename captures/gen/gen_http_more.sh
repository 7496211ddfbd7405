#!/usr/bin/env bash
# captures/http_more.pcap: the HTTP details of issue 11 and the seed's fixes seen from the wire, made by
# REAL clients (curl, Python's http.client and ssl, net-snmp's snmptrap) against a small Python server
# that answers as the services do: Swift tempauth (X-Auth-User/X-Auth-Key -> X-Auth-Token), a Vault
# userpass login (auth.client_token), a Keystone token (X-Subject-Token), a weather station upload and an
# IP camera snapshot (passwords in the query), an S3 GET signed with AWS Signature V4 (signed by hand,
# checked by the server), a site that redirects HTTP to HTTPS after credentials crossed, a client that
# goes back to plain HTTP after HTTPS (no HSTS), requests from an https:// page to plain HTTP (mixed
# content), a short session cookie, and SNMP traps to a receiver on port 162.
# Servers in namespace psgx-srv (10.77.0.2), clients in psgx-cli (10.77.0.1), tcpdump on the server veth.
# Nothing leaves the two namespaces; every file lives in a temporary directory removed on exit. Root.
#   sudo captures/gen/gen_http_more.sh
# Writes captures/http_more.pcap and captures/http_more.truth.json (see captures/README.md). Every secret
# is fixed except the capture's times and ports, so the truth file does not change between runs.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$ROOT/captures"
NAME=http_more
[[ $(id -u) -eq 0 ]] || { echo "needs root: sudo $0 $*" >&2; exit 1; }
"$HERE/setup.sh"

# --- packages: only what is missing (snmptrap comes with Debian's snmp) ---------------------------------
source "$HERE/packages.sh"
install_missing snmp python3

PREFIX=psgx
source "$HERE/netns.sh"
WORK="$(mktemp -d)"
chmod 755 "$WORK"
cleanup() {
    netns_drain
    netns_down
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

netns_up
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=secure.lab" \
    -addext "subjectAltName=DNS:secure.lab,DNS:portal.lab,DNS:shop2.lab" \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1

# --- the secrets (fixed) -------------------------------------------------------------------------------
SWIFT_USER='test:tester'
SWIFT_PW='Swift-tempauth-pw1'
SWIFT_TOKEN='AUTH_tk5c2d8a61b9e04f7aa1c3e2d9f0b7'
VAULT_PW='Vault-alice-pw1'
VAULT_TOKEN='hvs.CAESIGq2Xb7mZ0pQlabHttpMore01'
KS_PW='Keystone-adm1n-pw'
KS_TOKEN='gAAAAABlabKeystoneSubjectTok3n9x'
WX_ID='KLABWX01'
WX_PW='Wx-St4tion-key'
CAM_PW='Cam-adm1n-pw'
AWS_AKID='AKIAPSGXLABEXAMPL1'
AWS_SECRET='psgxLabSecretAccessKeyNeverOnTheWire01'
REDIR_SESS='Sess-redirect-7f3a9c2e'
BOB_PW='Bob-redirect-pw9'
PORTAL_SID='Portal-sid-0a1b2c3d4e'
MIXED_TOKEN='Tok-mixed-0123456789abcdef'
MIXED_SID='Sid-mixed-9f8e7d6c5b'
SHORT_SESS='abc123'
TRAP_V2='Trap-c0mm-v2c'
TRAP_V1='Trap-c0mm-v1'
export SWIFT_USER SWIFT_PW SWIFT_TOKEN VAULT_PW VAULT_TOKEN KS_PW KS_TOKEN AWS_AKID AWS_SECRET

# --- the server: one Python process, HTTP on 80, 8080 (Swift), 8200 (Vault), 5000 (Keystone), HTTPS on
# 443, and a trap receiver on UDP 162; it answers by the Host header, as the real services do ----------
cat >"$WORK/server.py" <<'PY'
import hashlib, hmac, json, os, socket, ssl, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

E = os.environ
SIGNED = "host;x-amz-content-sha256;x-amz-date"

def sigv4(method, path, host, amz_date, payload_hash, akid, secret, region="us-east-1", service="s3"):
    date = amz_date[:8]
    canonical = f"{method}\n{path}\n\nhost:{host}\nx-amz-content-sha256:{payload_hash}\nx-amz-date:{amz_date}\n\n{SIGNED}\n{payload_hash}"
    scope = f"{date}/{region}/{service}/aws4_request"
    sts = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n" + hashlib.sha256(canonical.encode()).hexdigest()
    k = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    return f"AWS4-HMAC-SHA256 Credential={akid}/{scope}, SignedHeaders={SIGNED}, Signature={sig}"

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def reply(self, code, body=b"", ctype="text/plain", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""
    def do_GET(self):
        self.route("GET")
    def do_POST(self):
        self.route("POST")
    def route(self, method):
        host = (self.headers.get("Host") or "").split(":")[0]
        tls = isinstance(self.connection, ssl.SSLSocket)
        u = urlsplit(self.path)
        b = self.body()
        if tls:
            return self.reply(200, b"ok over https\n")
        if host == "swift.lab":
            if u.path == "/auth/v1.0":
                user = self.headers.get("X-Auth-User") or self.headers.get("X-Storage-User")
                key = self.headers.get("X-Auth-Key") or self.headers.get("X-Storage-Pass")
                if (user, key) == (E["SWIFT_USER"], E["SWIFT_PW"]):
                    t = E["SWIFT_TOKEN"]
                    return self.reply(200, b"", headers=[("X-Storage-Url", "http://swift.lab:8080/v1/AUTH_test"),
                        ("X-Auth-Token", t), ("X-Storage-Token", t), ("X-Auth-Token-Expires", "86399"),
                        ("X-Trans-Id", "tx5e1b0c7a2f4d4b3e9a8c1-0065f1a2b3")])
                return self.reply(401, b"<html><h1>Unauthorized</h1></html>", "text/html")
            tok = self.headers.get("X-Auth-Token") or self.headers.get("X-Storage-Token")
            if tok == E["SWIFT_TOKEN"]:
                return self.reply(200, b"photo-001.jpg\nphoto-002.jpg\n")
            return self.reply(401, b"")
        if host == "vault.lab":
            if u.path == "/v1/auth/userpass/login/alice" and json.loads(b or b"{}").get("password") == E["VAULT_PW"]:
                resp = {"request_id": "8e33c808-f86c-cff8-f30a-fbb3ac22c4a8", "lease_id": "", "renewable": False,
                        "lease_duration": 0, "data": {}, "wrap_info": None, "warnings": None,
                        "auth": {"client_token": E["VAULT_TOKEN"], "accessor": "hmac-0e9e3b7a5c3f2f4bb9c1",
                                 "policies": ["default", "app-read"], "token_policies": ["default", "app-read"],
                                 "metadata": {"username": "alice"}, "lease_duration": 2764800, "renewable": True,
                                 "entity_id": "9d6b1c2e-2a4f-6c3a-8b1e-3f2c4d5e6f7a", "token_type": "service",
                                 "orphan": True, "num_uses": 0}}
                return self.reply(200, json.dumps(resp).encode(), "application/json")
            if self.headers.get("X-Vault-Token") == E["VAULT_TOKEN"]:
                return self.reply(200, b'{"data":{"data":{"greeting":"hello"},"metadata":{"version":3}}}', "application/json")
            return self.reply(403, b'{"errors":["permission denied"]}', "application/json")
        if host == "keystone.lab":
            req = json.loads(b or b"{}")
            pw = req.get("auth", {}).get("identity", {}).get("password", {}).get("user", {}).get("password")
            if pw == E["KS_PW"]:
                resp = {"token": {"methods": ["password"], "expires_at": "2030-01-01T00:00:00.000000Z",
                                  "user": {"name": "admin", "domain": {"id": "default"}}, "audit_ids": ["Lab0aud1t1d"]}}
                return self.reply(201, json.dumps(resp).encode(), "application/json",
                                  headers=[("X-Subject-Token", E["KS_TOKEN"])])
            return self.reply(401, b'{"error":{"code":401}}', "application/json")
        if host == "rtupdate.wx.lab":
            return self.reply(200, b"success\n")
        if host == "cam.lab":
            return self.reply(200, b"\xff\xd8\xff\xe0 lab jpeg \xff\xd9", "image/jpeg")
        if host == "s3.lab":
            want = sigv4(method, u.path, self.headers.get("Host"), self.headers.get("X-Amz-Date", ""),
                         self.headers.get("X-Amz-Content-Sha256", ""), E["AWS_AKID"], E["AWS_SECRET"])
            if self.headers.get("Authorization") == want:
                return self.reply(200, b"id,total\n1,42\n", "text/csv")
            return self.reply(403, b"<Error><Code>SignatureDoesNotMatch</Code></Error>", "application/xml")
        if host == "secure.lab":
            # HTTP is only ever redirected to HTTPS: after whatever the request carried has crossed.
            return self.reply(301, b"", headers=[("Location", "https://secure.lab" + self.path)])
        if host == "iot.lab":
            # Negatives: headers that mention sessions, tokens or keys without being credentials.
            return self.reply(200, b"status: ok\n", headers=[
                ("Content-Security-Policy", "default-src 'self'; script-src 'nonce-r4nd0mN0nc3Lab'"),
                ("X-Request-Id", "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"), ("X-Token-Expires", "3600"),
                ("X-Session-Count", "3")])
        return self.reply(200, b"<html>plain page</html>", "text/html")

def serve(port, tls=False):
    srv = ThreadingHTTPServer(("10.77.0.2", port), H)
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[1], sys.argv[2])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()

def traps():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.77.0.2", 162))
    while True:
        s.recvfrom(65536)  # a trap receiver answers nothing

for p in (80, 8080, 8200, 5000):
    serve(p)
serve(443, tls=True)
traps()
PY
$S python3 "$WORK/server.py" "$WORK/cert.pem" "$WORK/key.pem" >>"$WORK/server.log" 2>&1 &
for port in 80 8080 8200 5000; do wait_http "http://10.77.0.2:$port/"; done
wait_http -k https://10.77.0.2/

ok() { "$@" >>"$WORK/clients.log" 2>&1 || { echo "expected success: $*" >&2; exit 1; }; }
code() { # expected HTTP status, then curl arguments
    local want=$1 got
    shift
    got=$($C curl -s -o /dev/null -w '%{http_code}' "$@")
    [[ $got == "$want" ]] || { echo "got $got, not $want: curl $*" >&2; exit 1; }
}
R=(--resolve secure.lab:80:10.77.0.2 --resolve secure.lab:443:10.77.0.2 --resolve portal.lab:80:10.77.0.2
    --resolve portal.lab:443:10.77.0.2 --resolve shop2.lab:443:10.77.0.2 --resolve swift.lab:8080:10.77.0.2
    --resolve rtupdate.wx.lab:80:10.77.0.2 --resolve cam.lab:80:10.77.0.2 --resolve iot.lab:80:10.77.0.2)

scenario() {
    # Swift tempauth: the password in X-Auth-Key, the token in the answer's X-Auth-Token/X-Storage-Token,
    # then used in X-Storage-Token; a wrong X-Storage-Pass is refused.
    code 200 "${R[@]}" -H "X-Auth-User: $SWIFT_USER" -H "X-Auth-Key: $SWIFT_PW" http://swift.lab:8080/auth/v1.0
    code 200 "${R[@]}" -H "X-Storage-Token: $SWIFT_TOKEN" http://swift.lab:8080/v1/AUTH_test/photos
    code 401 "${R[@]}" -H "X-Storage-User: $SWIFT_USER" -H 'X-Storage-Pass: wrong-swift-pw' http://swift.lab:8080/auth/v1.0
    # Vault userpass login and a read with the token; a Keystone password login (X-Subject-Token).
    ok $C python3 - <<'PY'
import http.client, json, os
c = http.client.HTTPConnection("10.77.0.2", 8200)
c.request("POST", "/v1/auth/userpass/login/alice", json.dumps({"password": os.environ["VAULT_PW"]}),
          {"Host": "vault.lab:8200", "Content-Type": "application/json"})
r = c.getresponse(); tok = json.loads(r.read())["auth"]["client_token"]; assert r.status == 200
c.request("GET", "/v1/secret/data/app", headers={"Host": "vault.lab:8200", "X-Vault-Token": tok})
r = c.getresponse(); r.read(); assert r.status == 200
k = http.client.HTTPConnection("10.77.0.2", 5000)
body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin",
        "domain": {"id": "default"}, "password": os.environ["KS_PW"]}}}}}
k.request("POST", "/v3/auth/tokens", json.dumps(body), {"Host": "keystone.lab:5000", "Content-Type": "application/json"})
r = k.getresponse(); r.read(); assert r.status == 201 and r.getheader("X-Subject-Token") == os.environ["KS_TOKEN"]
PY
    # A weather station's upload and an IP camera's snapshot: passwords in the query.
    code 200 "${R[@]}" "http://rtupdate.wx.lab/weatherstation/updateweatherstation.php?ID=$WX_ID&PASSWORD=$WX_PW&dateutc=now&tempf=68.2&humidity=51&action=updateraw"
    code 200 "${R[@]}" "http://cam.lab/cgi-bin/snapshot.cgi?user=admin&pwd=$CAM_PW"
    # S3 GET signed with AWS Signature V4 by hand; the server checks the signature (the secret key never
    # crosses).
    ok $C python3 - "$HERE" <<'PY'
import datetime, hashlib, hmac, http.client, os
akid, secret, host, path = os.environ["AWS_AKID"], os.environ["AWS_SECRET"], "s3.lab", "/lab-bucket/report.csv"
amz_date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
date, payload = amz_date[:8], hashlib.sha256(b"").hexdigest()
signed = "host;x-amz-content-sha256;x-amz-date"
canonical = f"GET\n{path}\n\nhost:{host}\nx-amz-content-sha256:{payload}\nx-amz-date:{amz_date}\n\n{signed}\n{payload}"
scope = f"{date}/us-east-1/s3/aws4_request"
sts = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n" + hashlib.sha256(canonical.encode()).hexdigest()
k = ("AWS4" + secret).encode()
for part in (date, "us-east-1", "s3", "aws4_request"):
    k = hmac.new(k, part.encode(), hashlib.sha256).digest()
sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
auth = f"AWS4-HMAC-SHA256 Credential={akid}/{scope}, SignedHeaders={signed}, Signature={sig}"
c = http.client.HTTPConnection("10.77.0.2", 80)
c.request("GET", path, headers={"Host": host, "X-Amz-Date": amz_date, "X-Amz-Content-Sha256": payload, "Authorization": auth})
r = c.getresponse(); r.read(); assert r.status == 200, r.status
PY
    # The redirect window: HTTP answered with a redirect to HTTPS after a login body, then after a cookie
    # (followed to HTTPS: TLS to secure.lab); first, a request without credentials (no finding).
    code 301 "${R[@]}" http://secure.lab/
    code 301 "${R[@]}" -d "user=bob&password=$BOB_PW" http://secure.lab/login
    code 200 "${R[@]}" -k -L -b "session=$REDIR_SESS" http://secure.lab/account
    # HSTS absent: plain HTTP to portal.lab (no finding: the first visit), HTTPS, then plain HTTP again.
    code 200 "${R[@]}" http://portal.lab/
    code 200 "${R[@]}" -k https://portal.lab/
    code 200 "${R[@]}" -b "portal_sid=$PORTAL_SID" http://portal.lab/home
    # Mixed content: the HTTPS page of shop2.lab calls its API and loads an image over plain HTTP, with
    # credentials; and once without any (no finding).
    code 200 "${R[@]}" -k https://shop2.lab/checkout
    ok $C python3 - "$MIXED_TOKEN" "$MIXED_SID" <<'PY'
import http.client, sys
tok, sid = sys.argv[1], sys.argv[2]
c = http.client.HTTPConnection("10.77.0.2", 80)
c.request("POST", "/api/cart", '{"item":42,"qty":1}', {"Host": "api.shop2.lab", "Origin": "https://shop2.lab",
          "Authorization": "Bearer " + tok, "Content-Type": "application/json"})
c.getresponse().read()
c.request("GET", "/img/logo.png", headers={"Host": "cdn.shop2.lab", "Referer": "https://shop2.lab/checkout", "Cookie": "sid=" + sid})
c.getresponse().read()
c.request("GET", "/img/banner.png", headers={"Host": "cdn.shop2.lab", "Referer": "https://shop2.lab/checkout"})
c.getresponse().read()
PY
    # A short session cookie beside short flags, and headers that only mention credentials.
    code 200 "${R[@]}" -b "session=$SHORT_SESS; security=low; remember=0" \
        -H 'X-Request-Id: 0b7e9a4c-1d2f-4e3a-9b8c-7d6e5f4a3b2c' -H 'X-Session-Count: 3' -H 'X-Author: jdoe1234abcd' \
        -H 'Keep-Alive: timeout=5, max=100' http://iot.lab/status
    # SNMP traps (v2c and v1) to a receiver on 162: the receiver is the server.
    ok $C snmptrap -m '' -v 2c -c "$TRAP_V2" 10.77.0.2:162 '' 1.3.6.1.6.3.1.1.5.1
    ok $C snmptrap -m '' -v 1 -c "$TRAP_V1" 10.77.0.2:162 1.3.6.1.4.1.8072.2.3.1 10.77.0.1 6 17 ''
}

rm -f "$WORK/cap.pcap"
$S tcpdump -i "$VS" -s 0 -U -w "$WORK/cap.pcap" 'tcp or udp' 2>/dev/null &
TP=$!
sleep 1
scenario
sleep 1
kill -INT $TP; wait $TP 2>/dev/null || true
cp "$WORK/cap.pcap" "$OUT/$NAME.pcap"
chmod 644 "$OUT/$NAME.pcap"
echo "$NAME.pcap: $(stat -c %s "$OUT/$NAME.pcap") bytes" >&2

# --- the truth, from what the clients sent and how the server answered (captures/README.md) -------------
# Severity by README's rules: critical for a password not refused, high for a live token, medium for a
# refused one, info for an AWS access key id and for the fixes seen missing (sslstrip_window,
# hsts_missing, mixed_content: the credentials they name are leaks of their own).
S80='"server": "10.77.0.2:80"'
cat >"$WORK/truth.json" <<EOF
{"leaks": [
  {"kind": "header_password", "server": "10.77.0.2:8080", "host": "swift.lab:8080", "method": "GET", "path": "/auth/v1.0", "user": "$SWIFT_USER", "secret": "$SWIFT_PW", "verdict": "accepted", "severity": "critical", "evidence_has": ["Swift tempauth", "accepted by the server"]},
  {"kind": "login_response_token", "server": "10.77.0.2:8080", "host": "swift.lab:8080", "method": "GET", "path": "/auth/v1.0", "user": null, "secret": "$SWIFT_TOKEN", "severity": "high", "evidence_has": ["response header"]},
  {"kind": "api_key_header", "server": "10.77.0.2:8080", "host": "swift.lab:8080", "method": "GET", "path": "/v1/AUTH_test/photos", "user": null, "secret": "$SWIFT_TOKEN", "severity": "high", "evidence_has": ["general rule"]},
  {"kind": "header_password", "server": "10.77.0.2:8080", "host": "swift.lab:8080", "method": "GET", "path": "/auth/v1.0", "user": "$SWIFT_USER", "secret": "wrong-swift-pw", "verdict": "refused", "severity": "medium", "evidence_has": ["Swift tempauth", "refused by the server"]},
  {"kind": "json_login", "server": "10.77.0.2:8200", "host": "vault.lab:8200", "method": "POST", "path": "/v1/auth/userpass/login/alice", "user": "alice", "secret": "$VAULT_PW", "severity": "critical", "evidence_has": ["JSON login"]},
  {"kind": "login_response_token", "server": "10.77.0.2:8200", "host": "vault.lab:8200", "method": "POST", "path": "/v1/auth/userpass/login/alice", "user": null, "secret": "$VAULT_TOKEN", "severity": "high", "evidence_has": ["general rule"]},
  {"kind": "api_key_header", "server": "10.77.0.2:8200", "host": "vault.lab:8200", "method": "GET", "path": "/v1/secret/data/app", "user": null, "secret": "$VAULT_TOKEN", "severity": "high", "evidence_has": ["API key header"]},
  {"kind": "json_login", "server": "10.77.0.2:5000", "host": "keystone.lab:5000", "method": "POST", "path": "/v3/auth/tokens", "user": "admin", "secret": "$KS_PW", "severity": "critical", "evidence_has": ["JSON login"]},
  {"kind": "login_response_token", "server": "10.77.0.2:5000", "host": "keystone.lab:5000", "method": "POST", "path": "/v3/auth/tokens", "user": null, "secret": "$KS_TOKEN", "severity": "high", "evidence_has": ["response header"]},
  {"kind": "url_token", $S80, "host": "rtupdate.wx.lab", "method": "GET", "path": "/weatherstation/updateweatherstation.php?ID=$WX_ID&PASSWORD=$WX_PW&dateutc=now&tempf=68.2&humidity=51&action=updateraw", "user": "$WX_ID", "secret": "$WX_PW", "severity": "critical", "evidence_has": ["password in a URL"]},
  {"kind": "url_token", $S80, "host": "cam.lab", "method": "GET", "path": "/cgi-bin/snapshot.cgi?user=admin&pwd=$CAM_PW", "user": "admin", "secret": "$CAM_PW", "severity": "critical", "evidence_has": ["password in a URL"]},
  {"kind": "aws_access_key_id", $S80, "host": "s3.lab", "method": "GET", "path": "/lab-bucket/report.csv", "user": null, "secret": "$AWS_AKID", "severity": "info", "evidence_has": ["AWS Signature V4", "only the access key id"]},
  {"kind": "form_login", $S80, "host": "secure.lab", "method": "POST", "path": "/login", "user": "bob", "secret": "$BOB_PW", "severity": "critical", "evidence_has": ["login form"]},
  {"kind": "sslstrip_window", $S80, "host": "secure.lab", "method": "POST", "path": "/login", "user": "bob", "secret": "$BOB_PW", "severity": "info", "evidence_has": ["redirect window", "form field password"]},
  {"kind": "cookie_token", $S80, "host": "secure.lab", "method": "GET", "path": "/account", "user": null, "secret": "$REDIR_SESS", "severity": "high", "evidence_has": ["session cookie"]},
  {"kind": "sslstrip_window", $S80, "host": "secure.lab", "method": "GET", "path": "/account", "user": null, "secret": "$REDIR_SESS", "severity": "info", "evidence_has": ["redirect window", "cookie session"]},
  {"kind": "hsts_missing", $S80, "host": "portal.lab", "method": "GET", "path": null, "user": null, "secret": "", "severity": "info", "evidence_has": ["HSTS absent or ignored", "portal.lab", "cookie portal_sid"]},
  {"kind": "cookie_token", $S80, "host": "portal.lab", "method": "GET", "path": "/home", "user": null, "secret": "$PORTAL_SID", "severity": "high", "evidence_has": ["session cookie"]},
  {"kind": "bearer_opaque", $S80, "host": "api.shop2.lab", "method": "POST", "path": "/api/cart", "user": null, "secret": "$MIXED_TOKEN", "severity": "high", "evidence_has": ["Bearer"]},
  {"kind": "mixed_content", $S80, "host": "api.shop2.lab", "method": "POST", "path": "/api/cart", "user": null, "secret": "$MIXED_TOKEN", "severity": "info", "evidence_has": ["mixed content", "https://shop2.lab (Origin)", "header Authorization"]},
  {"kind": "cookie_token", $S80, "host": "cdn.shop2.lab", "method": "GET", "path": "/img/logo.png", "user": null, "secret": "$MIXED_SID", "severity": "high", "evidence_has": ["session cookie"]},
  {"kind": "mixed_content", $S80, "host": "cdn.shop2.lab", "method": "GET", "path": "/img/logo.png", "user": null, "secret": "$MIXED_SID", "severity": "info", "evidence_has": ["mixed content", "(Referer)", "cookie sid"]},
  {"kind": "cookie_token", $S80, "host": "iot.lab", "method": "GET", "path": "/status", "user": null, "secret": "$SHORT_SESS", "severity": "high", "evidence_has": ["session cookie", "short session id"]},
  {"kind": "snmp_community", "server": "10.77.0.2:162", "user": null, "secret": "$TRAP_V2", "verdict": "unknown", "severity": "critical", "evidence_has": ["SNMP community v2c", "no answer"]},
  {"kind": "snmp_community", "server": "10.77.0.2:162", "user": null, "secret": "$TRAP_V1", "verdict": "unknown", "severity": "critical", "evidence_has": ["SNMP community v1", "no answer"]}
 ],
 "negatives": [
  "the Swift answers' X-Auth-Token-Expires, X-Trans-Id and X-Storage-Url; X-Storage-Token carries the same token as X-Auth-Token (one leak)",
  "Vault's accessor, request_id, entity_id, token_policies and token_type; Keystone's expires_at and audit_ids",
  "the S3 request's X-Amz-Date, X-Amz-Content-Sha256 and Signature: the secret access key ($AWS_SECRET) never crosses",
  "a plain request to secure.lab without credentials, redirected to HTTPS: no redirect window (nothing carried)",
  "the first plain visit to portal.lab, before any HTTPS to it: HSTS cannot protect a first visit",
  "a request for /img/banner.png from the https:// page without credentials: no mixed content",
  "the short flags security=low and remember=0 beside the short session cookie",
  "request headers X-Request-Id (a UUID), X-Session-Count: 3, X-Author, Keep-Alive; response headers Content-Security-Policy (a nonce), X-Request-Id, X-Token-Expires, X-Session-Count",
  "the TLS connections to secure.lab (after the redirect), portal.lab and shop2.lab: their content is unreadable"
 ]}
EOF
python3 - "$WORK/truth.json" "$OUT/$NAME.truth.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as f:
    json.dump(t, f, indent=1)
    f.write("\n")
PY
chmod 644 "$OUT/$NAME.truth.json"

# Every listed secret and user crossed in clear, as sent (the S3 secret key must not be there at all).
python3 - "$OUT/$NAME.pcap" "$OUT/$NAME.truth.json" "$AWS_SECRET" <<'PY'
import json, sys
raw = open(sys.argv[1], "rb").read()
t = json.load(open(sys.argv[2]))
bad = [f"leak not in capture: {l}" for l in t["leaks"] if l["secret"].encode() not in raw]
bad += [f"user not in capture: {l}" for l in t["leaks"] if l.get("user") and l["user"].encode() not in raw]
bad += [f"must be absent: {a}" for a in sys.argv[3:] if a.encode() in raw]
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PY
echo "$NAME.truth.json: $(python3 -c 'import json,sys;print(len(json.load(open(sys.argv[1]))["leaks"]))' "$OUT/$NAME.truth.json") leaks" >&2
