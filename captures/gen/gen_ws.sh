#!/usr/bin/env bash
# WebSocket capture, made with the REAL WebSocket implementation of Debian (python3-websockets 10.4) on
# both ends, permessage-deflate on as by default (context takeover both ways): the server and the client
# are small Python programs on that library, speaking the application protocols people run over it:
#   /auth       a JSON auth message {"type":"auth","token":JWT} after a hello, then a chat message that
#               mentions a token and a password (negative) and a 150 KB binary message (negative)
#   /stomp      STOMP 1.2 over WebSocket (subprotocol v12.stomp): CONNECT login/passcode answered
#               CONNECTED, and a wrong passcode answered ERROR, on two connections
#   /graphql    graphql-transport-ws: connection_init with payload.authToken, answered connection_ack
#   /socket.io/ Engine.IO v4 / Socket.IO v5 framing: the server's open packet, the client's CONNECT
#               40{"token":JWT} answered 40{"sid":...}, then an event 42["message",...] (negative)
# The server runs in the server namespace (10.77.0.2:8765), the client in the client namespace
# (10.77.0.1), tcpdump records on the server veth. Nothing leaves the two namespaces; the programs and
# logs live in a temporary directory; everything is removed on exit. Own namespaces (psgw-*), so it can
# run beside the other generators. Needs root.
#   sudo captures/gen/gen_ws.sh
# Writes captures/websocket.pcap and captures/websocket.truth.json (see captures/README.md). Every secret
# is fixed (the JWTs carry fixed claims and no clock), so the truth file does not change from one run to
# the next (the pcap bytes do: ports, times, deflate of random Socket.IO ids).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$ROOT/captures"
[[ $(id -u) -eq 0 ]] || { echo "needs root: sudo $0 $*" >&2; exit 1; }
"$HERE/setup.sh"

# --- packages: install only what is missing -----------------------------------------------------------------
source "$HERE/packages.sh"
install_missing python3-websockets
# Debian's interpreter, where python3-websockets lives (not a python3 earlier on the PATH).
PY=/usr/bin/python3

PREFIX=psgw
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

# --- the secrets (fixed) -----------------------------------------------------------------------------------
# HS256 JWTs with fixed claims (no iat/exp: the same token every run), signed with a lab key.
jwt() { # claims JSON
    "$PY" - "$1" <<'PY'
import base64, hashlib, hmac, sys
b = lambda x: base64.urlsafe_b64encode(x).rstrip(b"=").decode()
h = b(b'{"alg":"HS256","typ":"JWT"}')
p = b(sys.argv[1].encode())
s = b(hmac.new(b"lab-websocket-key", f"{h}.{p}".encode(), hashlib.sha256).digest())
print(f"{h}.{p}.{s}")
PY
}
AUTH_SUB='ws-alice'
AUTH_JWT="$(jwt "{\"sub\":\"$AUTH_SUB\",\"scope\":\"chat:write\",\"iss\":\"chat.lab\"}")"
SIO_SUB='sio-bob'
SIO_JWT="$(jwt "{\"sub\":\"$SIO_SUB\",\"role\":\"agent\",\"iss\":\"support.lab\"}")"
STOMP_USER='mq-carol'
STOMP_PW='St0mp-Passc0de!'
STOMP_BAD_PW='wrong-stomp-pass'
GQL_TOKEN='gql-4f3c9a1b7e2d8c6a5b0f9e1d'
export AUTH_JWT SIO_JWT STOMP_USER STOMP_PW STOMP_BAD_PW GQL_TOKEN

# --- the server: one websockets server, an application per path -------------------------------------------
cat >"$WORK/server.py" <<'PY'
import asyncio, json, os, sys
import websockets

LOG = open(sys.argv[1], "a", buffering=1)
STOMP_USER, STOMP_PW = os.environ["STOMP_USER"], os.environ["STOMP_PW"]

def log(path, msg):
    # What the server received, decoded: the generator checks every secret of the truth crossed.
    LOG.write(json.dumps({"path": path, "msg": msg if isinstance(msg, str) else msg.hex()}) + "\n")

def stomp_headers(frame):
    head = frame.split("\n\n", 1)[0].split("\n")
    return head[0], dict(l.split(":", 1) for l in head[1:] if ":" in l)

