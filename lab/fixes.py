#!/usr/bin/env python3
"""The lab's fixes, one by one (lab/run.sh --fixed): turns the seed's fixes on in the shop and its FTP
server one after the other while the victim goes on, and after each says what still crossed in clear,
from what plainsight reported.

    fixes.py ALERTS.jsonl FIXES_FILE SECONDS [END]   (SECONDS per step; exits after the last step, or
                                                      at END, the capture's end in seconds since 1970)

The alert file must carry update events (plainsight live --sensor NAME): a leak seen again in a step
is then an `update` event dated by its `last_seen`. A step's window starts 2.5 s after its fix is on
and ends with the step: what was on its way is the step before's (a connection opened before the fix,
the victim's first plain request before it learns HSTS, which may come up to ~1.7 s later). Lines:

    fix N/5: NAME: what it changes
    after fix N/5: in clear: KIND (sightings), ... | gone: KIND, ... | new: KIND, ...

Kinds come from plainsight's alert file; they reach the terminal through `shown` (attacker.py's copy
of plainsight's sanitiser rule).
"""
import datetime
import sys
import time

from attacker import new_alerts, shown

STEPS = [
    ("none", "nothing fixed yet: the shop as it was", []),
    ("tokens out of URLs", "the SSO ticket comes in a form POST, no longer in an address (proxy logs, "
     "history, Referer); still readable on the wire until HTTPS", ["urls"]),
    ("Secure; HttpOnly; SameSite cookies", "the browser never sends the session cookie over plain HTTP; "
     "the answer that sets it still crosses in clear until HTTPS", ["cookies"]),
    ("FTP over TLS only", "the FTP server offers AUTH TLS and refuses a login before it", ["ftps"]),
    ("HTTP -> HTTPS redirect", "plain HTTP only answers with a redirect: the answers (token, cookie) are "
     "inside TLS now, but every request still goes out in clear first, with what it carries", ["redirect"]),
    ("HSTS", "HTTPS answers say Strict-Transport-Security: after one plain request (the login page, "
     "carrying nothing) the browser never uses plain HTTP again", ["hsts"]),
]


MARGIN = 2.5


def when(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class Alerts:
    """The alert file as it grows: (time, kind) of every new and update event."""

    def __init__(self, path):
        self.path, self.pos, self.seen = path, 0, []

    def read(self):
        got, self.pos = new_alerts(self.path, self.pos)
        for a in got:
            try:
                at = a.get("last_seen") if a.get("event") == "update" else a.get("first_seen")
                self.seen.append((when(at), str(a.get("kind"))))
            except (ValueError, TypeError, AttributeError):
                pass

    def forget(self, until):
        """Drop the events dated before `until` (counted already): a lab left running keeps no more
        than a step's events."""
        self.seen = [(at, kind) for at, kind in self.seen if at >= until]

    def kinds(self, start, end):
        counts = {}
        for at, kind in self.seen:
            if start <= at < end:
                counts[kind] = counts.get(kind, 0) + 1
        return counts


def main():
    alerts, fixes_file, seconds = Alerts(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    capture_end = float(sys.argv[4]) if len(sys.argv) > 4 else float("inf")
    on, before = [], None
    # The first step starts with the victim's first leak, so that it holds whole rounds.
    while not alerts.seen:
        alerts.read()
        time.sleep(0.2)
    for n, (name, what, turn_on) in enumerate(STEPS):
        on += turn_on
        with open(fixes_file, "w", encoding="utf-8") as f:
            f.write(" ".join(on) + "\n")
        start = time.time()
        print("fix %d/%d: %s: %s" % (n, len(STEPS) - 1, name, what), flush=True)
        time.sleep(seconds)
        end = time.time()
        if end > capture_end:
            # Nothing was captured for the rest of the step: no summary rather than a wrong one.
            print("after fix %d/%d: the capture ended during this step" % (n, len(STEPS) - 1), flush=True)
            return
        time.sleep(1.5)  # updates of the step's last second are written a second later at most
        alerts.read()
        now = alerts.kinds(start + MARGIN, end)
        parts = ["in clear: " + (", ".join("%s (%d)" % (shown(k, 40), c) for k, c in sorted(now.items()))
                                 or "nothing")]
        if before is not None:
            gone = sorted(set(before) - set(now))
            new = sorted(set(now) - set(before))
            if gone:
                parts.append("gone: " + ", ".join(shown(k, 40) for k in gone))
            if new:
                parts.append("new: " + ", ".join(shown(k, 40) for k in new))
        print("after fix %d/%d: %s" % (n, len(STEPS) - 1, " | ".join(parts)), flush=True)
        before = now
        alerts.forget(end)


if __name__ == "__main__":
    main()
