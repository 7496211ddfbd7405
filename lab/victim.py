#!/usr/bin/env python3
"""The victim of the training lab: logs in to the shop and uses its API, again and again.

    victim.py http://shop.lab        (plain HTTP: everything is visible on the wire)
    victim.py https://shop.lab       (HTTPS: nothing is)
"""
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
    req = urllib.request.Request(base + path, data=data, headers=headers or {})
    with urllib.request.urlopen(req, context=ctx, timeout=5) as r:
        return r.read(), r.headers


i = 0
while True:
    user, pw = users[i % len(users)]
    try:
        body, hdrs = call("/login", urllib.parse.urlencode({"username": user, "password": pw}).encode())
        token = json.loads(body)["token"]
        cookie = hdrs.get("Set-Cookie", "").split(";")[0]
        for _ in range(3):
            call("/api/orders", headers={"Authorization": "Bearer " + token})
            call("/api/profile", headers={"Authorization": "Bearer " + token, "Cookie": cookie})
            time.sleep(1)
    except Exception as e:  # the lab keeps going whatever happens
        print("victim:", e, file=sys.stderr)
        time.sleep(1)
    i += 1