async def handler(ws, path=None):
    path = ws.path
    if path == "/auth":
        async for m in ws:
            log(path, m)
            if isinstance(m, str) and json.loads(m).get("type") == "auth":
                await ws.send(json.dumps({"type": "auth_ok", "user": "ws-alice"}))
            elif isinstance(m, str):
                await ws.send(json.dumps({"type": "ack"}))
            else:
                await ws.send(json.dumps({"type": "ack", "bytes": len(m)}))
    elif path == "/stomp":
        async for m in ws:
            log(path, m)
            cmd, h = stomp_headers(m)
            if cmd in ("CONNECT", "STOMP"):
                if h.get("login") == STOMP_USER and h.get("passcode") == STOMP_PW:
                    await ws.send("CONNECTED\nversion:1.2\nheart-beat:0,0\nserver:lab-stomp/1.0\n\n\0")
                else:
                    await ws.send("ERROR\nmessage:Bad credentials\ncontent-type:text/plain\n\nlogin refused\0")
                    await ws.close()
            elif cmd == "DISCONNECT":
                await ws.send("RECEIPT\nreceipt-id:" + h.get("receipt", "0") + "\n\n\0")
    elif path == "/graphql":
        async for m in ws:
            log(path, m)
            t = json.loads(m).get("type")
            if t == "connection_init":
                await ws.send(json.dumps({"type": "connection_ack"}))
            elif t == "subscribe":
                await ws.send(json.dumps({"id": "1", "type": "next", "payload": {"data": {"ping": "pong"}}}))
                await ws.send(json.dumps({"id": "1", "type": "complete"}))
    elif path.startswith("/socket.io/"):
        await ws.send('0{"sid":"Lbo5JLzTotvW3g2LAAAA","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}')
        async for m in ws:
            log(path, m)
            if m.startswith("40"):
                await ws.send('40{"sid":"wZX3oN0bSVIhsaRAAAAB"}')
            elif m.startswith("42"):
                await ws.send('42["message","got it"]')

async def main():
    async with websockets.serve(handler, "10.77.0.2", 8765, subprotocols=["v12.stomp", "graphql-transport-ws"]):
        open(sys.argv[2], "w").write("up\n")
        await asyncio.Future()

asyncio.run(main())
PY

# --- the client: each application's login, in order, each waiting for the server's answer -----------------
cat >"$WORK/client.py" <<'PY'
import asyncio, json, os
import websockets

URL = "ws://10.77.0.2:8765"
E = os.environ

async def auth():
    async with websockets.connect(URL + "/auth") as ws:
        await ws.send(json.dumps({"type": "hello", "client": "lab-chat/1.0"}))
        await ws.recv()
        await ws.send(json.dumps({"type": "auth", "token": E["AUTH_JWT"]}))
        assert json.loads(await ws.recv())["type"] == "auth_ok"
        # Negatives: chat about tokens and passwords, a large binary message.
        await ws.send(json.dumps({"type": "chat", "room": "general",
                                  "text": "did my token expire? the password for the wiki is on the board"}))
        await ws.recv()
        await ws.send(bytes(range(256)) * 600)
        await ws.recv()

async def stomp(passcode, accepted):
    async with websockets.connect(URL + "/stomp", subprotocols=["v12.stomp"]) as ws:
        assert ws.subprotocol == "v12.stomp"
        await ws.send(f"CONNECT\naccept-version:1.2\nhost:mq.lab\nlogin:{E['STOMP_USER']}\npasscode:{passcode}\nheart-beat:0,0\n\n\0")
        answer = await ws.recv()
        assert answer.startswith("CONNECTED" if accepted else "ERROR"), answer
        if accepted:
            await ws.send("SEND\ndestination:/queue/orders\ncontent-type:text/plain\n\norder 42 shipped\0")
            await ws.send("DISCONNECT\nreceipt:77\n\n\0")
            await ws.recv()

async def graphql():
    async with websockets.connect(URL + "/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authToken": E["GQL_TOKEN"]}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "subscription { ping }"}}))
        await ws.recv(); await ws.recv()

async def socketio():
    async with websockets.connect(URL + "/socket.io/?EIO=4&transport=websocket") as ws:
        assert (await ws.recv()).startswith("0{")
        await ws.send("40" + json.dumps({"token": E["SIO_JWT"]}))
        assert (await ws.recv()).startswith("40{")
        await ws.send('42["message","the token thing works now"]')
        await ws.recv()

async def main():
    await auth()
    await stomp(E["STOMP_PW"], True)
    await stomp(E["STOMP_BAD_PW"], False)
    await graphql()
    await socketio()

asyncio.run(main())
PY

record() {
    rm -f "$WORK/cap.pcap" "$WORK/up"
    $S tcpdump -i "$VS" -s 0 -U -w "$WORK/cap.pcap" 'tcp' 2>/dev/null &
    local tp=$!
    $S "$PY" "$WORK/server.py" "$WORK/received.jsonl" "$WORK/up" >>"$WORK/server.log" 2>&1 &
    for _ in $(seq 1 200); do [[ -e $WORK/up ]] && break; sleep 0.05; done
    [[ -e $WORK/up ]] || { echo "the websocket server did not come up:" >&2; cat "$WORK/server.log" >&2; exit 1; }
    sleep 1
    $C "$PY" "$WORK/client.py" >>"$WORK/client.log" 2>&1 || { echo "client failed:" >&2; cat "$WORK/client.log" "$WORK/server.log" >&2; exit 1; }
    sleep 1
    kill -INT $tp; wait $tp 2>/dev/null || true
    cp "$WORK/cap.pcap" "$OUT/websocket.pcap"
    chmod 644 "$OUT/websocket.pcap"
    echo "websocket.pcap: $(stat -c %s "$OUT/websocket.pcap") bytes" >&2
}

