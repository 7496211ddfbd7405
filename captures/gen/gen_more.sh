#!/usr/bin/env bash
# Captures of more cleartext protocols (issue 11, "More protocols"), made with REAL servers and REAL clients
# from Debian where Debian has them:
#   amqp  (rabbitmq-server + python3-pika, python3-amqp)   irc  (ngircd + a python socket client)
#   xmpp  (prosody + a scripted raw client and slixmpp)     nntp (a python RFC 3977/4643 server + nntplib)
#   kafka (no Debian Kafka: frames built by `cargo run --example gen_capture -- kafka`, see README)
# The servers run in the server namespace (10.77.0.2), the clients in the client namespace (10.77.0.1),
# tcpdump records on the server veth. Nothing leaves the two namespaces; every config and data file lives
# in a temporary directory; everything is removed on exit. Needs root.
#   sudo captures/gen/gen_more.sh             all scenarios
#   sudo captures/gen/gen_more.sh amqp irc    some of them
# Each capture NAME.pcap gets NAME.truth.json (see captures/README.md). Every password is fixed, so the
# truth files do not change from one run to the next (the pcap bytes do: ports, times).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$ROOT/captures"
[[ $(id -u) -eq 0 ]] || { echo "needs root: sudo $0 $*" >&2; exit 1; }
"$HERE/setup.sh"

ALL=(amqp irc xmpp nntp kafka)
for name in "$@"; do
    [[ " ${ALL[*]} " == *" $name "* ]] || { echo "unknown scenario: $name (know: ${ALL[*]})" >&2; exit 2; }
done
WANT=("${@:-${ALL[@]}}")

# --- packages: install only what is missing (services must not start outside the namespaces) -------------
declare -A PKGS=([amqp]="rabbitmq-server python3-pika python3-amqp" [irc]="ngircd" [xmpp]="prosody python3-slixmpp"
    [nntp]="" [kafka]="")
source "$HERE/packages.sh"
install_scenarios "${WANT[@]}"

PREFIX=psgm
source "$HERE/netns.sh"
source "$HERE/steps.sh"
WORK="$(mktemp -d)"
chmod 755 "$WORK"
cleanup() {
    # Stop every server and client and wait until they are gone (erlang's epmd and beam, prosody), so that
    # nothing still runs from the temporary directory when it is removed.
    netns_drain
    netns_down
    rm -rf "$WORK"
}
trap cleanup EXIT
[[ -n ${KEEP_LOGS:-} ]] && trap 'cp "$WORK"/*.log /tmp/ 2>/dev/null; cleanup' EXIT
trap 'exit 130' INT TERM

netns_up
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=more.lab" \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1

# Debian's python3 (its packages: pika, amqp, slixmpp), not a python3 earlier on PATH.
PY=/usr/bin/python3

# --- helpers ---------------------------------------------------------------------------------------------

# In the truth, severity follows the documented rules (README "Severity"): critical for a password the
# server did not refuse, medium for a refused one. `evidence_has`: phrases the alert's evidence must contain
# (case-insensitive): the mechanism and the server's verdict.
OK='"verdict": "accepted", "severity": "critical"'
KO='"verdict": "refused", "severity": "medium"'
UNK='"verdict": "unknown", "severity": "critical"'
YES='"accepted by the server"'
NO='"refused by the server"'
NONE='"no answer"'

# Every listed secret must really be in the capture (as sent on the wire: raw, XML-escaped, or in base64
# for the SASL PLAIN of IRC, XMPP and NNTP), every "absent" string must not.
check() { # name, then strings that must NOT appear anywhere in the capture
    python3 - "$OUT/$1.pcap" "$OUT/$1.truth.json" "${@:2}" <<'PY'
import base64, json, sys
raw = open(sys.argv[1], "rb").read()
t = json.load(open(sys.argv[2]))
bad = []
for l in t["leaks"]:
    s = l["secret"].encode()
    u = (l.get("user") or "").encode()
    plain = [base64.b64encode(b"\0" + u + b"\0" + s), base64.b64encode(u + b"\0" + u + b"\0" + s)]
    xml = s.replace(b"&", b"&amp;").replace(b"<", b"&lt;")  # XMPP's legacy password, XML-escaped
    if s not in raw and xml not in raw and not any(p in raw for p in plain):
        bad.append(f"leak not in capture: {l}")
    if u and u not in raw and not any(p in raw for p in plain):
        bad.append(f"user not in capture: {l}")
for a in sys.argv[3:]:
    if a.encode() in raw:
        bad.append(f"must be absent but is in the capture: {a}")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PY
}

