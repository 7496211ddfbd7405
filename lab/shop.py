#!/usr/bin/env python3
"""A deliberately vulnerable web shop: it issues JWTs and session cookies over plain HTTP.

Used by the capture generator (captures/gen) and the training lab (plainsight lab). Standard library
only. Every secret it hands out is fake and deterministic (derived from the user name), except the
JWT's iat/exp, which follow the clock so that "how long can it be replayed" is real.

    shop.py --host 10.77.0.2 --port 80 [--tls-cert c.pem --tls-key k.pem] [--fixed | --fixes-file F]
"""
import argparse
import base64
import gzip
import hashlib
import hmac
import json
import ssl
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SIGNING_KEY = b"lab-signing-key-do-not-use"
API_KEY = "lab-apikey-7f3c9a12e4b8d6f0"
ADMIN = ("admin", "S3cure:Adm1n!")  # a colon inside the password, on purpose


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt_for(user, roles, scope, ttl=3600):
    now = int(time.time())
    header = b64u(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {"sub": user, "iss": "shop.lab", "roles": roles, "scope": scope, "iat": now, "exp": now + ttl}
    payload = b64u(json.dumps(claims, separators=(",", ":")).encode())
    sig = b64u(hmac.new(SIGNING_KEY, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    return f"{header}.{payload}.{sig}"


def session_for(user):
    return "sess-" + hashlib.sha256(user.encode()).hexdigest()[:24]


def token_user(token):
    """The user of a token this shop issued and that has not expired (its signature checked), or None."""
    try:
        header, payload, sig = token.split(".")
        want = b64u(hmac.new(SIGNING_KEY, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(sig, want):
            return None
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return claims["sub"] if claims.get("exp", 0) > time.time() else None
    except (ValueError, KeyError):
        return None


# Session cookies handed out at login: value -> user.
SESSIONS = {}

# The seed's fixes, each on its own (`--fixed`: all of them; `--fixes-file F`: those named in F, read at
# every request, so lab/run.sh --fixed turns them on one by one while the victim goes on):
#   urls      tokens out of URLs: the SSO ticket comes in a form POST, not in the address
#   cookies   the session cookie is Secure, HttpOnly and SameSite=Strict
#   redirect  plain HTTP only redirects to HTTPS (301, or 308 that keeps a POST a POST)
#   hsts      HTTPS answers send Strict-Transport-Security
# (`ftps`, logins only inside TLS, is the FTP server's: lab/ftpd.py.)
ALL_FIXES = {"urls", "cookies", "redirect", "hsts", "ftps"}
FIXES = set()
FIXES_FILE = None
HSTS = "max-age=31536000; includeSubDomains"
SSO_TICKET = "sso-ticket-5b9e2c71d04a8f36"


def fixes():
    """The fixes in force now."""
    if FIXES_FILE:
        try:
            with open(FIXES_FILE, encoding="utf-8") as f:
                return set(f.read().split())
        except OSError:
            return set()
    return FIXES


LOGIN_PAGE = b"""<!doctype html><html><head><title>Shop login</title></head><body>
<h1>Sign in</h1><p>Enter your password. Your session token is kept in a cookie; API clients send
a Bearer token in the Authorization header.</p>
<form method="post" action="/login"><input name="username"><input name="password" type="password">
<input type="hidden" name="csrf_token" value="c5f1e0d2a9b8c7d6e5f4"><button>Sign in</button></form>
</body></html>"""

DOCS_PAGE = b"""<!doctype html><html><body><h1>API documentation</h1><p>Send the token like this:</p>
<pre>Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c</pre>
<p>Never send your password in the URL.</p></body></html>"""


class Shop(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "LabShop/1.0"

    def log_message(self, *args):
        pass

    def fixed(self, name):
        """Whether a fix is in force for this request (read once per request: a keep-alive connection
        sees a fix as soon as it is on)."""
        return name in self._fixes

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, status, body=b"", ctype="application/json", headers=(), chunked_gzip=False):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if self.fixed("hsts") and getattr(self.server, "tls", False):
            self.send_header("Strict-Transport-Security", HSTS)
        for k, v in headers:
            self.send_header(k, v)
        if chunked_gzip:
            data = gzip.compress(body, mtime=0)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            half = len(data) // 2
            for part in (data[:half], data[half:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def user_pass(self, raw):
        ctype = self.headers.get("Content-Type", "")
        if "json" in ctype:
            d = json.loads(raw or b"{}")
            if isinstance(d.get("user"), dict):
                d = d["user"]
            return d.get("username") or d.get("email") or "", d.get("password") or ""
        if "multipart" in ctype:
            text = raw.decode(errors="replace")
            fields = {}
            for part in text.split("--")[1:]:
                if 'name="' in part:
                    name = part.split('name="', 1)[1].split('"', 1)[0]
                    fields[name] = part.split("\r\n\r\n", 1)[-1].rstrip("\r\n-")
            return fields.get("username", ""), fields.get("password", "")
        q = urllib.parse.parse_qs(raw.decode(errors="replace"))
        return q.get("username", [""])[0], q.get("password", [""])[0]

    def bearer_user(self):
        a = self.headers.get("Authorization", "")
        return token_user(a[7:].strip()) if a.lower().startswith("bearer ") else None

    def session_user(self):
        for part in self.headers.get("Cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == "session" and value in SESSIONS:
                return SESSIONS[value]
        return None

    def to_https(self):
        """The `redirect` fix on plain HTTP: nothing but the way to HTTPS. True when it answered."""
        if not self.fixed("redirect") or getattr(self.server, "tls", False):
            return False
        host = (self.headers.get("Host") or "shop.lab").split(":")[0]
        code = 301 if self.command in ("GET", "HEAD") else 308
        self.body()
        self.send(code, b"", "text/plain", headers=[("Location", f"https://{host}{self.path}")])
        return True

    def do_GET(self):
        self._fixes = fixes()
        if self.to_https():
            return
        path, _, query = self.path.partition("?")
        if path == "/":
            return self.send(200, LOGIN_PAGE, "text/html")
        if path == "/docs":
            return self.send(200, DOCS_PAGE, "text/html")
        if path.startswith("/static/"):
            return self.send(200, b"body{color:#222}" * 40, "text/css")
        if path == "/api/orders":
            # Whoever holds a valid token is its user: the server cannot tell a thief from the victim.
            user = self.bearer_user()
            if not user:
                return self.send(401, b'{"error":"missing token"}', headers=[("WWW-Authenticate", "Bearer")])
            return self.send(200, json.dumps({"user": user, "orders": [{"id": 1, "item": "lamp"}]}).encode())
        if path == "/api/profile":
            # The browser's session cookie works as well as the token.
            user = self.bearer_user() or self.session_user()
            if not user:
                return self.send(401, b'{"error":"not signed in"}', headers=[("WWW-Authenticate", "Bearer")])
            return self.send(200, json.dumps({"user": user, "email": f"{user}@shop.lab"}).encode())
        if path == "/admin":
            want = "Basic " + base64.b64encode(f"{ADMIN[0]}:{ADMIN[1]}".encode()).decode()
            if self.headers.get("Authorization") != want:
                return self.send(401, b"{}", headers=[("WWW-Authenticate", 'Basic realm="admin"')])
            return self.send(200, b'{"admin":true}')
        if path == "/v1/items":
            ok = self.headers.get("X-API-Key") == API_KEY
            return self.send(200 if ok else 403, b'{"items":[]}')
        if path == "/feed":
            return self.send(200, b'{"feed":[]}')
        if path == "/sso":
            if self.fixed("urls"):
                # The ticket in a form the browser posts: never in an address (proxy logs, history, Referer).
                form = f'''<form method="post" action="/cb"><input type="hidden" name="ticket" value="{SSO_TICKET}"></form>'''
                return self.send(200, form.encode(), "text/html")
            return self.send(302, b"", headers=[("Location", f"/cb?token={SSO_TICKET}")])
        if path == "/cb" or path.startswith("/verify/") or path == "/cart" or path == "/search":
            return self.send(200, b"{}")
        if path == "/ready":
            return self.send(200, b"{}")
        return self.send(404, b'{"error":"not found"}')

    def do_POST(self):
        self._fixes = fixes()
        if self.to_https():
            return
        path, _, query = self.path.partition("?")
        raw = self.body()
        if path == "/login":
            user, pw = self.user_pass(raw)
            if not user or not pw:
                return self.send(401, b'{"error":"bad credentials"}')
            token = jwt_for(user, ["customer"], "orders:read profile")
            body = json.dumps({"token": token, "user": user}).encode()
            SESSIONS[session_for(user)] = user
            flags = "; Secure; HttpOnly; SameSite=Strict" if self.fixed("cookies") else "; HttpOnly"
            cookie = ("Set-Cookie", f"session={session_for(user)}; Path=/{flags}")
            return self.send(200, body, headers=[cookie], chunked_gzip="gz=1" in query)
        if path == "/oauth/token":
            q = urllib.parse.parse_qs(raw.decode(errors="replace"))
            user = q.get("username", ["client"])[0]
            body = {"access_token": jwt_for(user, ["api"], "read write"), "token_type": "Bearer",
                    "refresh_token": "rt-" + hashlib.sha256(user.encode()).hexdigest()[:28], "expires_in": 3600}
            return self.send(200, json.dumps(body).encode())
        if path == "/graphql":
            d = json.loads(raw or b"{}")
            user = d.get("variables", {}).get("username", "")
            return self.send(200, json.dumps({"data": {"login": {"token": jwt_for(user, ["customer"], "graphql")}}}).encode())
        if path in ("/upload", "/comment", "/cb"):
            return self.send(200, b"{}")
        return self.send(404, b"{}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--fixed", action="store_true", help="every fix: HTTPS only, HSTS, Secure cookies, no token in URLs")
    ap.add_argument("--fixes-file", help="the fixes in force, read at every request (lab/run.sh --fixed)")
    a = ap.parse_args()
    global FIXES, FIXES_FILE
    FIXES = set(ALL_FIXES) if a.fixed else set()
    FIXES_FILE = a.fixes_file
    family_host = a.host
    ThreadingHTTPServer.allow_reuse_address = True
    if ":" in family_host:
        import socket
        class V6(ThreadingHTTPServer):
            address_family = socket.AF_INET6
        srv = V6((family_host, a.port), Shop)
    else:
        srv = ThreadingHTTPServer((family_host, a.port), Shop)
    if a.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.tls = bool(a.tls_cert)
    srv.serve_forever()


if __name__ == "__main__":
    main()
