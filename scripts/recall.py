#!/usr/bin/env python3
"""Recall and precision of plainsight on the bundled captures, against their truth files.

    scripts/recall.py [NAME ...]      # default: every captures/*.truth.json

For each capture: runs `plainsight read --reveal --alerts-at-end` and matches every alert to the
truth (leaks by kind, server and secret or JWT subject; hash-only logins by server and user, class
material). Prints found/expected (recall) and alerts matching nothing (false positives). The truth
files are written by the generators from what they sent, never from plainsight's output.
"""
import json, os, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "plainsight")


def alerts(pcap):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "a.jsonl")
        subprocess.run([BIN, "read", "-q", "--no-report", "--reveal", "--alerts-at-end", "--alerts", out, pcap],
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not os.path.exists(out):
            return []
        return [json.loads(l) for l in open(out) if l.strip()]


def matches(t, a):
    if t.get("kind") and t["kind"] != a.get("kind"):
        return False
    if t.get("server") and t["server"] != a.get("server"):
        return False
    if "secret" in t:
        return t["secret"] == a.get("secret")
    if "jwt_sub" in t:
        return (a.get("jwt") or {}).get("sub") == t["jwt_sub"]
    return t.get("user") == a.get("user")


def main(names):
    if not names:
        names = sorted(f[:-len(".truth.json")] for f in os.listdir(os.path.join(ROOT, "captures"))
                       if f.endswith(".truth.json"))
    tot_t = tot_f = tot_fp = 0
    for n in names:
        truth = json.load(open(os.path.join(ROOT, "captures", n + ".truth.json")))
        got = alerts(os.path.join(ROOT, "captures", n + ".pcap"))
        want = truth.get("leaks", []) + [dict(h, kind=None) for h in truth.get("hash_only", [])]
        used = set()
        found = 0
        for t in want:
            for i, a in enumerate(got):
                if i not in used and matches(t, a):
                    used.add(i)
                    found += 1
                    break
        fp = len(got) - len(used)
        tot_t, tot_f, tot_fp = tot_t + len(want), tot_f + found, tot_fp + fp
        print(f"{n:16} recall {found}/{len(want)}  false positives {fp}")
    print(f"{'all':16} recall {tot_f}/{tot_t}  false positives {tot_fp}")
    return 0 if tot_f == tot_t and tot_fp == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