# --- AMQP 0-9-1: rabbitmq-server with one user, clients pika (PLAIN) and py-amqp (AMQPLAIN) -------------------
AMQP_USER='amqpuser'
AMQP_PW='Amqp-L4b-pass-5'
AMQP_BOT='amqpbot'
AMQP_BOT_PW='Amqp-b0t-AMQPLAIN-6'
start_amqp() {
    local d="$WORK/rabbitmq"
    mkdir -p "$d/mnesia" "$d/log" "$d/home"
    chmod 700 "$d/home"
    # The default user is created on the first boot of an empty database: the temporary one.
    cat >"$d/rabbitmq.conf" <<EOF
listeners.tcp.default = 10.77.0.2:5672
default_user = $AMQP_USER
default_pass = $AMQP_PW
loopback_users = none
log.file = false
log.console = true
EOF
    : >"$d/enabled_plugins"
    local env=(env HOME="$d/home" RABBITMQ_NODENAME=psgm@localhost RABBITMQ_MNESIA_BASE="$d/mnesia"
        RABBITMQ_LOG_BASE="$d/log" RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins"
        RABBITMQ_PID_FILE="$d/pid")
    $S "${env[@]}" /usr/lib/rabbitmq/bin/rabbitmq-server >>"$WORK/amqp.log" 2>&1 &
    wait_tcp 5672 1200
    # A second user, for the AMQPLAIN client (the same password twice would fold into one alert).
    $S "${env[@]}" /usr/lib/rabbitmq/bin/rabbitmqctl -n psgm@localhost add_user "$AMQP_BOT" "$AMQP_BOT_PW" >>"$WORK/amqp.log" 2>&1
    $S "${env[@]}" /usr/lib/rabbitmq/bin/rabbitmqctl -n psgm@localhost set_permissions "$AMQP_BOT" '.*' '.*' '.*' >>"$WORK/amqp.log" 2>&1
}
scenario_amqp() {
    # pika: PLAIN, accepted, declares a queue and publishes a message whose body talks about passwords.
    ok $C $PY - "$AMQP_USER" "$AMQP_PW" <<'PY'
import sys, pika
p = pika.ConnectionParameters("10.77.0.2", 5672, "/", pika.PlainCredentials(sys.argv[1], sys.argv[2]))
c = pika.BlockingConnection(p)
ch = c.channel()
ch.queue_declare("lab-jobs")
ch.basic_publish("", "lab-jobs", b'{"job": "rotate", "note": "the password field is gone"}')
c.close()
PY
    # pika with a wrong password: RabbitMQ answers Connection.Close 403 ACCESS_REFUSED.
    ko $C $PY - "$AMQP_USER" 'wrong-amqp-pass' <<'PY'
import sys, pika
p = pika.ConnectionParameters("10.77.0.2", 5672, "/", pika.PlainCredentials(sys.argv[1], sys.argv[2]),
                              connection_attempts=1)
pika.BlockingConnection(p).close()
PY
    # py-amqp with AMQPLAIN, accepted.
    ok $C $PY - "$AMQP_BOT" "$AMQP_BOT_PW" <<'PY'
import sys, amqp
c = amqp.Connection("10.77.0.2:5672", userid=sys.argv[1], password=sys.argv[2], login_method="AMQPLAIN")
c.connect()
ch = c.channel()
ch.queue_declare("lab-jobs", passive=True)
c.close()
PY
}
truth_amqp() {
    truth amqp <<EOF
{"leaks": [
  {"kind": "amqp_login", "server": "10.77.0.2:5672", "user": "$AMQP_USER", "secret": "$AMQP_PW", $OK, "evidence_has": ["AMQP Connection.StartOk PLAIN", $YES]},
  {"kind": "amqp_login", "server": "10.77.0.2:5672", "user": "$AMQP_USER", "secret": "wrong-amqp-pass", $KO, "evidence_has": ["AMQP Connection.StartOk PLAIN", $NO]},
  {"kind": "amqp_login", "server": "10.77.0.2:5672", "user": "$AMQP_BOT", "secret": "$AMQP_BOT_PW", $OK, "evidence_has": ["AMQP Connection.StartOk AMQPLAIN", $YES]}
 ],
 "negatives": [
  "the message published to lab-jobs whose JSON body mentions a password field",
  "the queue and exchange declarations, the server properties of Connection.Start"
 ]}
EOF
    check amqp
}

