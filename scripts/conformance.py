#!/usr/bin/env python3
"""Conformance of plainsight against the public corpus in ../shared/corpus (skips if absent).

For every MANIFEST.tsv row of the categories cred-*, negative-* and precision-*, runs
`plainsight read --reveal --alerts -` and compares what it found with the hand-written
`expected_findings` column, then prints a table per category and the rows that differ.

The expected column is free text ("BASIC user=test pass=fail ; COOKIE tracking only ..."); it is read
segment by segment (split on ' ; '), the first word naming the kind:
  BASIC -> basic_auth (pass= checked), BEARER -> bearer_jwt/bearer_opaque (token= checked),
  DIGEST / AUTH-UNKNOWN -> other_auth, COOKIE -> cookie_token (unless tracking/not-auth),
  FORM -> form_login (unless empty / no secret), URL -> url_token, JSON -> json_login,
  FTP -> ftp_login, TELNET -> telnet_login, POP3 -> pop3_login, IMAP -> imap_login, SMTP -> smtp_auth,
  LDAP -> ldap_simple_bind, SNMP -> snmp_community, REDIS -> redis_auth, MQTT -> mqtt_connect,
  SOCKS5 -> socks5_login (pass=/password=/community= checked; "NO PASS", "no password", "without AUTH"
  expect nothing), NTLM / MYSQL / PGSQL -> hash-only material: no password or token may be reported,
  NONE -> nothing expected from that segment.
A row passes when every expected kind is found (with its secret when the text gives one) and, when
nothing is expected, nothing is reported (material only, for the hash rows). Usage: scripts/conformance.py [path/to/plainsight]
"""
import csv
import json
import os
import re
import subprocess
import sys
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "..", "shared", "corpus")
CATS = ("cred-", "negative-", "precision-")
PROTO_KINDS = {"FTP": "ftp_login", "TELNET": "telnet_login", "POP3": "pop3_login", "IMAP": "imap_login",
               "SMTP": "smtp_auth", "LDAP": "ldap_simple_bind", "SNMP": "snmp_community",
               "REDIS": "redis_auth", "MQTT": "mqtt_connect", "SOCKS5": "socks5_login"}
HASH_WORDS = ("NTLM", "MYSQL", "PGSQL", "NETNTLMV1")
PROTO_NOTHING = ("no pass", "no password", "without auth", "empty argument", "username-only",
                 "announced but never", "no credentials", "empty password", "(anonymous")
NEGATIVE_HINTS = ("tracking", "not session", "not auth", "not a credential", "no secret", "(empty",
                  "no credentials", "no password", "preferences", "not count")

def expectations(text):
    exp = []  # (kind-set, secret or None)
    for seg in [s.strip().strip('"') for s in text.split(" ; ")]:
        if not seg:
            continue
        word = seg.split()[0].upper()
        low = seg.lower()
        secret = None
        m = re.search(r"\bpass(?:word)?=(\S+)", seg, re.I)
        if word == "BASIC":
            if m:
                secret = m.group(1)
            else:
                m2 = re.search(r"BASIC (\S+?):(\S+)", seg)
                secret = m2.group(2) if m2 else None
            if "(401)" in seg:
                secret = None  # refused attempts fold into one alert (the earliest stands for them)
            exp.append(({"basic_auth"}, secret))
        elif word == "BEARER":
            m = re.search(r"token=(\S+)", seg)
            exp.append(({"bearer_jwt", "bearer_opaque"}, m.group(1) if m else None))
        elif word in ("DIGEST", "AUTH-UNKNOWN"):
            exp.append(({"other_auth"}, None))
        elif word == "COOKIE":
            if not any(h in low for h in NEGATIVE_HINTS):
                exp.append(({"cookie_token"}, None))
        elif word == "FORM":
            if not any(h in low for h in NEGATIVE_HINTS) and m and m.group(1) not in ("(empty)",):
                exp.append(({"form_login", "json_login"}, m.group(1)))
        elif word == "URL":
            exp.append(({"url_token"}, None))
        elif word == "JSON" and "password" in low:
            exp.append(({"json_login"}, None))
        elif word in PROTO_KINDS:
            if any(h in low for h in PROTO_NOTHING):
                continue
            m = re.search(r"\b(?:pass(?:word)?|community)=(\"?)(.+?)\1(?=\s|$|\))", seg, re.I)
            if m:
                secret = m.group(2)
            elif word == "REDIS":
                m = re.search(r"AUTH \S+?/(\S+)", seg)
                secret = m.group(1) if m else None
            elif word == "POP3" and "BEARER" in seg:
                m = re.search(r"BEARER (\S+)", seg)
                secret = m.group(1) if m else None
            else:
                m = re.search(r" / (\S+)", seg)
                secret = m.group(1) if m else None
            if "brute force" in low or (secret and ".." in secret and not secret.endswith("...")):
                secret = None  # a brute force: one alert of refused attempts, no single password
            exp.append(({PROTO_KINDS[word]}, secret))
    return exp

