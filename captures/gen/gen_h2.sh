#!/usr/bin/env bash
# Captures of cleartext HTTP/2 (h2c) and gRPC, made with REAL servers and REAL clients from Debian:
#   h2c   nghttpd --no-tls (nghttp2-server) and nghttp / curl --http2-prior-knowledge sending a Bearer
#         JWT, a session cookie, an API key; curl --http2 and nghttp -u (Upgrade: h2c) sending JSON logins
#         to nghttpx (nghttp2-proxy: nghttpd does not take the upgrade) in front of nghttpd on the
#         server's loopback (that hop is not captured)
#   grpc  a python3-grpcio server and client (generic handlers, identity serializers: no protobuf
#         compiler), `authorization: Bearer` and `x-api-key` metadata, JSON messages with a password
#         (one gzip-compressed), a refused login (UNAUTHENTICATED)
# The servers run in the server namespace (10.77.0.2), the clients in the client namespace (10.77.0.1),
# tcpdump records on the server veth. Nothing leaves the two namespaces; every file lives in a temporary
# directory removed on exit, with the namespaces (prefix psgh-). Needs root.
#   sudo captures/gen/gen_h2.sh            both
#   sudo captures/gen/gen_h2.sh grpc       one
# Each capture NAME.pcap gets NAME.truth.json (see captures/README.md). Every secret is fixed, JWTs too
# (they expire in 2100), so the truth files do not change from one run to the next.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$ROOT/captures"
[[ $(id -u) -eq 0 ]] || { echo "needs root: sudo $0 $*" >&2; exit 1; }
"$HERE/setup.sh"

ALL=(h2c grpc)
for name in "$@"; do
    [[ " ${ALL[*]} " == *" $name "* ]] || { echo "unknown scenario: $name (know: ${ALL[*]})" >&2; exit 2; }
done
WANT=("${@:-${ALL[@]}}")

# --- packages: install only what is missing ---------------------------------------------------------------
declare -A PKGS=([h2c]="nghttp2-server nghttp2-client nghttp2-proxy curl python3-hpack" [grpc]="python3-grpcio python3-hpack")
source "$HERE/packages.sh"
install_scenarios "${WANT[@]}"
# Debian's python (not a virtualenv's) has python3-grpcio.
PY=/usr/bin/python3

PREFIX=psgh
source "$HERE/netns.sh"
RECORD_FILTER=tcp
source "$HERE/steps.sh"
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