# --- IRC: ngircd with a server password and an operator; a python socket client (no services on ngircd) ------
IRC_PASS='Irc-S3rver-pass'
IRC_OPER='labop'
IRC_OPER_PW='Oper-L4b-pass-8'
IRC_NS_PW='NickServ-pw-9'
start_irc() {
    local d="$WORK/ngircd"
    mkdir -p "$d"
    cat >"$d/ngircd.conf" <<EOF
[Global]
Name = irc.more.lab
Info = lab IRC
Listen = 10.77.0.2
Ports = 6667, 6668
Password = $IRC_PASS
PidFile = $d/ngircd.pid
MotdPhrase = "lab IRC, cleartext on purpose"
[Options]
PAM = no
Ident = no
DNS = no
[Operator]
Name = $IRC_OPER
Password = $IRC_OPER_PW
EOF
    $S ngircd -n -f "$d/ngircd.conf" >>"$WORK/irc.log" 2>&1 &
    wait_tcp 6667; wait_tcp 6668
}
scenario_irc() {
    # alice: the server password (001), a wrong OPER password (464), the right one (381), a NickServ
    # IDENTIFY (no services: 401 No such nick, so no verdict), then QUIT. bob: a wrong server password
    # (ERROR :Access denied: Bad password?) on the second port, 6668. Each step waits for the reply it expects.
    ok $C $PY - "$IRC_PASS" "$IRC_OPER" "$IRC_OPER_PW" "$IRC_NS_PW" <<'PY'
import socket, sys
srv_pw, oper, oper_pw, ns_pw = sys.argv[1:]
def session(steps, port=6667):
    # ngircd holds a client back 10 s after a wrong OPER password.
    s = socket.create_connection(("10.77.0.2", port), timeout=30)
    buf = b""
    for line, want in steps:
        s.sendall(line.encode() + b"\r\n")
        if not want:
            continue
        pat = (" %s " % want).encode() if want.isdigit() else want.encode()
        while pat not in buf:
            chunk = s.recv(4096)
            if not chunk:
                sys.exit(f"no {want} after {line!r}: {buf!r}")
            buf += chunk
        buf = buf[buf.find(pat) + len(pat):]
    s.close()
session([
    (f"PASS {srv_pw}", None), ("NICK alice", None), ("USER alice 0 * :Alice Lab", "001"),
    (f"OPER {oper} wrong-oper-pass", "464"),
    (f"OPER {oper} {oper_pw}", "381"),
    (f"PRIVMSG NickServ :IDENTIFY {ns_pw}", "401"),
    ("PRIVMSG alice :my password is not here", None),
    ("QUIT :bye", "ERROR"),
])
# ngircd refuses a wrong server password with ERROR alone (no 464).
# On the second port: refused logins against one server fold into one alert (the OPER refusal's).
session([("PASS wrong-irc-pass", None), ("NICK bob", None), ("USER bob 0 * :Bob Lab", "Bad password")], 6668)
PY
}
truth_irc() {
    truth irc <<EOF
{"leaks": [
  {"kind": "irc_login", "server": "10.77.0.2:6667", "user": "alice", "secret": "$IRC_PASS", $OK, "evidence_has": ["IRC PASS", $YES]},
  {"kind": "irc_login", "server": "10.77.0.2:6667", "user": "$IRC_OPER", "secret": "wrong-oper-pass", $KO, "evidence_has": ["IRC OPER", $NO]},
  {"kind": "irc_login", "server": "10.77.0.2:6667", "user": "$IRC_OPER", "secret": "$IRC_OPER_PW", $OK, "evidence_has": ["IRC OPER", $YES]},
  {"kind": "irc_login", "server": "10.77.0.2:6667", "user": "alice", "secret": "$IRC_NS_PW", $UNK, "evidence_has": ["IRC NickServ IDENTIFY", $NONE]},
  {"kind": "irc_login", "server": "10.77.0.2:6668", "user": "bob", "secret": "wrong-irc-pass", $KO, "evidence_has": ["IRC PASS", $NO]}
 ],
 "negatives": [
  "the PRIVMSG alice sends herself that mentions a password",
  "the server's MOTD and numerics"
 ]}
EOF
    check irc
}

