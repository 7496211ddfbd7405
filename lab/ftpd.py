#!/usr/bin/env python3
"""The lab's FTP server (pyftpdlib): where the victim uploads its daily order report.

    ftpd.py --host 10.77.0.2 --port 21                              plain FTP: USER/PASS in clear
    ftpd.py --host 10.77.0.2 --port 21 --tls-cert C --tls-key K     AUTH TLS required before login

Run with Debian's python3 (python3-pyftpdlib; python3-openssl for TLS).
"""
import argparse
import tempfile

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.servers import FTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--host", required=True)
ap.add_argument("--port", type=int, default=21)
ap.add_argument("--tls-cert")
ap.add_argument("--tls-key")
a = ap.parse_args()

root = tempfile.mkdtemp(prefix="pslab-ftp-")
auth = DummyAuthorizer()
for user, pw in [("alice", "Tr0ub4dor&3"), ("bob", "correct-horse-battery")]:
    auth.add_user(user, pw, root, perm="elrw")
if a.tls_cert:
    from pyftpdlib.handlers import TLS_FTPHandler as Handler

    Handler.certfile = a.tls_cert
    Handler.keyfile = a.tls_key
    Handler.tls_control_required = True  # no login before AUTH TLS
    Handler.tls_data_required = True
else:
    from pyftpdlib.handlers import FTPHandler as Handler
Handler.authorizer = auth
Handler.banner = "shop.lab FTP: order reports"
Handler.auth_failed_timeout = 0.2
FTPServer((a.host, a.port), Handler).serve_forever()
