#!/usr/bin/env bash
# Captures of more protocols (issue 11, part B), made with REAL servers and clients from Debian where
# Debian has them:
#   mysql      mariadbd (temporary datadir) + the mariadb client: mysql_native_password logins accepted
#              and refused, a PAM account whose server asks for mysql_clear_password (the password in
#              clear), and a TLS login (negative)
#   memcached  memcached -S (SASL, sasldb) + python3-pylibmc (binary protocol, SASL PLAIN): accepted,
#              refused, and a plain binary GET without SASL (negative)
#   ntlm       python3-requests-ntlm (a real NTLMv2 client) against a short NTLM web server of ours
#              (Debian has none that runs without a domain): accepted and refused
#   rlogin     the real rlogin client (rsh-redone-client, under expect) against a short rlogind of ours:
#              a password accepted and refused, and a trusted login without password (negative)
# The servers run in the server namespace (10.77.0.2), the clients in the client namespace (10.77.0.1),
# tcpdump records on the server veth. Nothing leaves the two namespaces; every config and data file lives
# in a temporary directory; the temporary system user and PAM service of the mysql scenario are removed
# on exit with everything else. Needs root.
#   sudo captures/gen/gen_more_b.sh               all scenarios
#   sudo captures/gen/gen_more_b.sh mysql         some of them
# Each capture NAME.pcap gets NAME.truth.json (see captures/README.md). Every password is fixed.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$ROOT/captures"
[[ $(id -u) -eq 0 ]] || { echo "needs root: sudo $0 $*" >&2; exit 1; }
"$HERE/setup.sh"

ALL=(mysql memcached ntlm rlogin)
for name in "$@"; do
    [[ " ${ALL[*]} " == *" $name "* ]] || { echo "unknown scenario: $name (know: ${ALL[*]})" >&2; exit 2; }
done
WANT=("${@:-${ALL[@]}}")

# --- packages: install only what is missing (services must not start outside the namespaces) -------------
declare -A PKGS=([mysql]="mariadb-server mariadb-client" [memcached]="memcached sasl2-bin python3-pylibmc"
    [ntlm]="python3-requests-ntlm python3-ntlm-auth" [rlogin]="rsh-redone-client expect")
source "$HERE/packages.sh"
install_scenarios "${WANT[@]}"