# In the truth, severity follows the documented rules (README "Severity"): critical for a password the
# server did not refuse, medium for a refused one, high for a token live at capture time (these JWTs have
# no exp). `evidence_has`: phrases the alert's evidence must contain (case-insensitive).
truth() {
    cat >"$WORK/truth.json" <<EOF
{"leaks": [
  {"kind": "websocket_token", "server": "10.77.0.2:8765", "user": "$AUTH_SUB", "secret": "$AUTH_JWT", "jwt_sub": "$AUTH_SUB", "host": "10.77.0.2:8765", "method": null, "path": "/auth", "severity": "high", "evidence_has": ["token in a JSON WebSocket message", "JWT (HS256)"]},
  {"kind": "websocket_login", "server": "10.77.0.2:8765", "user": "$STOMP_USER", "secret": "$STOMP_PW", "host": "10.77.0.2:8765", "method": null, "path": "/stomp", "verdict": "accepted", "severity": "critical", "evidence_has": ["STOMP CONNECT login with passcode", "accepted by the server"]},
  {"kind": "websocket_login", "server": "10.77.0.2:8765", "user": "$STOMP_USER", "secret": "$STOMP_BAD_PW", "host": "10.77.0.2:8765", "method": null, "path": "/stomp", "verdict": "refused", "severity": "medium", "evidence_has": ["STOMP CONNECT login with passcode", "refused by the server"]},
  {"kind": "websocket_token", "server": "10.77.0.2:8765", "user": null, "secret": "$GQL_TOKEN", "host": "10.77.0.2:8765", "method": null, "path": "/graphql", "severity": "high", "evidence_has": ["GraphQL over WebSocket connection_init payload"]},
  {"kind": "websocket_token", "server": "10.77.0.2:8765", "user": "$SIO_SUB", "secret": "$SIO_JWT", "jwt_sub": "$SIO_SUB", "host": "10.77.0.2:8765", "method": null, "path": "/socket.io/?EIO=4&transport=websocket", "severity": "high", "evidence_has": ["Socket.IO CONNECT auth payload", "JWT (HS256)"]}
 ],
 "negatives": [
  "every message is compressed (permessage-deflate, context takeover both ways): no secret is readable in the raw bytes",
  "the hello message and the chat message of /auth, which mentions a token and a password, and the server's auth_ok naming the user",
  "a 150 KB binary message on /auth (past the 64 KiB kept prefix: counted in ws_messages_truncated)",
  "the STOMP SEND, DISCONNECT and RECEIPT frames, the server's CONNECTED and ERROR frames",
  "the GraphQL subscribe, next and complete messages",
  "the Socket.IO open packet and the CONNECT answer with their sids, and the 42 event mentioning a token",
  "the upgrade requests and their 101 answers (Sec-WebSocket-Key, Sec-WebSocket-Accept): no credentials"
 ]}
EOF
    "$PY" - "$WORK/truth.json" "$OUT/websocket.truth.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as f:
    json.dump(t, f, indent=1)
    f.write("\n")
PY
    chmod 644 "$OUT/websocket.truth.json"
}

# Every secret of the truth crossed: the server received it (decoded) in a message on its path; and it
# crossed compressed (not in the raw bytes: the capture exercises the inflating), over plain ws:// (the
# upgrade requests and the negotiated permessage-deflate are in the raw bytes).
check() {
    "$PY" - "$OUT/websocket.pcap" "$OUT/websocket.truth.json" "$WORK/received.jsonl" <<'PY'
import json, sys
raw = open(sys.argv[1], "rb").read()
t = json.load(open(sys.argv[2]))
got = [json.loads(l) for l in open(sys.argv[3])]
bad = []
for l in t["leaks"]:
    if not any(l["secret"] in g["msg"] and g["path"] == l["path"] for g in got):
        bad.append(f"the server did not receive it on {l['path']}: {l}")
    if l["secret"].encode() in raw:
        bad.append(f"readable in the raw bytes (not compressed?): {l}")
    if f"GET {l['path']} HTTP/1.1".encode() not in raw:
        bad.append(f"no plain upgrade request for {l['path']}")
if raw.count(b"Sec-WebSocket-Extensions: permessage-deflate") < 10:
    bad.append("permessage-deflate was not negotiated on every connection")
if len(raw) > 200 * 1024:
    bad.append(f"capture too large: {len(raw)} bytes")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PY
}

record
truth
check
