#!/usr/bin/env bash
# Captures of the classic cleartext protocols, made with REAL servers and clients:
#   FTP     pyftpdlib (Debian python3-pyftpdlib: virtual users, anonymous, AUTH TLS)  port 21 (IPv4 and IPv6)
#   Telnet  busybox telnetd with a small login program of ours (character mode)       port 23
#   POP3    dovecot (passwd-file, plain login cram-md5, STLS)                          port 110
#   IMAP    dovecot (LOGIN, AUTHENTICATE PLAIN / LOGIN, STARTTLS)                      port 143
#   SMTP    aiosmtpd (Debian python3-aiosmtpd: AUTH PLAIN / LOGIN, STARTTLS)           port 587
# driven by curl, python (ftplib, poplib, imaplib) and telnet under expect, in two network namespaces
# joined by a veth pair (netns.sh, PREFIX=psga), recorded with tcpdump on the server side. Needs root.
#   captures/gen/gen_mail.sh                   all scenarios: ftp telnet mail tiny_segments
#   captures/gen/gen_mail.sh ftp mail          some of them
# Each capture NAME.pcap gets NAME.truth.json (see captures/README.md). Nothing is installed or changed
# outside this run except missing Debian packages: every config file lives in a mktemp directory.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$ROOT/captures"
"$HERE/setup.sh"

# ---------------------------------------------------------------- packages (only the missing ones)
source "$HERE/packages.sh"
install_missing python3-pyftpdlib python3-openssl dovecot-core dovecot-imapd dovecot-pop3d busybox inetutils-telnet \
    expect python3-aiosmtpd ethtool
PY=/usr/bin/python3 # Debian's python, the one python3-aiosmtpd is installed for

