#!/usr/bin/env python3
"""The victim of the training lab: logs in to the shop (and through its SSO), uses its API, again and
again, and uploads its order report to the shop's FTP server (mistyping the password now and then).
It behaves as a browser does: cookies kept in a jar (a `Secure` one only ever sent over HTTPS), redirects
followed (a 307/308 keeps a POST a POST), HSTS honoured; and as a careful FTP client: explicit FTPS when
the server offers it.

    victim.py http://shop.lab        (plain HTTP and FTP: everything is visible on the wire)
    victim.py https://shop.lab       (HTTPS and FTP over TLS: nothing is)
"""
import ftplib
import http.cookiejar
import io
import json
import re
import ssl
import sys
import time
import urllib.parse
import urllib.request

base = sys.argv[1].rstrip("/")
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE  # the lab's certificate is self-signed
users = [("alice", "Tr0ub4dor&3"), ("bob", "correct-horse-battery")]


class KeepPost(urllib.request.HTTPRedirectHandler):
    """A 307 or 308 answer to a POST is followed with the same POST (urllib refuses it)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if code in (307, 308) and req.get_method() == "POST":
            return urllib.request.Request(newurl, data=req.data, headers=req.headers, method="POST")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


jar = http.cookiejar.CookieJar()
browser = urllib.request.build_opener(
    urllib.request.HTTPCookieProcessor(jar), urllib.request.HTTPSHandler(context=ctx), KeepPost)


def call(path, data=None, headers=None):
    """One request, as a browser makes it: cookies, redirects, and HSTS honoured (once a site answered
    over HTTPS with Strict-Transport-Security, it is never asked over plain HTTP again)."""
    global base
    req = urllib.request.Request(base + path, data=data, headers=headers or {})
    with browser.open(req, timeout=5) as r:
        final = urllib.parse.urlsplit(r.geturl())
        if final.scheme == "https" and r.headers.get("Strict-Transport-Security") and base.startswith("http:"):
            base = "https://" + final.netloc
        return r.read(), r.headers


def upload_report(user, pw, typo):
    """FTP login (a typo first, every third round: the server refuses it) and one small upload, inside
    TLS when the server offers AUTH TLS, in clear otherwise."""
    ftp = ftplib.FTP_TLS(context=ctx, timeout=5)
    ftp.connect(urllib.parse.urlsplit(base).hostname, 21)
    try:
        ftp.auth()
        tls = True
    except ftplib.error_perm:
        tls = False
    if typo:
        try:
            ftp.login(user, pw[:-1] + "?", secure=False)  # the mistyped password (refused)
        except ftplib.error_perm:
            pass
    ftp.login(user, pw, secure=False)
    if tls:
        ftp.prot_p()
    ftp.storbinary("STOR orders-%s.csv" % user, io.BytesIO(b"order,total\n1001,42.00\n"))
    ftp.quit()


i = 0
while True:
    user, pw = users[i % len(users)]
    try:
        call("/")  # the login page first, as a browser loads it
        body, hdrs = call("/login", urllib.parse.urlencode({"username": user, "password": pw}).encode())
        token = json.loads(body)["token"]
        # The shop's single sign-on: a ticket in the address it redirects to, or in a form to post.
        page, _ = call("/sso")
        ticket = re.search(rb'name="ticket" value="([^"]+)"', page)
        if ticket:
            call("/cb", urllib.parse.urlencode({"ticket": ticket.group(1).decode()}).encode())
        for _ in range(3):
            call("/api/orders", headers={"Authorization": "Bearer " + token})
            call("/api/profile", headers={"Authorization": "Bearer " + token})  # and the session cookie
            time.sleep(1)
        upload_report(user, pw, typo=(i % 3 == 0))
    except Exception as e:  # the lab keeps going whatever happens
        print("victim:", e, file=sys.stderr)
        time.sleep(1)
    i += 1
