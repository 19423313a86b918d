#!/usr/bin/env python3
"""Times the TUI's sort, filter and search keys end to end under tmux.

    python3 testdata/benchenv/tui-keys.py "smista --db STORE" [ROUNDS]
    python3 testdata/benchenv/tui-keys.py --neomutt NEOMUTTRC [ROUNDS]

The first form starts smista's TUI on STORE (a 100,000-message store:
`benchenv store -n 100000 -triage STORE`) in a 120x40 tmux session and
times, from `tmux send-keys` to the screen showing the result (polled
with `tmux capture-pane`), every sort, intent, flag and decision filter
and a search (as typed: the inbox searches after a 150 ms pause). The second runs neomutt on the Maildir NEOMUTTRC names
(`benchenv maildir -n 100000 DIR`; header cache warm after one run) and
times its sort by subject and by date, and a limit `~s linux`. Times
include tmux's round trips (the "one capture" line). See
docs/benchmarks.md, section ui.
"""
import subprocess
import sys
import time

S = "benchkeys"


def cap():
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", S], capture_output=True, text=True).stdout


def keys(*k):
    subprocess.run(["tmux", "send-keys", "-t", S, *k])


def wait(pred, timeout=120):
    t0 = time.perf_counter()
    while True:
        s = cap()
        if pred(s):
            return s
        if time.perf_counter() - t0 > timeout:
            raise SystemExit("timeout:\n" + s)
        time.sleep(0.0005)


def timed(k, pred):
    t = time.perf_counter()
    keys(k)
    wait(pred)
    return (time.perf_counter() - t) * 1000


def start(cmd, ready):
    subprocess.run(["tmux", "kill-session", "-t", S], capture_output=True)
    t0 = time.perf_counter()
    subprocess.run(["tmux", "new-session", "-d", "-s", S, "-x", "120", "-y", "40", cmd])
    wait(ready)
    print("first frame %.0f ms (process start to the first page)" % ((time.perf_counter() - t0) * 1000))
    time.sleep(2)


def capture_cost(res):
    t = time.perf_counter()
    cap()
    res.setdefault("(one capture)", []).append((time.perf_counter() - t) * 1000)


def stop(quit_key):
    keys(quit_key)
    for _ in range(50):
        time.sleep(0.1)
        if subprocess.run(["tmux", "has-session", "-t", S], capture_output=True).returncode != 0:
            return
    print("did not exit: killing the session")
    subprocess.run(["tmux", "kill-session", "-t", S])


def smista(cmd, rounds, res):
    def hdr(s):
        lines = s.splitlines()
        return lines[1] if len(lines) > 1 else ""

    def shows(want):
        return lambda s: want in hdr(s) and (" of " in hdr(s) or "No message matches" in s)

    start(cmd, lambda s: " of 100,000" in hdr(s))
    for _ in range(rounds):
        capture_cost(res)
        res.setdefault("sort confidence", []).append(timed("s", shows("sort confidence")))
        timed("s", shows("sort review"))
        timed("s", shows("sort date"))
        for key, name, values in [("i", "intent", ["support", "sales", "billing", "legal", "spam", "other", "untriaged"]),
                                  ("f", "flag", ["payments", "legal", "vip", "injection"]),
                                  ("d", "decision", ["ticket", "draft", "suggest", "none"])]:
            for v in values:
                res.setdefault(name + " " + v, []).append(timed(key, shows(name + " " + v)))
            timed("c", shows("sort date"))
        # The inbox searches as the query is typed (after a 150 ms pause):
        # timed from the typed word to its first page, which has fewer
        # than the 100,000 rows shown before.
        keys("/")
        time.sleep(0.2)
        res.setdefault("search linux", []).append(
            timed("linux", lambda s: "search linux" in hdr(s) and " of " in hdr(s) and "of 100,000" not in hdr(s)))
        keys("Enter")
        time.sleep(0.2)
        timed("c", shows("sort date"))
    stop("q")


def neomutt(rc, rounds, res):
    def status(s):
        lines = [l for l in s.splitlines() if "Msgs:" in l]
        return lines[0] if lines else ""

    def prompt(word):
        return lambda s: word in s.splitlines()[-1]

    start("neomutt -n -F " + rc, lambda s: "Msgs:" in status(s) and "Reading" not in s)
    for _ in range(rounds):
        capture_cost(res)
        keys("o")
        wait(prompt("ort"))
        res.setdefault("sort by subject", []).append(timed("s", lambda s: "(subject/" in status(s)))
        keys("o")
        wait(prompt("ort"))
        res.setdefault("sort by date", []).append(timed("d", lambda s: "(date/" in status(s)))
        keys("l")
        wait(prompt("imit"))
        keys("~s linux")
        wait(prompt("linux"))
        res.setdefault("limit ~s linux", []).append(timed("Enter", lambda s: "/100000" in status(s)))
        keys("l")
        wait(prompt("imit"))
        keys("all")
        wait(prompt("all"))
        res.setdefault("limit all", []).append(timed("Enter", lambda s: "Msgs:100000 " in status(s)))
        time.sleep(0.3)
    stop("x")


def main():
    args = sys.argv[1:]
    res = {}
    if args[0] == "--neomutt":
        neomutt(args[1], int(args[2]) if len(args) > 2 else 3, res)
    else:
        smista(args[0], int(args[1]) if len(args) > 1 else 3, res)
    for name, v in res.items():
        print("%-18s %s ms" % (name, " ".join("%.0f" % x for x in v)))


main()