def hash_only(text):
    """Rows whose credentials are hashes or challenge responses only."""
    return any(s.strip().strip('"').split(" ")[0].upper().rstrip(":") in HASH_WORDS
               for s in text.split(" ; ") if s.strip())

def run(binary, path):
    p = subprocess.run([binary, "read", "-q", "--reveal", "--no-report", "--alerts", "-", path],
                       capture_output=True, text=True, timeout=120)
    alerts = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    return p.returncode, alerts

def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "plainsight")
    manifest = os.path.join(CORPUS, "MANIFEST.tsv")
    if not os.path.isfile(manifest):
        print("skipped: ../shared/corpus is absent")
        return 0
    rows = list(csv.DictReader(open(manifest), delimiter="\t"))
    per_cat = defaultdict(lambda: [0, 0, 0, 0])  # rows, passed, expected kinds found/total
    found_total = [0, 0]
    misses = []
    for r in rows:
        cat = r["category"]
        if not cat.startswith(CATS):
            continue
        path = os.path.join(CORPUS, r["file"])
        if not os.path.isfile(path):
            continue
        code, alerts = run(binary, path)
        exp = expectations(r["expected_findings"])
        kinds = [a["kind"] for a in alerts]
        secrets = {a["secret"] for a in alerts}
        ok = code in (0, 2)
        hit = 0
        for ks, secret in exp:
            if secret and secret.endswith("..."):  # the manifest cut a long value short
                known = any(x.startswith(secret[:-3]) for x in secrets)
            else:
                known = secret is None or secret in secrets
            good = any(k in ks for k in kinds) and known
            hit += good
            ok &= good
        if not exp and alerts:
            # Hash-only rows may report material (NTLM, MD5), never a password or a token.
            if not (hash_only(r["expected_findings"]) and all(a["class"] == "material" for a in alerts)):
                ok = False
        c = per_cat[cat]
        c[0] += 1
        c[1] += ok
        c[2] += hit
        c[3] += len(exp)
        if not ok:
            misses.append((r["file"], cat, r["expected_findings"][:150], sorted(set(kinds))))
    print(f"{'category':<22} {'rows':>5} {'pass':>5} {'expected found':>15}")
    tot = [0, 0, 0, 0]
    for cat in sorted(per_cat):
        c = per_cat[cat]
        tot = [a + b for a, b in zip(tot, c)]
        print(f"{cat:<22} {c[0]:>5} {c[1]:>5} {c[2]:>7}/{c[3]:<7}")
    print(f"{'TOTAL':<22} {tot[0]:>5} {tot[1]:>5} {tot[2]:>7}/{tot[3]:<7}")
    if misses:
        print("\nrows that differ:")
        for f, cat, exp, kinds in misses:
            print(f"- {f} [{cat}]\n    expected: {exp}\n    found:    {', '.join(kinds) or 'nothing'}")
    return 0

if __name__ == "__main__":
    sys.exit(main())
