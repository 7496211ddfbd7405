#!/usr/bin/env bash
# Captures of the classic cleartext protocols, made with REAL servers and REAL clients from Debian:
#   ldap (slapd + ldapsearch)        snmp (snmpd + snmpget)         redis (redis-server + redis-cli)
#   mqtt (mosquitto + mosquitto_pub) postgres (postgres + psql)     socks5 (dante + curl)
#   proxy (tinyproxy + curl)
# The servers run in the server namespace (10.77.0.2), the clients in the client namespace (10.77.0.1),
# tcpdump records on the server veth. Nothing leaves the two namespaces; every config and data file lives
# in a temporary directory; everything (namespaces, servers, the temporary system user for dante) is
# removed on exit. Needs root.
#   sudo captures/gen/gen_services.sh             all scenarios
#   sudo captures/gen/gen_services.sh ldap redis  some of them
# Each capture NAME.pcap gets NAME.truth.json (see captures/README.md). Every password is fixed, so the
# truth files do not change from one run to the next (the pcap bytes do: ports, times, TLS keys).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$ROOT/captures"
[[ $(id -u) -eq 0 ]] || { echo "needs root: sudo $0 $*" >&2; exit 1; }
"$HERE/setup.sh"

ALL=(ldap snmp redis mqtt postgres socks5 proxy)
for name in "$@"; do
    [[ " ${ALL[*]} " == *" $name "* ]] || { echo "unknown scenario: $name (know: ${ALL[*]})" >&2; exit 2; }
done
WANT=("${@:-${ALL[@]}}")

# --- packages: install only what is missing (services must not start outside the namespaces) -------------
declare -A PKGS=([ldap]="slapd ldap-utils" [snmp]="snmpd snmp" [redis]="redis-server redis-tools"
    [mqtt]="mosquitto mosquitto-clients" [postgres]="postgresql postgresql-client" [socks5]="dante-server"
    [proxy]="tinyproxy")
source "$HERE/packages.sh"
install_scenarios "${WANT[@]}"

