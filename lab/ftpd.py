#!/usr/bin/env python3
"""The lab's FTP server (pyftpdlib): where the victim uploads its daily order report.

    ftpd.py --host 10.77.0.2 --port 21                              plain FTP: USER/PASS in clear
    ftpd.py --host 10.77.0.2 --port 21 --tls-cert C --tls-key K     AUTH TLS required before login
    ftpd.py ... --tls-cert C --tls-key K --fixes-file F               the fix `ftps` (a word of F, read at
        every connection, lab/run.sh --fixed) turns AUTH TLS on and requires it; without it, plain FTP

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
ap.add_argument("--fixes-file")
a = ap.parse_args()

root = tempfile.mkdtemp(prefix="pslab-ftp-")
auth = DummyAuthorizer()
for user, pw in [("alice", "Tr0ub4dor&3"), ("bob", "correct-horse-battery")]:
    auth.add_user(user, pw, root, perm="elrw")
if a.tls_cert and a.fixes_file:
    from pyftpdlib.handlers import TLS_FTPHandler

    def ftps():
        try:
            with open(a.fixes_file, encoding="utf-8") as f:
                return "ftps" in f.read().split()
        except OSError:
            return False

    class Handler(TLS_FTPHandler):
        """Plain FTP until the fix `ftps` is on; from then on, logins only inside TLS."""

        def on_connect(self):
            self.ftps = ftps()
            self.tls_control_required = self.tls_data_required = self.ftps

        def ftp_AUTH(self, line):
            if not self.ftps:
                return self.respond("502 AUTH not offered.")
            return super().ftp_AUTH(line)

    Handler.certfile = a.tls_cert
    Handler.keyfile = a.tls_key
elif a.tls_cert:
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