# --- XMPP: prosody (no required encryption, plain auth allowed, legacy auth), a scripted raw client -----------
XMPP_ALICE_PW='Xmpp-Al1ce-plain'
XMPP_BOB_PW='Xmpp-b0b-legacy&iq'
XMPP_CAROL_PW='Xmpp-car0l-scram'
XMPP_DAVE_PW='Xmpp-dave-starttls'
start_xmpp() {
    local d="$WORK/prosody"
    mkdir -p "$d/data"
    cp "$WORK/key.pem" "$WORK/cert.pem" "$d/"
    cat >"$d/prosody.cfg.lua" <<EOF
run_as_root = true
pidfile = "$d/prosody.pid"
data_path = "$d/data"
plugin_paths = {}
log = { { levels = { min = "info" }, to = "file", filename = "$d/prosody.log" } }
interfaces = { "10.77.0.2" }
local_interfaces = { "10.77.0.2" }
c2s_ports = { 5222 }
c2s_direct_tls_ports = {}
s2s_ports = {}
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
modules_enabled = { "roster", "saslauth", "tls", "disco", "ping", "legacyauth" }
modules_disabled = { "s2s", "offline", "c2s_timeout" }
ssl = { key = "$d/key.pem", certificate = "$d/cert.pem" }
VirtualHost "more.lab"
EOF
    local ctl=(prosodyctl --config "$d/prosody.cfg.lua")
    "${ctl[@]}" register alice more.lab "$XMPP_ALICE_PW" >>"$WORK/xmpp.log" 2>&1
    "${ctl[@]}" register bob more.lab "$XMPP_BOB_PW" >>"$WORK/xmpp.log" 2>&1
    "${ctl[@]}" register carol more.lab "$XMPP_CAROL_PW" >>"$WORK/xmpp.log" 2>&1
    "${ctl[@]}" register dave more.lab "$XMPP_DAVE_PW" >>"$WORK/xmpp.log" 2>&1
    $S prosody --config "$d/prosody.cfg.lua" -F >>"$WORK/xmpp.log" 2>&1 &
    wait_tcp 5222 400
}
scenario_xmpp() {
    ok $C $PY - "$XMPP_ALICE_PW" "$XMPP_BOB_PW" "$XMPP_CAROL_PW" "$XMPP_DAVE_PW" <<'PY'
import base64, hashlib, hmac, os, socket, ssl, sys
from xml.sax.saxutils import escape
alice_pw, bob_pw, carol_pw, dave_pw = sys.argv[1:]
OPEN = ("<?xml version='1.0'?><stream:stream to='more.lab' xmlns='jabber:client' "
        "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")
SASL = "urn:ietf:params:xml:ns:xmpp-sasl"

class Stream:
    def __init__(self):
        self.s = socket.create_connection(("10.77.0.2", 5222), timeout=10)
        self.buf = b""
    def send(self, x):
        self.s.sendall(x.encode())
    def until(self, *marks):
        while not any(m.encode() in self.buf for m in marks):
            chunk = self.s.recv(65536)
            if not chunk:
                sys.exit(f"stream closed waiting for {marks}: {self.buf!r}")
            self.buf += chunk
        got = min((self.buf.find(m.encode()), m) for m in marks if m.encode() in self.buf)
        out = self.buf
        self.buf = b""
        return got[1], out
    def open(self):
        self.send(OPEN)
        return self.until("</stream:features>")[1]
    def close(self):
        try:
            self.send("</stream:stream>")
            self.until("</stream:stream>")
        finally:
            self.s.close()

def plain(user, pw):
    return base64.b64encode(b"\0" + user.encode() + b"\0" + pw.encode()).decode()

# alice: SASL PLAIN in clear, accepted; then a wrong password, refused.
for pw, want in ((alice_pw, "<success"), ("wrong-xmpp-pass", "<failure")):
    st = Stream()
    feats = st.open()
    assert b"<mechanism>PLAIN</mechanism>" in feats, feats
    st.send(f"<auth xmlns='{SASL}' mechanism='PLAIN'>{plain('alice', pw)}</auth>")
    got, _ = st.until("<success", "<failure")
    assert got == want, (pw, got)
    st.close()

# bob: legacy jabber:iq:auth (XEP-0078) with the password in clear (XML-escaped), accepted.
st = Stream()
st.open()
st.send("<iq type='get' id='auth1'><query xmlns='jabber:iq:auth'><username>bob</username></query></iq>")
st.until("id='auth1'", 'id="auth1"')
st.send("<iq type='set' id='auth2'><query xmlns='jabber:iq:auth'><username>bob</username>"
        f"<password>{escape(bob_pw)}</password><resource>lab</resource></query></iq>")
got, data = st.until("type='result'", 'type="result"', "type='error'", 'type="error"')
assert "result" in got, data
st.close()

# carol: SCRAM-SHA-1 in clear (RFC 5802): only a nonce, a salt and a proof cross. Accepted.
st = Stream()
st.open()
nonce = base64.b64encode(os.urandom(18)).decode()
first_bare = f"n=carol,r={nonce}"
st.send(f"<auth xmlns='{SASL}' mechanism='SCRAM-SHA-1'>{base64.b64encode(('n,,' + first_bare).encode()).decode()}</auth>")
_, data = st.until("</challenge>")
chal = base64.b64decode(data.split(b">", 1)[1].split(b"<", 1)[0]).decode()
f = dict(kv.split("=", 1) for kv in chal.split(","))
salted = hashlib.pbkdf2_hmac("sha1", carol_pw.encode(), base64.b64decode(f["s"]), int(f["i"]))
ckey = hmac.new(salted, b"Client Key", hashlib.sha1).digest()
final_bare = f"c=biws,r={f['r']}"
auth_msg = f"{first_bare},{chal},{final_bare}".encode()
sig = hmac.new(hashlib.sha1(ckey).digest(), auth_msg, hashlib.sha1).digest()
proof = base64.b64encode(bytes(a ^ b for a, b in zip(ckey, sig))).decode()
st.send(f"<response xmlns='{SASL}'>{base64.b64encode((final_bare + ',p=' + proof).encode()).decode()}</response>")
got, data = st.until("<success", "<failure")
assert got == "<success", data
st.close()

# dave: STARTTLS first, then SASL PLAIN inside TLS: nothing readable.
st = Stream()
feats = st.open()
assert b"starttls" in feats, feats
st.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
st.until("<proceed")
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
st.s = ctx.wrap_socket(st.s, server_hostname="more.lab")
st.open()
st.send(f"<auth xmlns='{SASL}' mechanism='PLAIN'>{plain('dave', dave_pw)}</auth>")
got, data = st.until("<success", "<failure")
assert got == "<success", data
st.close()
PY
}
truth_xmpp() {
    truth xmpp <<EOF
{"leaks": [
  {"kind": "xmpp_login", "server": "10.77.0.2:5222", "user": "alice", "secret": "$XMPP_ALICE_PW", $OK, "evidence_has": ["XMPP SASL PLAIN", $YES, "offered STARTTLS"]},
  {"kind": "xmpp_login", "server": "10.77.0.2:5222", "user": "alice", "secret": "wrong-xmpp-pass", $KO, "evidence_has": ["XMPP SASL PLAIN", $NO, "offered STARTTLS"]},
  {"kind": "xmpp_login", "server": "10.77.0.2:5222", "user": "bob", "secret": "$XMPP_BOB_PW", $OK, "evidence_has": ["XMPP jabber:iq:auth", $YES, "offered STARTTLS"]}
 ],
 "negatives": [
  "carol's SCRAM-SHA-1 login in clear: a nonce, a salt and a client proof cross, no password",
  "dave's STARTTLS session: <proceed/>, then TLS; his SASL PLAIN is encrypted",
  "bob's first jabber:iq:auth get (user name only, no password)"
 ]}
EOF
    check xmpp "$XMPP_CAROL_PW" "$XMPP_DAVE_PW"
}