PREFIX=psgn
source "$HERE/netns.sh"
WAIT_TRIES=300
source "$HERE/steps.sh"
WORK="$(mktemp -d)"
chmod 755 "$WORK"
PAM_USER=psgnpam
PAM_SERVICE=psgn-mariadb
PAM_USER_MADE=
cleanup() {
    netns_drain
    netns_down
    if [[ -n $PAM_USER_MADE ]]; then userdel "$PAM_USER" 2>/dev/null || true; fi
    rm -f "/etc/pam.d/$PAM_SERVICE"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

netns_up
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=more.lab" \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1

# --- helpers (as gen_services.sh) --------------------------------------------------------------------------

# Severity by README's rules: critical for a password the server did not refuse, medium for a refused one
# and for hash-only material.
OK='"verdict": "accepted", "severity": "critical"'
KO='"verdict": "refused", "severity": "medium"'
YES='"accepted by the server"'
NO='"refused by the server"'

# Every listed secret must really be in the capture as sent, every "absent" string must not.
check() { # name, then strings that must NOT appear anywhere in the capture
    python3 - "$OUT/$1.pcap" "$OUT/$1.truth.json" "${@:2}" <<'PY'
import json, sys
raw = open(sys.argv[1], "rb").read()
t = json.load(open(sys.argv[2]))
bad = []
for l in t["leaks"]:
    if l["secret"].encode() not in raw:
        bad.append(f"leak not in capture: {l}")
    if l.get("user") and l["user"].encode() not in raw:
        bad.append(f"user not in capture: {l}")
for h in t.get("hash_only", []):
    # NTLM's user name crosses in UTF-16 inside base64: the test of tests/export_hashes.rs checks it.
    if h.get("kind") != "http_ntlm" and h["user"].encode() not in raw:
        bad.append(f"hash-only user not in capture: {h}")
for a in sys.argv[3:]:
    if a.encode() in raw:
        bad.append(f"must be absent but is in the capture: {a}")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PY
}

# --- MySQL: MariaDB with native-password accounts, a PAM account (mysql_clear_password), TLS -----------------
MY_NATIVE_PW='My-native-pass-1'
MY_PAM_PW='My-pam-clear-pass-2'
MY_TLS_PW='My-tls-pass-3'
start_mysql() {
    local d="$WORK/my"
    mkdir -p "$d/data" "$d/run"
    cp "$WORK/cert.pem" "$WORK/key.pem" "$d/"
    # The PAM account: a temporary system user checked by pam_unix through a PAM service of our own.
    if ! id "$PAM_USER" >/dev/null 2>&1; then
        useradd -M -N -s /usr/sbin/nologin "$PAM_USER"
        PAM_USER_MADE=1
    fi
    echo "$PAM_USER:$MY_PAM_PW" | chpasswd
    printf 'auth required pam_unix.so\naccount required pam_unix.so\n' >"/etc/pam.d/$PAM_SERVICE"
    mariadb-install-db --no-defaults --user=root --datadir="$d/data" --auth-root-authentication-method=socket \
        --skip-test-db >>"$WORK/my.log" 2>&1
    # pam_use_cleartext_plugin: the server asks the client for mysql_clear_password (the password in
    # clear) instead of the dialog plugin.
    $S mariadbd --no-defaults --user=root --datadir="$d/data" --socket="$d/run/sock" --pid-file="$d/run/pid" \
        --bind-address=10.77.0.2 --port=3306 --skip-name-resolve --plugin-load-add=auth_pam \
        --pam-use-cleartext-plugin=ON --ssl-cert="$d/cert.pem" --ssl-key="$d/key.pem" \
        --log-error="$d/err.log" >>"$WORK/my.log" 2>&1 &
    wait_tcp 3306
    $S mariadb --no-defaults -S "$d/run/sock" -u root >>"$WORK/my.log" 2>&1 <<EOF
CREATE DATABASE shop;
CREATE USER 'app_native'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('$MY_NATIVE_PW');
CREATE USER '$PAM_USER'@'%' IDENTIFIED VIA pam USING '$PAM_SERVICE';
CREATE USER 'app_tls'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('$MY_TLS_PW') REQUIRE SSL;
GRANT ALL ON shop.* TO 'app_native'@'%', '$PAM_USER'@'%', 'app_tls'@'%';
EOF
}
my() { # user password [more client options]
    $C mariadb --no-defaults -h 10.77.0.2 -P 3306 -u "$1" -p"$2" --connect-timeout=5 "${@:3}" shop -e 'SELECT CURRENT_USER()'
}
scenario_mysql() {
    ok my app_native "$MY_NATIVE_PW" --skip-ssl
    ko my app_native 'wrong-native-pass' --skip-ssl
    ok my "$PAM_USER" "$MY_PAM_PW" --skip-ssl --enable-cleartext-plugin
    ko my "$PAM_USER" 'wrong-pam-pass' --skip-ssl --enable-cleartext-plugin
    ok my app_tls "$MY_TLS_PW" --ssl --ssl-verify-server-cert=OFF
}
truth_mysql() {
    truth mysql <<EOF
{"leaks": [
  {"kind": "mysql_cleartext", "server": "10.77.0.2:3306", "user": "$PAM_USER", "secret": "$MY_PAM_PW", $OK, "evidence_has": ["MYSQL mysql_clear_password", $YES]},
  {"kind": "mysql_cleartext", "server": "10.77.0.2:3306", "user": "$PAM_USER", "secret": "wrong-pam-pass", $KO, "evidence_has": ["MYSQL mysql_clear_password", $NO]}
 ],
 "hash_only": [
  {"server": "10.77.0.2:3306", "user": "app_native", "mechanism": "mysql_native_password", "severity": "medium", "evidence_has": ["mysql_native_password", "hash only", $YES]},
  {"server": "10.77.0.2:3306", "user": "app_native", "mechanism": "mysql_native_password", "severity": "medium", "evidence_has": ["mysql_native_password", "hash only", $NO]},
  {"server": "10.77.0.2:3306", "user": "$PAM_USER", "mechanism": "mysql_native_password", "severity": "medium", "evidence_has": ["mysql_native_password", "hash only", "no answer"]},
  {"server": "10.77.0.2:3306", "user": "$PAM_USER", "mechanism": "mysql_native_password", "severity": "medium", "evidence_has": ["mysql_native_password", "hash only", "no answer"]}
 ],
 "hash_passwords": {"app_native": "$MY_NATIVE_PW", "$PAM_USER": "$MY_PAM_PW"},
 "negatives": [
  "the login of app_tls: SSLRequest, then TLS; its password ($MY_TLS_PW) and scramble response are inside the TLS session",
  "the native-password logins must not be reported as mysql_cleartext: only a scramble response crosses",
  "the query SELECT CURRENT_USER() and its result"
 ]}
EOF
    check mysql "$MY_TLS_PW" "$MY_NATIVE_PW" "app_tls"
}

# --- memcached: binary protocol with SASL (sasldb), python3-pylibmc -------------------------------------------
MC_PW='Mc-sasl-pass-1'
MC_USER=cacheuser
start_memcached() {
    local d="$WORK/mc"
    mkdir -p "$d"
    # memcached -S asks Cyrus SASL (service "memcached") for PLAIN checked against a sasldb of our own.
    printf 'mech_list: plain\nsasldb_path: %s/sasldb2\n' "$d" >"$d/memcached.conf"
    echo "$MC_PW" | saslpasswd2 -p -a memcached -f "$d/sasldb2" -c "$MC_USER"
    chmod 644 "$d/sasldb2"
    $S env SASL_CONF_PATH="$d" memcached -S -u root -l 10.77.0.2 -p 11211 -U 0 >>"$WORK/mc.log" 2>&1 &
    wait_tcp 11211
}
mc() { # user password: SET then GET a key over the binary protocol with SASL PLAIN
    $C /usr/bin/python3 - "$1" "$2" <<'PY'
import sys, pylibmc
c = pylibmc.Client(["10.77.0.2:11211"], binary=True, username=sys.argv[1], password=sys.argv[2])
c.set("lab-key", "lab-value")
assert c.get("lab-key") in ("lab-value", b"lab-value")
PY
}
mc_nosasl() { # a binary GET without authenticating: the server refuses it, no credential crossed
    $C /usr/bin/python3 - <<'PY'
import socket, struct
s = socket.create_connection(("10.77.0.2", 11211))
key = b"lab-key"
s.sendall(struct.pack(">BBHBBHIIQ", 0x80, 0x00, len(key), 0, 0, 0, len(key), 1, 0) + key)
r = s.recv(1024)
assert r[0] == 0x81 and struct.unpack(">H", r[6:8])[0] != 0, r
PY
}
scenario_memcached() {
    ok mc "$MC_USER" "$MC_PW"
    ko mc "$MC_USER" 'wrong-mc-pass'
    ok mc_nosasl
}
truth_memcached() {
    truth memcached <<EOF
{"leaks": [
  {"kind": "memcached_sasl", "server": "10.77.0.2:11211", "user": "$MC_USER", "secret": "$MC_PW", $OK, "evidence_has": ["MEMCACHED SASL PLAIN", $YES]},
  {"kind": "memcached_sasl", "server": "10.77.0.2:11211", "user": "$MC_USER", "secret": "wrong-mc-pass", $KO, "evidence_has": ["MEMCACHED SASL PLAIN", $NO]}
 ],
 "negatives": [
  "the SET and GET of lab-key after the accepted login (data, not credentials)",
  "a binary GET sent without authenticating (refused by the server: no credential crossed)"
 ]}
EOF
    check memcached
}

# --- HTTP NTLM: requests-ntlm (python3-requests-ntlm) against a small NTLM server of ours -------------------
# Debian has no NTLM web server that runs without a domain; the server is a short Python script that
# sends the type 2 challenge and checks the client's NTLMv2 response against the password (MD4 through
# OpenSSL's legacy provider, which the client's ntlm-auth needs too). The client is the real library.
NTLM_PW='Ntlm-pass-1'
NTLM_USER=alice
NTLM_DOMAIN=LAB
start_ntlm() {
    local d="$WORK/ntlm"
    mkdir -p "$d"
    printf 'openssl_conf = openssl_init\n[openssl_init]\nproviders = provider_sect\n[provider_sect]\ndefault = default_sect\nlegacy = legacy_sect\n[default_sect]\nactivate = 1\n[legacy_sect]\nactivate = 1\n' >"$d/openssl.cnf"
    cat >"$d/server.py" <<'PY'
import base64, hashlib, hmac, os, struct, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
PW, CHALLENGE = sys.argv[1], bytes.fromhex("0123456789abcdef")
def u16(s): return s.encode("utf-16-le")
def field(m, at):
    n, _, off = struct.unpack("<HHI", m[at:at + 8])
    return m[off:off + n]
def type2():
    target = u16("LAB")
    info = struct.pack("<HH", 2, len(target)) + target + struct.pack("<HH", 0, 0)
    head = b"NTLMSSP\0" + struct.pack("<I", 2) + struct.pack("<HHI", len(target), len(target), 56)
    head += struct.pack("<I", 0xE2898215) + CHALLENGE + b"\0" * 8
    head += struct.pack("<HHI", len(info), len(info), 56 + len(target)) + b"\x0a\x00\x63\x45\x00\x00\x00\x0f"
    return head + target + info
def ok(m):
    nt, dom, user = field(m, 20), field(m, 28).decode("utf-16-le"), field(m, 36).decode("utf-16-le")
    owf = hmac.new(hashlib.new("md4", u16(PW)).digest(), u16(user.upper() + dom), "md5").digest()
    return hmac.compare_digest(hmac.new(owf, CHALLENGE + nt[16:], "md5").digest(), nt[:16])
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def reply(self, code, hdr=None, body=b""):
        self.send_response(code)
        if hdr:
            self.send_header("WWW-Authenticate", hdr)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        a = self.headers.get("Authorization", "")
        if not a.startswith("NTLM "):
            return self.reply(401, "NTLM")
        m = base64.b64decode(a[5:])
        if m[8] == 1:
            return self.reply(401, "NTLM " + base64.b64encode(type2()).decode())
        self.reply(200, None, b"intranet page\n") if ok(m) else self.reply(401, "NTLM")
    def log_message(self, *a): pass
ThreadingHTTPServer(("10.77.0.2", 8088), H).serve_forever()
PY
    $S env OPENSSL_CONF="$d/openssl.cnf" /usr/bin/python3 "$d/server.py" "$NTLM_PW" >>"$WORK/ntlm.log" 2>&1 &
    wait_tcp 8088
}
ntlm_get() { # user password: GET /intranet with requests-ntlm; success only with a 200
    $C env OPENSSL_CONF="$WORK/ntlm/openssl.cnf" /usr/bin/python3 - "$1" "$2" <<'PY'
import sys, requests
from requests_ntlm import HttpNtlmAuth
r = requests.get("http://10.77.0.2:8088/intranet", auth=HttpNtlmAuth(sys.argv[1], sys.argv[2]), timeout=5)
sys.exit(0 if r.status_code == 200 else 1)
PY
}
scenario_ntlm() {
    ok ntlm_get "$NTLM_DOMAIN\\$NTLM_USER" "$NTLM_PW"
    ko ntlm_get "$NTLM_DOMAIN\\$NTLM_USER" 'wrong-ntlm-pass'
    ko $C curl -sf -o /dev/null http://10.77.0.2:8088/intranet
}
truth_ntlm() {
    truth ntlm <<EOF
{"leaks": [],
 "hash_only": [
  {"kind": "http_ntlm", "server": "10.77.0.2:8088", "user": "$NTLM_DOMAIN\\\\$NTLM_USER", "mechanism": "header Authorization", "severity": "medium", "evidence_has": ["NetNTLMv2", "hash only", $YES]},
  {"kind": "http_ntlm", "server": "10.77.0.2:8088", "user": "$NTLM_DOMAIN\\\\$NTLM_USER", "mechanism": "header Authorization", "severity": "medium", "evidence_has": ["NetNTLMv2", "hash only", $NO]}
 ],
 "hash_passwords": {"$NTLM_DOMAIN\\\\$NTLM_USER": "$NTLM_PW"},
 "negatives": [
  "the NTLM type 1 (negotiate) messages: no credential",
  "the server's type 2 challenges in WWW-Authenticate",
  "a GET without credentials, answered 401 WWW-Authenticate: NTLM"
 ]}
EOF
    check ntlm "$NTLM_PW"
}

# --- rlogin: the real client (rsh-redone-client, under expect) against a small rlogind of ours -----------
# Debian's rlogind (rsh-redone-server) runs only from inetd with PAM; the server is a short Python script
# that speaks RFC 1282 (the opening, the NUL answer, a Password: prompt, a shell prompt or "Login
# incorrect") and trusts the user `trusted` as .rhosts would. The client is the real rlogin.
RL_PW='Rl0gin-pass-1'
RL_USER=alice
start_rlogin() {
    local d="$WORK/rl"
    mkdir -p "$d"
    cat >"$d/rlogind.py" <<'PY'
import socket, sys, threading
PW = sys.argv[1]
def serve(c):
    buf = b""
    while buf.count(b"\0") < 4:
        b = c.recv(256)
        if not b:
            return
        buf += b
    remote = buf.split(b"\0")[2].decode()
    c.sendall(b"\0")
    if remote != "trusted":
        c.sendall(b"Password: ")
        typed = b""
        while not typed.endswith((b"\r", b"\n")):
            b = c.recv(1)
            if not b:
                return
            if b != b"\xff":
                typed += b
        if typed.strip().decode(errors="replace") != PW:
            c.sendall(b"\r\nLogin incorrect\r\n")
            c.close()
            return
    c.sendall(("\r\nLast login: Mon Dec  1 10:00:00 2026 from 10.77.0.1\r\n%s@lab:~$ " % remote).encode())
    c.settimeout(5)
    try:
        while b"exit" not in buf:
            b = c.recv(256)
            if not b:
                break
            buf += b
    except OSError:
        pass
    c.sendall(b"\r\nlogout\r\n")
    c.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.2", 513))
s.listen()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
    $S /usr/bin/python3 "$d/rlogind.py" "$RL_PW" >>"$WORK/rl.log" 2>&1 &
    wait_tcp 513
}
rl() { # user password ("" for none): the real rlogin client typing at the prompt
    $C expect -c "
        set timeout 10
        spawn rlogin -l $1 10.77.0.2
        if {\"$2\" ne \"\"} { expect \"Password: \"; send \"$2\\r\" }
        expect {
            \"~\\$ \" { send \"exit\\r\"; expect eof; exit 0 }
            \"incorrect\" { expect eof; exit 1 }
            timeout { exit 2 }
        }"
}
scenario_rlogin() {
    ok rl "$RL_USER" "$RL_PW"
    ko rl "$RL_USER" 'wrong-rlogin-pass'
    ok rl trusted ""
}
truth_rlogin() {
    truth rlogin <<EOF
{"leaks": [
  {"kind": "rlogin_login", "server": "10.77.0.2:513", "user": "$RL_USER", "secret": "$RL_PW", $OK, "evidence_has": ["RLOGIN password prompt", $YES]},
  {"kind": "rlogin_login", "server": "10.77.0.2:513", "user": "$RL_USER", "secret": "wrong-rlogin-pass", $KO, "evidence_has": ["RLOGIN password prompt", $NO]}
 ],
 "negatives": [
  "the login of user trusted, let in without a password (trusted by host, as .rhosts): no secret crossed",
  "the command exit typed in the shells"
 ]}
EOF
    check rlogin
}

for name in "${WANT[@]}"; do
    "start_$name"
    record "$name"
    "truth_$name"
done