PREFIX=psga
source "$HERE/netns.sh"
WORK="$(mktemp -d)"
chmod 755 "$WORK" # dovecot's unprivileged users (nobody, dovenull) walk into it
cleanup() {
    local rc=$?
    if [[ $rc -ne 0 ]]; then
        echo "failed ($rc); server logs:" >&2
        tail -n 30 "$WORK"/*.log >&2 2>/dev/null || true
    fi
    netns_down
    rm -rf "$WORK"
}
trap cleanup EXIT

# busybox telnetd: Debian's busybox leaves it out, busybox-static has it. Unpack that package in WORK
# rather than replacing the system's busybox.
BUSYBOX=busybox
if ! busybox telnetd --help >/dev/null 2>&1; then
    (cd "$WORK" && apt-get download -qq busybox-static 2>/dev/null) || {
        apt-get -o DPkg::Lock::Timeout=600 update -qq
        (cd "$WORK" && apt-get download -qq busybox-static)
    }
    dpkg-deb -x "$WORK"/busybox-static_*.deb "$WORK/bbs"
    BUSYBOX="$WORK/bbs/bin/busybox"
fi

netns_up
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=mail.lab" -addext "subjectAltName=DNS:mail.lab" \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1

# ---------------------------------------------------------------- users (all fake)
# FTP virtual users (pyftpdlib's DummyAuthorizer).
cat >"$WORK/ftp.users" <<'EOF'
alice:Ftp-Alice-2024!
bob:b0b-likes-FTP
tess:tls-only-Tess-1
EOF
# Mail users: dovecot passwd-file, read by the SMTP server as well.
cat >"$WORK/mail.users" <<'EOF'
erin:{PLAIN}Erin-pop3-pass::::::
frank:{PLAIN}frank-SASL-plain-5::::::
grace:{PLAIN}Gr@ce "Hopper" 1906::::::
heidi:{PLAIN}heidi-imap-IR-77::::::
ivan:{PLAIN}ivan-auth-LOGIN-3::::::
judy:{PLAIN}judy-smtp-PLAIN-8::::::
kim:{PLAIN}kim-smtp-LOGIN-2::::::
tess:{PLAIN}tls-only-Tess-1::::::
EOF

# ---------------------------------------------------------------- FTP: pyftpdlib
# vsftpd was the first choice; with virtual users its post-login process hangs at the first EPSV/PASV
# in this environment (see captures/README.md). pyftpdlib (Debian python3-pyftpdlib) is a real server.
mkdir -p "$WORK/ftp/root/pub" "$WORK/ftp/anon/pub"
cat >"$WORK/ftp/root/pub/notes.txt" <<'EOF'
Maintenance notes for the lab router.
An FTP session looks like this, and this file is not one:
USER root
PASS toor
EOF
printf 'Public mirror of the lab. Nothing secret here.\n' >"$WORK/ftp/anon/pub/README"
cat >"$WORK/ftpd.py" <<'PY'
"""FTP server (pyftpdlib): virtual users, anonymous, AUTH TLS offered (not required)."""
import logging, sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import TLS_FTPHandler
from pyftpdlib.servers import FTPServer

addr, users_file, root, anon_root, cert, key, log = sys.argv[1:8]
auth = DummyAuthorizer()
for line in open(users_file, encoding="utf-8"):
    name, pw = line.rstrip("\n").split(":", 1)
    auth.add_user(name, pw, root, perm="elr")
auth.add_anonymous(anon_root, perm="elr")
h = TLS_FTPHandler
h.certfile, h.keyfile = cert, key
h.tls_control_required = h.tls_data_required = False
h.authorizer = auth
h.banner = "lab FTP service ready."
h.auth_failed_timeout = 0
h.max_login_attempts = 3
h.passive_ports = range(30000, 30100)
logging.basicConfig(filename=log, level=logging.INFO)
FTPServer((addr, 21), h).serve_forever()
PY
$S $PY "$WORK/ftpd.py" 10.77.0.2 "$WORK/ftp.users" "$WORK/ftp/root" "$WORK/ftp/anon" "$WORK/cert.pem" "$WORK/key.pem" "$WORK/ftpd4.log" &
$S $PY "$WORK/ftpd.py" fd77::2 "$WORK/ftp.users" "$WORK/ftp/root" "$WORK/ftp/anon" "$WORK/cert.pem" "$WORK/key.pem" "$WORK/ftpd6.log" &

# ---------------------------------------------------------------- POP3 / IMAP: dovecot
mkdir -p "$WORK/dovecot/run" "$WORK/dovecot/state"
for u in erin frank grace heidi ivan judy kim tess; do
    mkdir -p "$WORK/mail/$u/Maildir/"{cur,new,tmp}
    printf 'From: postmaster@mail.lab\r\nTo: %s@mail.lab\r\nSubject: Welcome\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\nMessage-ID: <welcome-%s@mail.lab>\r\n\r\nWelcome to the lab mail server.\r\n' \
        "$u" "$u" >"$WORK/mail/$u/Maildir/new/1700000000.M1P1.mail.lab"
done
chown -R nobody:nogroup "$WORK/mail"
cat >"$WORK/dovecot.conf" <<EOF
base_dir = $WORK/dovecot/run
state_dir = $WORK/dovecot/state
instance_name = psga-dovecot
protocols = imap pop3
listen = 10.77.0.2
log_path = $WORK/dovecot.log
info_log_path = $WORK/dovecot.log
ssl = yes
ssl_cert = <$WORK/cert.pem
ssl_key = <$WORK/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5
auth_failure_delay = 0
login_greeting = lab mail ready.
mail_location = maildir:$WORK/mail/%u/Maildir
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN $WORK/mail.users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$WORK/mail/%u
}
service imap-login {
  inet_listener imap {
    port = 143
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 110
  }
  inet_listener pop3s {
    port = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0600
  }
  unix_listener stats-writer {
    mode = 0600
  }
}
EOF
$S dovecot -F -c "$WORK/dovecot.conf" &

# ---------------------------------------------------------------- SMTP: aiosmtpd
cat >"$WORK/smtpd.py" <<'PY'
"""Submission server (aiosmtpd, Debian python3-aiosmtpd): AUTH PLAIN/LOGIN checked against the mail
users, STARTTLS offered, mail accepted and thrown away."""
import asyncio, ssl, sys
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

users_file, cert, key = sys.argv[1:4]
USERS = {}
for line in open(users_file, encoding="utf-8"):
    name, rest = line.rstrip("\n").split(":", 1)
    USERS[name.encode()] = rest.split("}", 1)[1].split("::", 1)[0].encode()

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and USERS.get(auth_data.login) == auth_data.password
    return AuthResult(success=ok, handled=False)

class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 Ok: queued"

async def main():
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    loop = asyncio.get_running_loop()
    factory = lambda: SMTP(Sink(), hostname="mail.lab", ident="lab ESMTP", tls_context=ctx,
                           require_starttls=False, auth_required=True, auth_require_tls=False,
                           authenticator=authenticator)
    srv = await loop.create_server(factory, "10.77.0.2", 587)
    async with srv:
        await srv.serve_forever()

asyncio.run(main())
PY
$S $PY "$WORK/smtpd.py" "$WORK/mail.users" "$WORK/cert.pem" "$WORK/key.pem" &

# ---------------------------------------------------------------- Telnet: busybox telnetd + our login
cat >"$WORK/login.sh" <<'EOF'
#!/bin/bash
# A tiny login for busybox telnetd: login/Password prompts (no echo for the password), a fixed table,
# "Login incorrect" and again, or a banner, a "$ " prompt, one command, and logout.
declare -A PW=([bob]='R0uter-Adm1n' [carol]='Tulip-9876')
declare -A ID=([bob]=1001 [carol]=1002)
printf '\nlab-router login: '
while :; do
    IFS= read -r user || exit 0
    stty -echo
    printf 'Password: '
    IFS= read -r pass || exit 0
    stty echo
    printf '\n'
    if [[ -n "$user" && -n "${PW[$user]+x}" && "${PW[$user]}" == "$pass" ]]; then
        break
    fi
    sleep 1
    printf 'Login incorrect\nlab-router login: '
done
printf 'Welcome to lab-router (BusyBox v1.35.0)\n\n$ '
IFS= read -r cmd || exit 0
case "$cmd" in
    id) printf 'uid=%s(%s) gid=%s(%s) groups=%s(%s)\n' "${ID[$user]}" "$user" "${ID[$user]}" "$user" "${ID[$user]}" "$user" ;;
    *) printf 'sh: %s: not found\n' "$cmd" ;;
esac
printf '$ logout\n'
EOF
chmod 755 "$WORK/login.sh"
printf 'lab-router\n' >"$WORK/issue.net" # instead of the host's /etc/issue.net
$S "$BUSYBOX" telnetd -F -b 10.77.0.2:23 -f "$WORK/issue.net" -l "$WORK/login.sh" &

# ---------------------------------------------------------------- wait for every port
wait_port() { # host port
    for _ in $(seq 1 200); do
        $C $PY -c "import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 1).close()" "$1" "$2" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "server did not come up: $1:$2" >&2
    cat "$WORK"/*.log >&2 2>/dev/null || true
    return 1
}
wait_port 10.77.0.2 21; wait_port fd77::2 21; wait_port 10.77.0.2 23
wait_port 10.77.0.2 110; wait_port 10.77.0.2 143; wait_port 10.77.0.2 587
# Debugging: HOLD=600 gen_mail.sh keeps the servers up that long (namespaces psga-srv / psga-cli).
if [[ -n ${HOLD:-} ]]; then echo "servers up, WORK=$WORK" >&2; sleep "$HOLD"; fi

record() { # name, then the scenario function
    local name=$1 fn=$2
    rm -f "$WORK/cap.pcap"
    $S tcpdump -i "$VS" -s 0 -U -w "$WORK/cap.pcap" 'tcp or udp' 2>/dev/null &
    local tp=$!
    sleep 1
    "$fn"
    sleep 1
    kill -INT $tp; wait $tp 2>/dev/null || true
    cp "$WORK/cap.pcap" "$OUT/$name.pcap"
    chmod 644 "$OUT/$name.pcap"
    echo "$name.pcap: $(stat -c %s "$OUT/$name.pcap") bytes" >&2
}
expect_fail() { # a command that must fail (a refused login)
    if "$@"; then echo "unexpectedly accepted: $*" >&2; return 1; fi
    return 0
}
CURL="$C curl -s -S --connect-timeout 5"
CPY="$C $PY"

# ---------------------------------------------------------------- FTP
BRUTE=(123456 password admin 12345678 qwerty letmein admin123 welcome 'P@ssw0rd' changeme root toor)
scenario_ftp() {
    # alice: accepted, LIST then RETR over passive data connections.
    $CURL -u 'alice:Ftp-Alice-2024!' ftp://10.77.0.2/pub/ -o /dev/null ftp://10.77.0.2/pub/notes.txt -o /dev/null
    # bob over IPv6: refused, then accepted on the same connection (ftplib), then a listing.
    $CPY - <<'PY'
import ftplib
f = ftplib.FTP()
f.connect("fd77::2", 21, timeout=5)
try:
    f.login("bob", "b0b-likes-ftp")
    raise SystemExit("wrong password accepted")
except ftplib.error_perm:
    pass
f.login("bob", "b0b-likes-FTP")
f.nlst()
f.quit()
PY
    # Anonymous, an e-mail address as password.
    $CURL -u 'anonymous:mirror-bot@example.org' ftp://10.77.0.2/pub/README -o /dev/null
    # A brute-forcer: 12 connections, user admin, all refused (530).
    for pw in "${BRUTE[@]}"; do
        expect_fail $CURL -u "admin:$pw" ftp://10.77.0.2/ -o /dev/null 2>/dev/null
    done
    # AUTH TLS: tess logs in inside TLS, lists (PROT P: the data connection is TLS as well). python
    # ftplib, because curl --ssl-reqd sends AUTH SSL first.
    $CPY - <<'PY'
import ftplib, ssl
ctx = ssl.create_default_context()
ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
f = ftplib.FTP_TLS(context=ctx, timeout=5)
f.connect("10.77.0.2", 21)
f.auth()
f.login("tess", "tls-only-Tess-1")
f.prot_p()
f.nlst("pub")
f.quit()
PY
}

# Severity follows the documented rules (README "Severity"): critical for a password the server accepted,
# medium for a refused one and for the anonymous login. `evidence_has`: phrases the alert's evidence must
# contain (case-insensitive): the mechanism, the server's verdict, STARTTLS when the client saw it offered.
# Neither curl nor ftplib asks FEAT before logging in, so no FTP alert can know AUTH TLS was on offer.
FTP_ACCEPTED='"severity": "critical", "evidence_has": ["FTP USER/PASS", "accepted by the server"]'
FTP_REFUSED='"severity": "medium", "evidence_has": ["FTP USER/PASS", "refused by the server"]'
truth_ftp() {
    local brute_json
    brute_json=$(printf '%s\n' "${BRUTE[@]}" | $PY -c 'import json,sys;print(json.dumps(sys.stdin.read().split()))')
    cat <<EOF
{
 "leaks": [
  {"kind": "ftp_login", "server": "10.77.0.2:21", "user": "alice", "secret": "Ftp-Alice-2024!", "verdict": "accepted", $FTP_ACCEPTED},
  {"kind": "ftp_login", "server": "[fd77::2]:21", "user": "bob", "secret": "b0b-likes-ftp", "verdict": "refused", $FTP_REFUSED},
  {"kind": "ftp_login", "server": "[fd77::2]:21", "user": "bob", "secret": "b0b-likes-FTP", "verdict": "accepted", $FTP_ACCEPTED},
  {"kind": "ftp_login", "server": "10.77.0.2:21", "user": "anonymous", "secret": "mirror-bot@example.org", "verdict": "accepted", "severity": "medium", "evidence_has": ["FTP USER/PASS", "accepted by the server", "anonymous"]},
  {"kind": "ftp_login", "server": "10.77.0.2:21", "user": "admin", "secret": "${BRUTE[0]}", "secrets": $brute_json, "verdict": "refused", "count": 12, $FTP_REFUSED}
 ],
 "negatives": [
  "the AUTH TLS session of user tess (password tls-only-Tess-1): everything after AUTH TLS is ciphertext",
  "the passive data connections: a listing, a README, and notes.txt whose text contains the lines 'USER root' and 'PASS toor' (file content, not a login)"
 ]
}
EOF
}

# ---------------------------------------------------------------- Telnet
scenario_telnet() {
    # bob: wrong password, then the right one on the same connection, then `id`.
    $C expect -f - <<'EXP'
set timeout 10
log_user 0
spawn telnet 10.77.0.2 23
expect "login: "
foreach c [split "bob\r" ""] { send -- $c; sleep 0.05 }
expect "Password: "
foreach c [split "R0uter-Admin\r" ""] { send -- $c; sleep 0.05 }
expect "Login incorrect"
expect "login: "
foreach c [split "bob\r" ""] { send -- $c; sleep 0.05 }
expect "Password: "
foreach c [split "R0uter-Adm1n\r" ""] { send -- $c; sleep 0.05 }
expect "\$ "
foreach c [split "id\r" ""] { send -- $c; sleep 0.05 }
expect "uid=1001(bob)" {} timeout { exit 2 }
expect eof
EXP
    # carol: types Tulip-9875, erases the 5 with DEL (the Backspace key), types 6: password Tulip-9876.
    $C expect -f - <<'EXP'
set timeout 10
log_user 0
spawn telnet 10.77.0.2 23
expect "login: "
foreach c [split "carol\r" ""] { send -- $c; sleep 0.05 }
expect "Password: "
foreach c [split "Tulip-9875\x7f6\r" ""] { send -- $c; sleep 0.05 }
expect "\$ "
foreach c [split "id\r" ""] { send -- $c; sleep 0.05 }
expect "uid=1002(carol)" {} timeout { exit 2 }
expect eof
EXP
}

truth_telnet() {
    cat <<'EOF'
{
 "leaks": [
  {"kind": "telnet_login", "server": "10.77.0.2:23", "user": "bob", "secret": "R0uter-Admin", "verdict": "refused", "severity": "medium", "evidence_has": ["Telnet login prompt", "refused by the server"]},
  {"kind": "telnet_login", "server": "10.77.0.2:23", "user": "bob", "secret": "R0uter-Adm1n", "verdict": "accepted", "severity": "critical", "evidence_has": ["Telnet login prompt", "accepted by the server"]},
  {"kind": "telnet_login", "server": "10.77.0.2:23", "user": "carol", "secret": "Tulip-9876", "verdict": "accepted", "severity": "critical", "evidence_has": ["Telnet login prompt", "accepted by the server"]}
 ],
 "negatives": [
  "carol's password as typed, with the erased character: 'Tulip-9875', 'Tulip-98756' or a DEL byte inside the secret",
  "the server's echo of the user names and the shell output (uid=...): every byte is a separate segment in character mode"
 ]
}
EOF
}

# ---------------------------------------------------------------- POP3 / IMAP / SMTP
scenario_mail() {
    # POP3 USER/PASS accepted, then STAT and RETR (python poplib: curl would prefer SASL).
    $CPY - <<'PY'
import poplib
p = poplib.POP3("10.77.0.2", 110, timeout=5)
p.user("erin"); p.pass_("Erin-pop3-pass")
p.stat(); p.retr(1); p.quit()
PY
    # POP3 AUTH PLAIN accepted (curl, SASL).
    $CURL -u 'frank:frank-SASL-plain-5' --login-options AUTH=PLAIN pop3://10.77.0.2/ -o /dev/null
    # POP3 wrong password: -ERR.
    $CPY - <<'PY'
import poplib
p = poplib.POP3("10.77.0.2", 110, timeout=5)
p.user("erin")
try:
    p.pass_("Erin-pop3-guess")
    raise SystemExit("wrong password accepted")
except poplib.error_proto:
    pass
p.quit()
PY
    # IMAP LOGIN with a quoted password (python imaplib), and a refused LOGIN.
    $CPY - <<'PY'
import imaplib
m = imaplib.IMAP4("10.77.0.2", 143, timeout=5)
m.login("grace", 'Gr@ce "Hopper" 1906')
m.select("INBOX"); m.fetch("1", "(BODY[HEADER])"); m.logout()
m = imaplib.IMAP4("10.77.0.2", 143, timeout=5)
try:
    m.login("grace", "Grace-Hopper-1906")
    raise SystemExit("wrong password accepted")
except imaplib.IMAP4.error:
    pass
m.logout()
PY
    # IMAP AUTHENTICATE PLAIN with an initial response, and AUTHENTICATE LOGIN (curl).
    $CURL -u 'heidi:heidi-imap-IR-77' --login-options AUTH=PLAIN --sasl-ir 'imap://10.77.0.2/INBOX;UID=1' -o /dev/null
    $CURL -u 'ivan:ivan-auth-LOGIN-3' --login-options AUTH=LOGIN imap://10.77.0.2/ -o /dev/null
    # SMTP submission: AUTH PLAIN accepted (with a mail whose body looks like logins), AUTH LOGIN accepted,
    # AUTH LOGIN refused (535).
    printf 'From: judy@mail.lab\r\nTo: kim@mail.lab\r\nSubject: your new account\r\n\r\nHi Kim,\r\nyour new mailbox password is Summer-Sale-2026\r\nTo test it by hand:\r\nAUTH PLAIN AGtpbQBTdW1tZXItU2FsZS0yMDI2\r\nUSER kim\r\nPASS Summer-Sale-2026\r\n' >"$WORK/msg.eml"
    $CURL -u 'judy:judy-smtp-PLAIN-8' --login-options AUTH=PLAIN --mail-from judy@mail.lab --mail-rcpt kim@mail.lab \
        -T "$WORK/msg.eml" smtp://10.77.0.2:587/mail.lab
    $CURL -u 'kim:kim-smtp-LOGIN-2' --login-options AUTH=LOGIN --mail-from kim@mail.lab --mail-rcpt judy@mail.lab \
        -T "$WORK/msg2.eml" smtp://10.77.0.2:587/mail.lab
    expect_fail $CURL -u 'kim:kim-smtp-login-2' --login-options AUTH=LOGIN --mail-from kim@mail.lab --mail-rcpt judy@mail.lab \
        -T "$WORK/msg2.eml" smtp://10.77.0.2:587/mail.lab 2>/dev/null
    # STARTTLS everywhere, user tess: nothing readable after the upgrade.
    $CURL -k --ssl-reqd -u 'tess:tls-only-Tess-1' --login-options AUTH=PLAIN pop3://10.77.0.2/ -o /dev/null
    $CURL -k --ssl-reqd -u 'tess:tls-only-Tess-1' --login-options AUTH=PLAIN imap://10.77.0.2/ -o /dev/null
    $CURL -k --ssl-reqd -u 'tess:tls-only-Tess-1' --login-options AUTH=PLAIN --mail-from tess@mail.lab --mail-rcpt judy@mail.lab \
        -T "$WORK/msg2.eml" smtp://10.77.0.2:587/mail.lab
}

# dovecot and aiosmtpd offer STARTTLS. The client sees the offer in IMAP's greeting, in SMTP's EHLO
# answer and in POP3's CAPA answer, which curl asks for and poplib (erin) does not.
truth_mail() {
    local ok='"verdict": "accepted", "severity": "critical"' ko='"verdict": "refused", "severity": "medium"'
    local yes='"accepted by the server"' no='"refused by the server"' tls='"offered STARTTLS"'
    cat <<EOF
{
 "leaks": [
  {"kind": "pop3_login", "server": "10.77.0.2:110", "user": "erin", "secret": "Erin-pop3-pass", $ok, "evidence_has": ["POP3 USER/PASS", $yes]},
  {"kind": "pop3_login", "server": "10.77.0.2:110", "user": "frank", "secret": "frank-SASL-plain-5", $ok, "evidence_has": ["POP3 AUTH PLAIN", $yes, $tls]},
  {"kind": "pop3_login", "server": "10.77.0.2:110", "user": "erin", "secret": "Erin-pop3-guess", $ko, "evidence_has": ["POP3 USER/PASS", $no]},
  {"kind": "imap_login", "server": "10.77.0.2:143", "user": "grace", "secret": "Gr@ce \"Hopper\" 1906", $ok, "evidence_has": ["IMAP LOGIN", $yes, $tls]},
  {"kind": "imap_login", "server": "10.77.0.2:143", "user": "grace", "secret": "Grace-Hopper-1906", $ko, "evidence_has": ["IMAP LOGIN", $no, $tls]},
  {"kind": "imap_login", "server": "10.77.0.2:143", "user": "heidi", "secret": "heidi-imap-IR-77", $ok, "evidence_has": ["IMAP AUTHENTICATE PLAIN", $yes, $tls]},
  {"kind": "imap_login", "server": "10.77.0.2:143", "user": "ivan", "secret": "ivan-auth-LOGIN-3", $ok, "evidence_has": ["IMAP AUTHENTICATE LOGIN", $yes, $tls]},
  {"kind": "smtp_auth", "server": "10.77.0.2:587", "user": "judy", "secret": "judy-smtp-PLAIN-8", $ok, "evidence_has": ["SMTP AUTH PLAIN", $yes, $tls]},
  {"kind": "smtp_auth", "server": "10.77.0.2:587", "user": "kim", "secret": "kim-smtp-LOGIN-2", $ok, "evidence_has": ["SMTP AUTH LOGIN", $yes, $tls]},
  {"kind": "smtp_auth", "server": "10.77.0.2:587", "user": "kim", "secret": "kim-smtp-login-2", $ko, "evidence_has": ["SMTP AUTH LOGIN", $no, $tls]}
 ],
EOF
    cat <<'EOF'
 "negatives": [
  "the POP3 STLS, IMAP STARTTLS and SMTP STARTTLS sessions of user tess (password tls-only-Tess-1): the AUTH PLAIN is inside TLS",
  "the SMTP mail body of judy's message: it contains 'password is Summer-Sale-2026', an 'AUTH PLAIN AGtpbQBTdW1tZXItU2FsZS0yMDI2' line and 'USER kim' / 'PASS Summer-Sale-2026' lines, all DATA, not a login",
  "the mailbox contents fetched by POP3 RETR and IMAP FETCH",
  "grace's IMAP password in its quoted wire form '\"Gr@ce \\\"Hopper\\\" 1906\"' (the secret is the unquoted string)"
 ]
}
EOF
}

# ---------------------------------------------------------------- tiny segments
MSS=${MSS:-36}
scenario_tiny_segments() {
    ip -n "$SRV" route change 10.77.0.0/24 dev "$VS" advmss "$MSS"
    ip -n "$CLI" route change 10.77.0.0/24 dev "$VC" advmss "$MSS"
    $CURL -u 'alice:Ftp-Alice-2024!' ftp://10.77.0.2/pub/ -o /dev/null
    $CPY - <<'PY'
import imaplib
m = imaplib.IMAP4("10.77.0.2", 143, timeout=5)
m.login("grace", 'Gr@ce "Hopper" 1906')
m.logout()
PY
    $CURL -u 'judy:judy-smtp-PLAIN-8' --login-options AUTH=PLAIN --mail-from judy@mail.lab --mail-rcpt kim@mail.lab \
        -T "$WORK/msg2.eml" smtp://10.77.0.2:587/mail.lab
    ip -n "$SRV" route change 10.77.0.0/24 dev "$VS"
    ip -n "$CLI" route change 10.77.0.0/24 dev "$VC"
}

truth_tiny_segments() {
    cat <<EOF
{
 "leaks": [
  {"kind": "ftp_login", "server": "10.77.0.2:21", "user": "alice", "secret": "Ftp-Alice-2024!", "verdict": "accepted", $FTP_ACCEPTED},
  {"kind": "imap_login", "server": "10.77.0.2:143", "user": "grace", "secret": "Gr@ce \"Hopper\" 1906", "verdict": "accepted", "severity": "critical", "evidence_has": ["IMAP LOGIN", "accepted by the server", "offered STARTTLS"]},
  {"kind": "smtp_auth", "server": "10.77.0.2:587", "user": "judy", "secret": "judy-smtp-PLAIN-8", "verdict": "accepted", "severity": "critical", "evidence_has": ["SMTP AUTH PLAIN", "accepted by the server", "offered STARTTLS"]}
 ],
 "negatives": [
  "every command, reply and secret is split across several segments (MSS $MSS on both sides)"
 ]
}
EOF
}

printf 'From: kim@mail.lab\r\nTo: judy@mail.lab\r\nSubject: thanks\r\n\r\nGot it.\r\n' >"$WORK/msg2.eml"
ALL=(ftp telnet mail tiny_segments)
for name in "${@:-${ALL[@]}}"; do
    record "$name" "scenario_$name"
    "truth_$name" | $PY -c 'import json,sys; json.dump(json.load(sys.stdin), sys.stdout, indent=1, ensure_ascii=False); print()' \
        >"$OUT/$name.truth.json"
done