PREFIX=psgb
source "$HERE/netns.sh"
source "$HERE/steps.sh"
WORK="$(mktemp -d)"
chmod 755 "$WORK" # the postgres user must reach its data directory inside
SOCKS_USER=pssocks
SOCKS_USER_MADE=
cleanup() {
    # Stop every server and client and wait until they are gone (postgres, dante's children), so that
    # nothing still runs from the temporary directory when it is removed.
    netns_drain
    netns_down
    if [[ -n $SOCKS_USER_MADE ]]; then userdel "$SOCKS_USER" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

netns_up
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=services.lab" \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1

# --- helpers ---------------------------------------------------------------------------------------------

# In the truth, severity follows the documented rules (README "Severity"): critical for a password the
# server did not refuse, medium for a refused one and for hash-only material. `evidence_has`: phrases the
# alert's evidence must contain (case-insensitive): the mechanism and the server's verdict.
OK='"verdict": "accepted", "severity": "critical"'
KO='"verdict": "refused", "severity": "medium"'
YES='"accepted by the server"'
NO='"refused by the server"'

# Every listed secret must really be in the capture (as sent on the wire), every "absent" string must not.
check() { # name, then strings that must NOT appear anywhere in the capture
    python3 - "$OUT/$1.pcap" "$OUT/$1.truth.json" "${@:2}" <<'PY'
import base64, json, sys
raw = open(sys.argv[1], "rb").read()
t = json.load(open(sys.argv[2]))
bad = []
for l in t["leaks"]:
    s = l["secret"].encode()
    if l["kind"] == "http_proxy_basic":
        s = base64.b64encode(f'{l["user"]}:{l["secret"]}'.encode())
    if s not in raw:
        bad.append(f"leak not in capture: {l}")
    # Redis `AUTH password` names no user on the wire: it is the `default` user.
    implied = l["kind"] == "redis_auth" and l.get("user") == "default"
    if l.get("user") and l["user"].encode() not in raw and l["kind"] != "http_proxy_basic" and not implied:
        bad.append(f"user not in capture: {l}")
for a in sys.argv[3:]:
    if a.encode() in raw:
        bad.append(f"must be absent but is in the capture: {a}")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PY
}

# --- LDAP: slapd (mdb, suffix dc=lab) on 389 and 3890, StartTLS with a self-signed cert --------------------
LDAP_ADMIN_PW='Ldap-Adm1n-secret'
LDAP_ALICE_PW='Alice-ldap-pass-7'
LDAP_BOB_PW='Bob-starttls-only-9'
start_ldap() {
    local d="$WORK/ldap"
    mkdir -p "$d/db"
    cat >"$d/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile $d/slapd.pid
argsfile $d/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCertificateFile $WORK/cert.pem
TLSCertificateKeyFile $WORK/key.pem
database mdb
maxsize 10485760
suffix "dc=lab"
rootdn "cn=admin,dc=lab"
rootpw $LDAP_ADMIN_PW
directory $d/db
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
EOF
    cat >"$d/base.ldif" <<EOF
dn: dc=lab
objectClass: dcObject
objectClass: organization
dc: lab
o: Lab

dn: ou=people,dc=lab
objectClass: organizationalUnit
ou: people

dn: uid=alice,ou=people,dc=lab
objectClass: inetOrgPerson
uid: alice
cn: Alice
sn: Lab
userPassword: $LDAP_ALICE_PW

dn: uid=bob,ou=people,dc=lab
objectClass: inetOrgPerson
uid: bob
cn: Bob
sn: Lab
userPassword: $LDAP_BOB_PW
EOF
    slapadd -q -f "$d/slapd.conf" -l "$d/base.ldif" 2>>"$WORK/ldap.log"
    $S slapd -f "$d/slapd.conf" -h "ldap://10.77.0.2:389/ ldap://10.77.0.2:3890/" -d 0 >>"$WORK/ldap.log" 2>&1 &
    wait_tcp 389; wait_tcp 3890
}
scenario_ldap() {
    local q=(ldapsearch -LLL -x -b dc=lab)
    ok $C "${q[@]}" -H ldap://10.77.0.2 -D cn=admin,dc=lab -w "$LDAP_ADMIN_PW" '(uid=alice)' cn
    ko $C "${q[@]}" -H ldap://10.77.0.2 -D uid=alice,ou=people,dc=lab -w 'not-alices-password' '(uid=alice)' cn
    ok $C "${q[@]}" -H ldap://10.77.0.2 '(objectClass=organizationalUnit)' ou
    ok $C env LDAPTLS_REQCERT=never "${q[@]}" -ZZ -H ldap://10.77.0.2 -D uid=bob,ou=people,dc=lab -w "$LDAP_BOB_PW" '(uid=bob)' cn
    ok $C "${q[@]}" -H ldap://10.77.0.2:3890 -D uid=alice,ou=people,dc=lab -w "$LDAP_ALICE_PW" '(uid=alice)' cn
}
truth_ldap() {
    truth ldap <<EOF
{"leaks": [
  {"kind": "ldap_simple_bind", "server": "10.77.0.2:389", "user": "cn=admin,dc=lab", "secret": "$LDAP_ADMIN_PW", $OK, "evidence_has": ["LDAP simple bind", $YES]},
  {"kind": "ldap_simple_bind", "server": "10.77.0.2:389", "user": "uid=alice,ou=people,dc=lab", "secret": "not-alices-password", $KO, "evidence_has": ["LDAP simple bind", $NO]},
  {"kind": "ldap_simple_bind", "server": "10.77.0.2:3890", "user": "uid=alice,ou=people,dc=lab", "secret": "$LDAP_ALICE_PW", $OK, "evidence_has": ["LDAP simple bind", $YES]}
 ],
 "negatives": [
  "the anonymous bind (empty DN, empty password) of ldapsearch -x without -D on 10.77.0.2:389",
  "the StartTLS session on 10.77.0.2:389 (ExtendedRequest 1.3.6.1.4.1.1466.20037, then TLS): the bind of uid=bob,ou=people,dc=lab ($LDAP_BOB_PW) is encrypted",
  "the userPassword attributes: access rules keep them out of every search result"
 ]}
EOF
    check ldap "$LDAP_BOB_PW" "uid=bob,ou=people"
}

# --- SNMP: snmpd with a read-only and a read-write community and an SNMPv3 user ---------------------------
SNMP_RO='lab-ro-C0mmunity'
SNMP_RW='lab-rw-C0mmunity'
SNMP_WRONG='guessed-community'
start_snmp() {
    local d="$WORK/snmp"
    mkdir -p "$d/persist"
    cat >"$d/snmpd.conf" <<EOF
[snmp] persistentDir $d/persist
agentaddress udp:10.77.0.2:161
rocommunity $SNMP_RO 10.77.0.0/24
rwcommunity $SNMP_RW 10.77.0.0/24
createUser psv3user SHA "Snmpv3-auth-pass" AES "Snmpv3-priv-pass"
rouser psv3user priv
sysDescr lab SNMP agent (net-snmp)
sysName agent.services.lab
sysLocation lab rack 7
sysContact lab@services.lab
EOF
    # The address comes from agentaddress only: naming it again on the command line fails to bind twice.
    MIBS= SNMP_PERSISTENT_DIR="$d/persist" $S snmpd -f -Lo -C -c "$d/snmpd.conf" -p "$d/snmpd.pid" \
        >>"$WORK/snmp.log" 2>&1 &
    for _ in $(seq 1 100); do
        $C snmpget -m '' -v2c -c "$SNMP_RO" -t 0.2 -r 0 10.77.0.2 1.3.6.1.2.1.1.3.0 >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "snmpd did not come up" >&2; return 1
}
scenario_snmp() {
    local g=(snmpget -m '' -t 1 -r 0 10.77.0.2)
    ok $C "${g[@]}" -v1 -c "$SNMP_RO" 1.3.6.1.2.1.1.1.0
    ok $C "${g[@]}" -v2c -c "$SNMP_RW" 1.3.6.1.2.1.1.5.0 1.3.6.1.2.1.1.6.0
    ko $C "${g[@]}" -v2c -c "$SNMP_WRONG" 1.3.6.1.2.1.1.1.0
    ok $C "${g[@]}" -v3 -l authPriv -u psv3user -a SHA -A "Snmpv3-auth-pass" -x AES -X "Snmpv3-priv-pass" 1.3.6.1.2.1.1.1.0
}
# The agent drops the wrong community without an answer: on the wire it is not refused (verdict unknown),
# so it is critical like any password the server did not refuse.
truth_snmp() {
    truth snmp <<EOF
{"leaks": [
  {"kind": "snmp_community", "server": "10.77.0.2:161", "user": null, "secret": "$SNMP_RO", $OK, "evidence_has": ["SNMP community v1", $YES]},
  {"kind": "snmp_community", "server": "10.77.0.2:161", "user": null, "secret": "$SNMP_RW", $OK, "evidence_has": ["SNMP community v2c", $YES]},
  {"kind": "snmp_community", "server": "10.77.0.2:161", "user": null, "secret": "$SNMP_WRONG", "verdict": "unknown", "severity": "critical", "evidence_has": ["SNMP community v2c", "no answer"]}
 ],
 "negatives": [
  "the SNMPv3 authPriv exchange of user psv3user (engine discovery, then an encrypted scoped PDU): no community; the user name is in clear but no password is",
  "the agent's answers (GetResponse) carry the same community back: they are not a second leak"
 ]}
EOF
    check snmp "Snmpv3-auth-pass" "Snmpv3-priv-pass"
}

# --- Redis: requirepass (the default user) and two ACL users -------------------------------------------------
REDIS_PASS='Redis-requirepass-1'
REDIS_ALICE_PW='Alice-redis-ACL-2'
REDIS_BOB_PW='Bob-redis-HELLO-3'
start_redis() {
    local d="$WORK/redis"
    mkdir -p "$d"
    cat >"$d/redis.conf" <<EOF
port 6379
bind 10.77.0.2
requirepass $REDIS_PASS
user alice on >$REDIS_ALICE_PW ~* &* +@all
user bob on >$REDIS_BOB_PW ~* &* +@all
dir $d
save ""
appendonly no
daemonize no
logfile ""
EOF
    $S redis-server "$d/redis.conf" >>"$WORK/redis.log" 2>&1 &
    wait_tcp 6379
}
scenario_redis() {
    local r=(redis-cli -h 10.77.0.2 -p 6379 --no-auth-warning)
    ok $C "${r[@]}" -a "$REDIS_PASS" PING
    # redis-cli exits 0 even when AUTH fails; the reply says WRONGPASS.
    local reply
    reply=$($C "${r[@]}" -a 'wrong-redis-pass' PING 2>&1 || true)
    echo "$reply" >>"$WORK/clients.log"
    [[ $reply == *WRONGPASS* ]] || { echo "redis took the wrong password: $reply" >&2; exit 1; }
    ok $C "${r[@]}" --user alice --pass "$REDIS_ALICE_PW" SET greeting 'AUTH is not a password here'
    ok $C python3 - "$REDIS_BOB_PW" <<'PY'
import socket, sys
def cmd(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out
s = socket.create_connection(("10.77.0.2", 6379))
s.sendall(cmd("HELLO", "3", "AUTH", "bob", sys.argv[1], "SETNAME", "lab-hello"))
data = s.recv(65536)
assert data.startswith(b"%"), data  # a RESP3 map: accepted
s.sendall(cmd("GET", "greeting"))
s.recv(65536)
s.sendall(cmd("QUIT"))
s.recv(65536)
s.close()
PY
}
truth_redis() {
    truth redis <<EOF
{"leaks": [
  {"kind": "redis_auth", "server": "10.77.0.2:6379", "user": "default", "secret": "$REDIS_PASS", $OK, "evidence_has": ["Redis AUTH", $YES]},
  {"kind": "redis_auth", "server": "10.77.0.2:6379", "user": "default", "secret": "wrong-redis-pass", $KO, "evidence_has": ["Redis AUTH", $NO]},
  {"kind": "redis_auth", "server": "10.77.0.2:6379", "user": "alice", "secret": "$REDIS_ALICE_PW", $OK, "evidence_has": ["Redis AUTH", $YES]},
  {"kind": "redis_auth", "server": "10.77.0.2:6379", "user": "bob", "secret": "$REDIS_BOB_PW", $OK, "evidence_has": ["Redis HELLO AUTH", $YES]}
 ],
 "negatives": [
  "SET greeting 'AUTH is not a password here': a value that contains AUTH, inside a SET command",
  "GET greeting by the HELLO client and its reply (the same value)"
 ]}
EOF
    check redis
}

# --- MQTT: mosquitto with a password file, anonymous refused ----------------------------------------------------
MQTT_S1_PW='Mqtt-sensor1-pw'
MQTT_S2_PW='Mqtt-v5-sensor2-pw'
start_mqtt() {
    local d="$WORK/mqtt"
    mkdir -p "$d"
    touch "$d/passwd"; chmod 600 "$d/passwd"
    mosquitto_passwd -b "$d/passwd" sensor1 "$MQTT_S1_PW"
    mosquitto_passwd -b "$d/passwd" sensor2 "$MQTT_S2_PW"
    cat >"$d/mosquitto.conf" <<EOF
user root
listener 1883 10.77.0.2
allow_anonymous false
password_file $d/passwd
persistence false
log_dest stdout
EOF
    $S mosquitto -c "$d/mosquitto.conf" >>"$WORK/mqtt.log" 2>&1 &
    wait_tcp 1883
}
scenario_mqtt() {
    local p=(mosquitto_pub -h 10.77.0.2 -p 1883 -t lab/temperature -m 21.5)
    ok $C "${p[@]}" -V mqttv311 -i lab-sensor1 -u sensor1 -P "$MQTT_S1_PW"
    ok $C "${p[@]}" -V mqttv5 -i lab-sensor2 -u sensor2 -P "$MQTT_S2_PW"
    ko $C "${p[@]}" -V mqttv311 -i lab-sensor1 -u sensor1 -P 'wrong-mqtt-pass'
    ko $C "${p[@]}" -V mqttv311 -i lab-anonymous
}
truth_mqtt() {
    truth mqtt <<EOF
{"leaks": [
  {"kind": "mqtt_connect", "server": "10.77.0.2:1883", "user": "sensor1", "secret": "$MQTT_S1_PW", $OK, "evidence_has": ["MQTT CONNECT", $YES]},
  {"kind": "mqtt_connect", "server": "10.77.0.2:1883", "user": "sensor2", "secret": "$MQTT_S2_PW", $OK, "evidence_has": ["MQTT CONNECT", $YES]},
  {"kind": "mqtt_connect", "server": "10.77.0.2:1883", "user": "sensor1", "secret": "wrong-mqtt-pass", $KO, "evidence_has": ["MQTT CONNECT", $NO]}
 ],
 "negatives": [
  "the CONNECT of client lab-anonymous without user name or password (refused by CONNACK 5, not authorised)",
  "the PUBLISH payload 21.5 on lab/temperature"
 ]}
EOF
    check mqtt
}

# --- PostgreSQL: cleartext, md5 and SCRAM logins, and one over TLS ------------------------------------------------
PG_CLEAR_PW='Pg-cleartext-pass-1'
PG_MD5_PW='Pg-md5-pass-2'
PG_SCRAM_PW='Pg-scram-pass-3'
PG_TLS_PW='Pg-tls-pass-4'
start_postgres() {
    local d="$WORK/pg" bin
    bin="/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -V | tail -1)/bin"
    mkdir -p "$d/sock"
    cp "$WORK/cert.pem" "$WORK/key.pem" "$d/"
    chmod 600 "$d/key.pem"
    chown -R postgres: "$d"
    local PGU=(runuser -u postgres --)
    (cd / && "${PGU[@]}" "$bin/initdb" -D "$d/data" -U postgres -A trust >>"$WORK/pg.log" 2>&1)
    cat >>"$d/data/postgresql.conf" <<EOF
listen_addresses = '10.77.0.2'
port = 5432
unix_socket_directories = '$d/sock'
ssl = on
ssl_cert_file = '$d/cert.pem'
ssl_key_file = '$d/key.pem'
password_encryption = 'scram-sha-256'
EOF
    cat >"$d/data/pg_hba.conf" <<EOF
local     all    postgres                 trust
hostnossl appdb  app_clear  10.77.0.1/32  password
hostnossl appdb  app_md5    10.77.0.1/32  md5
hostnossl appdb  app_scram  10.77.0.1/32  scram-sha-256
hostssl   appdb  app_tls    10.77.0.1/32  password
EOF
    (cd / && $S "${PGU[@]}" "$bin/postgres" -D "$d/data" >>"$WORK/pg.log" 2>&1) &
    for _ in $(seq 1 200); do
        (cd / && $S "${PGU[@]}" "$bin/pg_isready" -q -h "$d/sock") && break
        sleep 0.1
    done
    (cd / && $S "${PGU[@]}" psql -q -v ON_ERROR_STOP=1 -h "$d/sock" -d postgres >>"$WORK/pg.log" 2>&1) <<EOF
CREATE DATABASE appdb;
CREATE ROLE app_clear LOGIN PASSWORD '$PG_CLEAR_PW';
SET password_encryption = 'md5';
CREATE ROLE app_md5 LOGIN PASSWORD '$PG_MD5_PW';
RESET password_encryption;
CREATE ROLE app_scram LOGIN PASSWORD '$PG_SCRAM_PW';
CREATE ROLE app_tls LOGIN PASSWORD '$PG_TLS_PW';
EOF
    wait_tcp 5432
}
pg() { # user password sslmode
    $C env PGPASSWORD="$2" PGCONNECT_TIMEOUT=5 psql -w -X -q \
        "host=10.77.0.2 port=5432 dbname=appdb user=$1 sslmode=$3 application_name=lab" -c 'SELECT current_user'
}
scenario_postgres() {
    ok pg app_clear "$PG_CLEAR_PW" disable
    ko pg app_clear 'wrong-pg-pass' disable
    ok pg app_md5 "$PG_MD5_PW" disable
    ok pg app_scram "$PG_SCRAM_PW" disable
    ok pg app_tls "$PG_TLS_PW" require
}
truth_postgres() {
    truth postgres <<EOF
{"leaks": [
  {"kind": "postgres_cleartext", "server": "10.77.0.2:5432", "user": "app_clear", "secret": "$PG_CLEAR_PW", $OK, "evidence_has": ["Postgres password message", $YES]},
  {"kind": "postgres_cleartext", "server": "10.77.0.2:5432", "user": "app_clear", "secret": "wrong-pg-pass", $KO, "evidence_has": ["Postgres password message", $NO]}
 ],
 "hash_only": [
  {"server": "10.77.0.2:5432", "user": "app_md5", "mechanism": "md5", "severity": "medium", "evidence_has": ["Postgres md5", "hash only", $YES]},
  {"server": "10.77.0.2:5432", "user": "app_scram", "mechanism": "SCRAM-SHA-256", "severity": "medium", "evidence_has": ["Postgres SCRAM-SHA-256", "hash only", $YES]}
 ],
 "negatives": [
  "the sslmode=require login of app_tls: SSLRequest, then TLS; its cleartext password ($PG_TLS_PW) is inside the TLS session",
  "the md5 and SCRAM-SHA-256 logins must not be reported as postgres_cleartext: no password crosses, only a hash or a proof",
  "the queries SELECT current_user and their results"
 ]}
EOF
    check postgres "$PG_TLS_PW" "$PG_MD5_PW" "$PG_SCRAM_PW"
}

# --- a tiny HTTP target behind the proxies --------------------------------------------------------------------------
TARGET_UP=
start_target() {
    [[ -n $TARGET_UP ]] && return 0
    mkdir -p "$WORK/www"; echo "behind the proxy" >"$WORK/www/index.html"
    $S python3 -m http.server 8000 --bind 10.77.0.2 --directory "$WORK/www" >>"$WORK/target.log" 2>&1 &
    wait_tcp 8000
    TARGET_UP=1
}

# --- SOCKS5: dante with username/password against a temporary system user -------------------------------------------
SOCKS_PW='Socks5-pass-1'
start_socks5() {
    start_target
    if id "$SOCKS_USER" >/dev/null 2>&1; then
        echo "user $SOCKS_USER exists already: remove it (userdel $SOCKS_USER) and run again" >&2; exit 1
    fi
    useradd -M -d /nonexistent -s /usr/sbin/nologin "$SOCKS_USER"
    SOCKS_USER_MADE=1
    echo "$SOCKS_USER:$SOCKS_PW" | chpasswd
    cat >"$WORK/danted.conf" <<EOF
logoutput: stderr
internal: 10.77.0.2 port = 1080
external: 10.77.0.2
clientmethod: none
socksmethod: username
user.privileged: root
user.unprivileged: nobody
client pass { from: 10.77.0.0/24 to: 0.0.0.0/0 }
socks pass { from: 10.77.0.0/24 to: 10.77.0.2/32 port = 8000 command: connect }
EOF
    $S danted -f "$WORK/danted.conf" -p "$WORK/danted.pid" >>"$WORK/socks5.log" 2>&1 &
    wait_tcp 1080
}
scenario_socks5() {
    ok $C curl -sf -o /dev/null --socks5 "$SOCKS_USER:$SOCKS_PW@10.77.0.2:1080" http://10.77.0.2:8000/
    ko $C curl -sf -o /dev/null --socks5 "$SOCKS_USER:wrong-socks-pass@10.77.0.2:1080" http://10.77.0.2:8000/
}
truth_socks5() {
    truth socks5 <<EOF
{"leaks": [
  {"kind": "socks5_login", "server": "10.77.0.2:1080", "user": "$SOCKS_USER", "secret": "$SOCKS_PW", $OK, "evidence_has": ["SOCKS5 username/password", $YES]},
  {"kind": "socks5_login", "server": "10.77.0.2:1080", "user": "$SOCKS_USER", "secret": "wrong-socks-pass", $KO, "evidence_has": ["SOCKS5 username/password", $NO]}
 ],
 "negatives": [
  "the proxied HTTP request GET / to 10.77.0.2:8000 inside the accepted SOCKS5 tunnel: no credentials"
 ]}
EOF
    check socks5
}

# --- HTTP proxy: tinyproxy with BasicAuth ---------------------------------------------------------------------------------
PROXY_USER='proxyuser'
PROXY_PW='Proxy-basic-pass-1'
start_proxy() {
    start_target
    cat >"$WORK/tinyproxy.conf" <<EOF
User nobody
Group nogroup
Port 8888
Listen 10.77.0.2
Timeout 30
MaxClients 10
LogLevel Info
BasicAuth $PROXY_USER $PROXY_PW
Allow 10.77.0.0/24
EOF
    $S tinyproxy -d -c "$WORK/tinyproxy.conf" >>"$WORK/proxy.log" 2>&1 &
    wait_tcp 8888
}
scenario_proxy() {
    ok $C curl -sf -o /dev/null -x "http://$PROXY_USER:$PROXY_PW@10.77.0.2:8888" http://10.77.0.2:8000/
    # tinyproxy 1.11 answers wrong credentials with 401 Unauthorized (and WWW-Authenticate), missing ones
    # with 407 Proxy Authentication Required: both are refusals.
    proxy_code "http://$PROXY_USER:wrong-proxy-pass@10.77.0.2:8888" 401
    proxy_code "http://10.77.0.2:8888" 407
}
proxy_code() { # proxy URL, expected status
    local code
    code=$($C curl -s -o /dev/null -w '%{http_code}' -x "$1" http://10.77.0.2:8000/)
    [[ $code == "$2" ]] || { echo "tinyproxy answered $code, not $2, through $1" >&2; exit 1; }
}
truth_proxy() {
    truth proxy <<EOF
{"leaks": [
  {"kind": "http_proxy_basic", "server": "10.77.0.2:8888", "user": "$PROXY_USER", "secret": "$PROXY_PW", $OK, "evidence_has": ["proxy Basic authentication", "accepted by the proxy"]},
  {"kind": "http_proxy_basic", "server": "10.77.0.2:8888", "user": "$PROXY_USER", "secret": "wrong-proxy-pass", $KO, "evidence_has": ["proxy Basic authentication", "refused by the proxy"]}
 ],
 "negatives": [
  "the wrong credentials are refused by tinyproxy with 401 Unauthorized (WWW-Authenticate), not 407: the verdict is refused all the same",
  "a request through the proxy without Proxy-Authorization, refused with 407 Proxy Authentication Required and a Proxy-Authenticate challenge: no credentials",
  "the forwarded request from tinyproxy to 10.77.0.2:8000 goes over the loopback: it is not in the capture"
 ]}
EOF
    check proxy
}

for name in "${WANT[@]}"; do
    "start_$name"
    record "$name"
    "truth_$name"
done