# HTTP/2 compresses header fields (HPACK, Huffman): a secret sent in a header is not in the capture's
# bytes as it is. So the check decodes: every HTTP/2 frame of the capture is read (tcpdump's TCP payloads
# in order per connection, the same way for both scenarios) and its header blocks decoded with python3's
# own HPACK decoder (python3-hpack, a dependency of python3-h2 and independent of plainsight), its
# bodies and gRPC messages (gunzipped) searched. Every listed secret must be found, every "absent" string
# must not.
check() { # name, then strings that must NOT appear
    $PY - "$OUT/$1.pcap" "$OUT/$1.truth.json" "${@:2}" <<'PY'
import gzip, json, struct, sys
from hpack import Decoder
raw = open(sys.argv[1], "rb").read()
# pcap (libpcap format, Ethernet, IPv4): TCP payloads per (src, dst) in sequence order.
magic = struct.unpack("<I", raw[:4])[0]
end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
p, flows = 24, {}
while p + 16 <= len(raw):
    _, _, incl, _ = struct.unpack(end + "IIII", raw[p:p + 16])
    pkt = raw[p + 16:p + 16 + incl]
    p += 16 + incl
    if len(pkt) < 34 or pkt[12:14] != b"\x08\x00" or pkt[23] != 6:
        continue
    ihl = (pkt[14] & 15) * 4
    tcp = pkt[14 + ihl:]
    tot = struct.unpack(">H", pkt[16:18])[0]
    off = (tcp[12] >> 4) * 4
    data = pkt[14 + ihl + off:14 + tot]
    key = (pkt[26:30], tcp[0:2], pkt[30:34], tcp[2:4])
    seq = struct.unpack(">I", tcp[4:8])[0]
    if data:
        flows.setdefault(key, {}).setdefault(seq, data)
seen = []
for key, segs in flows.items():
    s = b"".join(segs[k] for k in sorted(segs))
    seen.append(s)
    i = s.find(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
    if i >= 0:
        s = s[i + 24:]
    else:
        # A server's frames (prior knowledge), or after an HTTP/1.1 101 (Upgrade: h2c).
        j = s.find(b"\r\n\r\n", s.find(b"HTTP/1.1 101")) if b"HTTP/1.1 101" in s else -1
        s = s[j + 4:] if j >= 0 else s
        if not s.startswith(b"\x00\x00"):
            continue
    dec, q, block = Decoder(), 0, b""
    dec.max_allowed_table_size = 1 << 16
    bodies = {}
    while q + 9 <= len(s):
        ln = int.from_bytes(s[q:q + 3], "big"); ty, fl = s[q + 3], s[q + 4]
        sid = int.from_bytes(s[q + 5:q + 9], "big") & 0x7fffffff
        pl = s[q + 9:q + 9 + ln]; q += 9 + ln
        if ty in (0, 1, 5) and fl & 8:
            pad = pl[0]; pl = pl[1:len(pl) - pad]
        if ty == 1 and fl & 0x20:
            pl = pl[5:]
        if ty == 5:
            pl = pl[4:]
        if ty in (1, 5, 9):
            block += pl
            if fl & 4:
                for n, v in dec.decode(block, raw=True):
                    seen.append(n + b": " + v)
                block = b""
        if ty == 0:
            bodies[sid] = bodies.get(sid, b"") + pl
    for b in bodies.values():
        seen.append(b)
        k = 0
        while k + 5 <= len(b):
            n = int.from_bytes(b[k + 1:k + 5], "big"); m = b[k + 5:k + 5 + n]
            seen.append(gzip.decompress(m) if b[k] == 1 else m)
            k += 5 + n
hay = b"\n".join(seen)
t = json.load(open(sys.argv[2]))
bad = []
for l in t["leaks"]:
    if "secret" in l and l["secret"].encode() not in hay:
        bad.append(f"leak not in capture: {l}")
for a in sys.argv[3:]:
    if a.encode() in hay:
        bad.append(f"must be absent but is in the capture: {a}")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PY
}

jwt() { # sub -> an HS256 JWT (fake signature) that expires in 2100
    $PY - "$1" <<'PY'
import base64, hashlib, json, sys
b = lambda x: base64.urlsafe_b64encode(x).rstrip(b"=").decode()
h = b(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
claims = json.dumps({"sub": sys.argv[1], "iss": "h2.lab", "iat": 1790000000, "exp": 4102444800}, separators=(",", ":"))
print(f"{h}.{b(claims.encode())}.{b(hashlib.sha256(claims.encode()).digest()[:12])}")
PY
}

# --- h2c: nghttpd --no-tls on 8080 ------------------------------------------------------------------------
H2_JWT="$(jwt h2-alice)"
H2_COOKIE='sess-h2c-4f1a9b7c2e8d6035'
H2_LOGIN_PW='Upgrade-json-pass-5'
H2_API_KEY='h2c-apikey-9d3e7a1b5c2f8046'
start_h2c() {
    mkdir -p "$WORK/htdocs/api"
    echo '{"user":"h2-alice","orders":[]}' >"$WORK/htdocs/api/me"
    echo '{"ok":true}' >"$WORK/htdocs/login"
    echo '<html>forgot your password? the token field is below</html>' >"$WORK/htdocs/index.html"
    echo '{"items":[]}' >"$WORK/htdocs/api/items"
    $S nghttpd --no-tls -a 10.77.0.2 -d "$WORK/htdocs" 8080 >>"$WORK/nghttpd.log" 2>&1 &
    # The upgrade: nghttpx takes HTTP/1.1 with Upgrade: h2c on 8081 and forwards over HTTP/2 to a second
    # nghttpd on the loopback.
    $S nghttpd --no-tls -a 127.0.0.1 -d "$WORK/htdocs" 8082 >>"$WORK/nghttpd.log" 2>&1 &
    $S nghttpx --frontend='10.77.0.2,8081;no-tls' --backend='127.0.0.1,8082;;proto=h2' --workers=1 \
        --conf=/dev/null --pid-file="$WORK/nghttpx.pid" --errorlog-file="$WORK/nghttpx.log" \
        --accesslog-file="$WORK/nghttpx-access.log" >>"$WORK/nghttpx.log" 2>&1 &
    wait_tcp 8080; wait_tcp 8081
}
scenario_h2c() {
    local u=http://10.77.0.2:8080
    # nghttp: prior knowledge (the preface first), a Bearer JWT.
    ok $C nghttp -n -H "authorization: Bearer $H2_JWT" "$u/api/me"
    # curl, prior knowledge: a session cookie beside a theme cookie (negative), then an API key.
    ok $C curl -sf --http2-prior-knowledge -o /dev/null -b "theme=dark; session=$H2_COOKIE" "$u/index.html"
    ok $C curl -sf --http2-prior-knowledge -o /dev/null -H "x-api-key: $H2_API_KEY" "$u/api/items"
    # curl, Upgrade: h2c (an HTTP/1.1 request, then 101 and HTTP/2): first a page, then a JSON login
    # whose request is the upgrade request (HTTP/1.1) ...
    local up=http://10.77.0.2:8081
    ok $C curl -sf --http2 -o /dev/null "$up/index.html"
    ok $C curl -s --http2 -o /dev/null -H 'content-type: application/json' \
        -d "{\"username\":\"h2-bob\",\"password\":\"$H2_LOGIN_PW\"}" "$up/login"
    # ... and nghttp -u, whose upgrade request is a GET and whose JSON login goes over HTTP/2 itself
    # (stream 3, from a file), beside the page of stream 1.
    echo "{\"username\":\"h2-carol\",\"password\":\"Carol-h2-stream-3\"}" >"$WORK/login.json"
    ok $C nghttp -n -u -d "$WORK/login.json" -H 'content-type: application/json' "$up/login"
    # Negatives: a request without credentials, a page mentioning password and token.
    ok $C curl -sf --http2-prior-knowledge -o /dev/null "$u/"
}
truth_h2c() {
    truth h2c <<EOF
{"leaks": [
  {"kind": "bearer_jwt", "secret": "$H2_JWT", "user": "h2-alice", "server": "10.77.0.2:8080", "method": "GET", "path": "/api/me", "jwt_sub": "h2-alice", "severity": "high", "evidence_has": ["Bearer", "HS256", "sub h2-alice"]},
  {"kind": "cookie_token", "secret": "$H2_COOKIE", "user": null, "server": "10.77.0.2:8080", "method": "GET", "path": "/index.html", "severity": "high", "evidence_has": ["session cookie"]},
  {"kind": "api_key_header", "secret": "$H2_API_KEY", "user": null, "server": "10.77.0.2:8080", "method": "GET", "path": "/api/items", "severity": "high", "evidence_has": ["API key header"]},
  {"kind": "json_login", "secret": "$H2_LOGIN_PW", "user": "h2-bob", "server": "10.77.0.2:8081", "method": "POST", "path": "/login", "severity": "critical", "evidence_has": ["JSON login", "password field"]},
  {"kind": "json_login", "secret": "Carol-h2-stream-3", "user": "h2-carol", "server": "10.77.0.2:8081", "method": "POST", "path": "/login", "severity": "critical", "evidence_has": ["JSON login", "password field"]}
 ],
 "negatives": [
  "the theme=dark cookie beside the session cookie",
  "requests without credentials (prior knowledge and after Upgrade: h2c)",
  "index.html mentions password and token in its body: a page, not a login"
 ]}
EOF
    check h2c
}

# --- gRPC: python3-grpcio on 50051 ------------------------------------------------------------------------
GRPC_JWT="$(jwt grpc-dave)"
GRPC_PW='Grpc-login-pass-1'
GRPC_ZPW='Grpc-gzip-pass-2'
GRPC_API_KEY='grpc-apikey-2b8e4d6f0a1c3957'
GRPC_TOKEN='grpc-session-7e3c1a9b5d2f4068'
start_grpc() {
    cat >"$WORK/grpc_server.py" <<PY
import json, grpc
from concurrent import futures
PASSWORDS = {"grpc-dave": "$GRPC_PW", "grpc-erin": "$GRPC_ZPW"}
def login(req, ctx):
    d = json.loads(req)
    if PASSWORDS.get(d.get("username")) != d.get("password"):
        ctx.abort(grpc.StatusCode.UNAUTHENTICATED, "bad credentials")
    return json.dumps({"token": "$GRPC_TOKEN", "user": d["username"]}).encode()
def me(req, ctx):
    return b"\x0a\x09grpc-dave\x12\x08password"
h = grpc.method_handlers_generic_handler("lab.Auth", {
    "Login": grpc.unary_unary_rpc_method_handler(login),
    "Me": grpc.unary_unary_rpc_method_handler(me),
})
s = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
s.add_generic_rpc_handlers((h,))
s.add_insecure_port("10.77.0.2:50051")
s.start()
s.wait_for_termination()
PY
    $S $PY "$WORK/grpc_server.py" >>"$WORK/grpc.log" 2>&1 &
    wait_tcp 50051
}
scenario_grpc() {
    cat >"$WORK/grpc_client.py" <<PY
import json, sys, grpc
def call(method, msg, md=(), compression=None):
    with grpc.insecure_channel("10.77.0.2:50051", compression=compression) as ch:
        return ch.unary_unary(method)(msg, metadata=md, timeout=5)
login = lambda u, p: json.dumps({"username": u, "password": p}).encode()
# A JSON login, plain; answered with a token in a JSON message.
r = call("/lab.Auth/Login", login("grpc-dave", "$GRPC_PW"))
assert b"$GRPC_TOKEN" in r
# Another, gzip-compressed (grpc-encoding: gzip).
call("/lab.Auth/Login", login("grpc-erin", "$GRPC_ZPW"), compression=grpc.Compression.Gzip)
# A refused one (UNAUTHENTICATED in the trailers; HTTP status 200).
try:
    call("/lab.Auth/Login", login("grpc-dave", "wrong-grpc-pass"))
    sys.exit("the wrong password was accepted")
except grpc.RpcError as e:
    assert e.code() == grpc.StatusCode.UNAUTHENTICATED
# Metadata: a Bearer JWT, then an API key; the message is protobuf-like bytes naming "password" (negative).
call("/lab.Auth/Me", b"\x0a\x00", md=(("authorization", "Bearer $GRPC_JWT"),))
call("/lab.Auth/Me", b"\x0a\x00", md=(("x-api-key", "$GRPC_API_KEY"),))
# Negative: a call without credentials.
call("/lab.Auth/Me", b"\x0a\x00")
PY
    ok $C $PY "$WORK/grpc_client.py"
}
truth_grpc() {
    truth grpc <<EOF
{"leaks": [
  {"kind": "json_login", "secret": "$GRPC_PW", "user": "grpc-dave", "server": "10.77.0.2:50051", "method": "POST", "path": "/lab.Auth/Login", "severity": "critical", "evidence_has": ["JSON login", "password field", "gRPC message"]},
  {"kind": "login_response_token", "secret": "$GRPC_TOKEN", "user": null, "server": "10.77.0.2:50051", "method": "POST", "path": "/lab.Auth/Login", "severity": "high", "evidence_has": ["response body"]},
  {"kind": "json_login", "secret": "$GRPC_ZPW", "user": "grpc-erin", "server": "10.77.0.2:50051", "method": "POST", "path": "/lab.Auth/Login", "severity": "critical", "evidence_has": ["JSON login", "password field", "gRPC message"]},
  {"kind": "json_login", "secret": "wrong-grpc-pass", "user": "grpc-dave", "server": "10.77.0.2:50051", "method": "POST", "path": "/lab.Auth/Login", "verdict": "refused", "severity": "medium", "evidence_has": ["JSON login", "password field", "gRPC message", "refused by the server"]},
  {"kind": "bearer_jwt", "secret": "$GRPC_JWT", "user": "grpc-dave", "server": "10.77.0.2:50051", "method": "POST", "path": "/lab.Auth/Me", "jwt_sub": "grpc-dave", "severity": "high", "evidence_has": ["Bearer", "HS256", "sub grpc-dave"]},
  {"kind": "api_key_header", "secret": "$GRPC_API_KEY", "user": null, "server": "10.77.0.2:50051", "method": "POST", "path": "/lab.Auth/Me", "severity": "high", "evidence_has": ["API key header"]}
 ],
 "negatives": [
  "the answers of /lab.Auth/Me are protobuf bytes that contain the word password: not JSON, not a login",
  "a call without metadata",
  "the refused login is answered HTTP 200 with grpc-status 16 (UNAUTHENTICATED) in the trailers: its verdict is refused"
 ]}
EOF
    check grpc
}

for name in "${WANT[@]}"; do
    "start_$name"
    record "$name"
    "truth_$name"
done