# --- NNTP: no inn2 here (its Debian package does not configure without a resolvable FQDN, and innd wants its
# history, active file and spool set up by its own tools): a small python server implementing the RFC 3977 /
# RFC 4643 / RFC 4642 replies, with python's nntplib (3.11) and a raw socket for AUTHINFO SASL as clients.
NNTP_ALICE_PW='Nntp-Al1ce-pass'
NNTP_BOB_PW='Nntp-b0b-SASL'
NNTP_CAROL_PW='Nntp-carol-TLS'
start_nntp() {
    local d="$WORK/nntp"
    mkdir -p "$d"
    cp "$WORK/key.pem" "$WORK/cert.pem" "$d/"
    cat >"$d/server.py" <<'PY'
import base64, socketserver, ssl, sys
USERS = dict(a.split(":", 1) for a in sys.argv[2:])
CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
CTX.load_cert_chain(sys.argv[1] + "/cert.pem", sys.argv[1] + "/key.pem")
ARTICLE = ("Path: news.more.lab\r\nFrom: ops@more.lab\r\nNewsgroups: lab.test\r\nSubject: how to log in\r\n"
           "Message-ID: <1@more.lab>\r\n\r\nType AUTHINFO USER yourname, then AUTHINFO PASS yourpassword.\r\n"
           "281 is what the server answers.\r\n")
class H(socketserver.StreamRequestHandler):
    def reply(self, s):
        self.wfile.write(s.encode() + b"\r\n")
        self.wfile.flush()
    def handle(self):
        self.reply("200 news.more.lab NNTP lab server ready (posting ok)")
        user, authed, tls = None, False, False
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode(errors="replace").rstrip("\r\n")
            w = line.split(" ")
            cmd = w[0].upper()
            if cmd == "CAPABILITIES":
                caps = ["VERSION 2", "READER", "LIST ACTIVE"]
                if not authed:
                    caps += ["AUTHINFO USER SASL", "SASL PLAIN"] + ([] if tls else ["STARTTLS"])
                self.reply("101 Capability list:\r\n" + "\r\n".join(caps) + "\r\n.")
            elif cmd == "MODE":
                self.reply("200 Posting allowed")
            elif cmd == "STARTTLS" and not tls:
                self.reply("382 Continue with TLS negotiation")
                self.connection = CTX.wrap_socket(self.request, server_side=True)
                self.rfile = self.connection.makefile("rb")
                self.wfile = self.connection.makefile("wb")
                tls = True
            elif cmd == "AUTHINFO" and len(w) >= 3 and w[1].upper() == "USER":
                user = w[2]
                self.reply("381 Password required")
            elif cmd == "AUTHINFO" and len(w) >= 3 and w[1].upper() == "PASS":
                pw = line.split(" ", 2)[2]
                authed = user is not None and USERS.get(user) == pw
                self.reply("281 Authentication accepted" if authed else "481 Authentication failed")
            elif cmd == "AUTHINFO" and len(w) >= 3 and w[1].upper() == "SASL" and w[2].upper() == "PLAIN":
                if len(w) >= 4:
                    resp = w[3]
                else:
                    self.reply("383 ")
                    resp = self.rfile.readline().decode().strip()
                try:
                    _, u, pw = base64.b64decode(resp).decode().split("\0")
                except Exception:
                    u, pw = None, None
                authed = u is not None and USERS.get(u) == pw
                self.reply("281 Authentication accepted" if authed else "481 Authentication failed")
            elif cmd == "LIST":
                self.reply("215 list of newsgroups follows\r\nlab.test 1 1 y\r\n.")
            elif cmd == "GROUP":
                self.reply("211 1 1 1 lab.test")
            elif cmd == "ARTICLE":
                self.reply("220 1 <1@more.lab> article\r\n" + ARTICLE + ".")
            elif cmd == "QUIT":
                self.reply("205 closing connection")
                return
            else:
                self.reply("500 Unknown command")
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
S(("10.77.0.2", 119), H).serve_forever()
PY
    $S $PY "$d/server.py" "$d" "alice:$NNTP_ALICE_PW" "bob:$NNTP_BOB_PW" "carol:$NNTP_CAROL_PW" >>"$WORK/nntp.log" 2>&1 &
    wait_tcp 119
}
scenario_nntp() {
    ok $C $PY -W ignore - "$NNTP_ALICE_PW" "$NNTP_BOB_PW" "$NNTP_CAROL_PW" <<'PY'
import base64, nntplib, socket, ssl, sys
alice_pw, bob_pw, carol_pw = sys.argv[1:]
H = "10.77.0.2"
# alice with nntplib: AUTHINFO USER/PASS accepted, then reads an article that talks about AUTHINFO.
s = nntplib.NNTP(H, 119, user="alice", password=alice_pw, readermode=True, usenetrc=False)
s.group("lab.test")
s.article("1")
s.quit()
# alice again with a wrong password: 481.
try:
    nntplib.NNTP(H, 119, user="alice", password="wrong-nntp-pass", usenetrc=False)
    sys.exit("the wrong NNTP password was accepted")
except nntplib.NNTPTemporaryError:  # 481 is a 4xx reply
    pass
# bob: AUTHINFO SASL PLAIN with an initial response (nntplib has no SASL: a raw socket), accepted.
c = socket.create_connection((H, 119), timeout=10)
f = c.makefile("rb")
def cmd(line):
    c.sendall(line.encode() + b"\r\n")
    return f.readline().decode()
assert f.readline().startswith(b"200")
resp = base64.b64encode(b"\0bob\0" + bob_pw.encode()).decode()
assert cmd(f"AUTHINFO SASL PLAIN {resp}").startswith("281")
assert cmd("QUIT").startswith("205")
c.close()
# carol: STARTTLS first, then AUTHINFO inside TLS: nothing readable.
s = nntplib.NNTP(H, 119, usenetrc=False)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s.starttls(ctx)
s.login("carol", carol_pw)
s.quit()
PY
}
truth_nntp() {
    truth nntp <<EOF
{"leaks": [
  {"kind": "nntp_login", "server": "10.77.0.2:119", "user": "alice", "secret": "$NNTP_ALICE_PW", $OK, "evidence_has": ["NNTP AUTHINFO USER/PASS", $YES, "offered STARTTLS"]},
  {"kind": "nntp_login", "server": "10.77.0.2:119", "user": "alice", "secret": "wrong-nntp-pass", $KO, "evidence_has": ["NNTP AUTHINFO USER/PASS", $NO, "offered STARTTLS"]},
  {"kind": "nntp_login", "server": "10.77.0.2:119", "user": "bob", "secret": "$NNTP_BOB_PW", $OK, "evidence_has": ["NNTP AUTHINFO SASL PLAIN", $YES]}
 ],
 "negatives": [
  "the article of lab.test whose body says how to log in (AUTHINFO USER / AUTHINFO PASS, 281): data lines, not commands or replies",
  "carol's STARTTLS session: 382, then TLS; her AUTHINFO USER/PASS is encrypted"
 ]}
EOF
    check nntp "$NNTP_CAROL_PW"
}

