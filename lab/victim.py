#!/usr/bin/env python3
"""The victim of the training lab: logs in to the shop and uses its API, again and again, and uploads
its order report to the shop's FTP server (mistyping the password now and then).

    victim.py http://shop.lab        (plain HTTP and FTP: everything is visible on the wire)
    victim.py https://shop.lab       (HTTPS and FTP over TLS: nothing is)
"""
import ftplib
import io
import json
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


def call(path, data=None, headers=None):
    """One request, as a browser makes it: redirects followed, and HSTS honoured (once a site answered
    over HTTPS with Strict-Transport-Security, it is never asked over plain HTTP again)."""
    global base
    req = urllib.request.Request(base + path, data=data, headers=headers or {})
    with urllib.request.urlopen(req, context=ctx, timeout=5) as r:
        final = urllib.parse.urlsplit(r.geturl())
        if final.scheme == "https" and r.headers.get("Strict-Transport-Security") and base.startswith("http:"):
            base = "https://" + final.netloc
        return r.read(), r.headers


def upload_report(user, pw, typo):
    """FTP login (a typo first, every third round: the server refuses it) and one small upload."""
    tls = base.startswith("https")
    ftp = ftplib.FTP_TLS(context=ctx, timeout=5) if tls else ftplib.FTP(timeout=5)
    ftp.connect(urllib.parse.urlsplit(base).hostname, 21)
    if typo:
        try:
            ftp.login(user, pw[:-1] + "?")  # the mistyped password (refused)
        except ftplib.error_perm:
            pass
    ftp.login(user, pw)  # FTP_TLS sends AUTH TLS first
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
        cookie = hdrs.get("Set-Cookie", "").split(";")[0]
        for _ in range(3):
            call("/api/orders", headers={"Authorization": "Bearer " + token})
            call("/api/profile", headers={"Authorization": "Bearer " + token, "Cookie": cookie})
            time.sleep(1)
        upload_report(user, pw, typo=(i % 3 == 0))
    except Exception as e:  # the lab keeps going whatever happens
        print("victim:", e, file=sys.stderr)
        time.sleep(1)
    i += 1