# --- Kafka: no Debian package. The frames are built by code following the Kafka protocol guide
# (examples/gen_more/kafka.rs through `gen_capture kafka`), with these passwords; the truth is what it sends.
KAFKA_ALICE_PW='Kafka-Al1ce-plain'
KAFKA_BOB_PW='Kafka-b0b-raw-v0'
KAFKA_CAROL_PW='Kafka-carol-scram'
KAFKA_WRONG='wrong-kafka-pass' # examples/gen_more/kafka.rs WRONG
gen_kafka() {
    (cd "$ROOT" && cargo run -q --example gen_capture -- kafka "$OUT/kafka.pcap" \
        "$KAFKA_ALICE_PW" "$KAFKA_BOB_PW" "$KAFKA_CAROL_PW")
    chmod 644 "$OUT/kafka.pcap"
    echo "kafka.pcap: $(stat -c %s "$OUT/kafka.pcap") bytes" >&2
}
truth_kafka() {
    truth kafka <<EOF
{"leaks": [
  {"kind": "kafka_sasl", "server": "10.77.0.2:9092", "user": "alice", "secret": "$KAFKA_ALICE_PW", $OK, "evidence_has": ["KAFKA SaslAuthenticate PLAIN", $YES]},
  {"kind": "kafka_sasl", "server": "10.77.0.2:9092", "user": "alice", "secret": "$KAFKA_WRONG", $KO, "evidence_has": ["KAFKA SaslAuthenticate PLAIN", $NO]},
  {"kind": "kafka_sasl", "server": "10.77.0.2:9092", "user": "bob", "secret": "$KAFKA_BOB_PW", $OK, "evidence_has": ["KAFKA SaslHandshake v0 PLAIN", $YES]}
 ],
 "negatives": [
  "carol's SCRAM-SHA-256 exchange (client-first, server-first, client-final with the proof): no password",
  "the Produce request whose record value mentions a password field",
  "ApiVersions and Metadata requests and responses"
 ]}
EOF
    check kafka "$KAFKA_CAROL_PW"
}

for name in "${WANT[@]}"; do
    if [[ $name == kafka ]]; then
        gen_kafka
        truth_kafka
        continue
    fi
    "start_$name"
    record "$name"
    "truth_$name"
done
