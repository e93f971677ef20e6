#!/usr/bin/env python3
"""Soak test: 50 aioctl tasks of a realistic mix on the MicroPython unix port
with a small heap, for --seconds; prints one table and exits non-zero if a
check fails.

    .venv/bin/python tools/soak.py [--seconds 180] [--mpy] [--heap 96K] [--no-stall] [--micropython PATH]

The board side is tools/soak/board.py (see its header for the task mix),
with boardinit.py and boardend.py, which it imports for the start and the
end only. The modules come from lib/*.py (or --lib DIR), or with --mpy from
.mpy files that mpy-cross builds into a temporary directory. The board
scripts are always compiled with mpy-cross and imported (`micropython -c
"import board"`), as an application of this size is deployed. The default
heap is 96K with --mpy, the board-sized heap the soak is for; from
lib/*.py it is 128K, the smallest that holds it: compiling the modules on
the board needs large free blocks, and status() compiles aiostatus.py at
each call, as it lets the module go after. `--seconds 20` is the
quick mode (about 25 s; tests/test_soak.py runs it). Host side: CPython
standard library only.

Every due start of every scheduled task is accounted for: runs counted
inside the task equal the scheduler's runs; runs + skipped equal the due
starts (plus the retries, which the task counts, and which follow from its
failures); self-rescheduled tasks started at the times they chose.
Unscheduled tasks that fail are restarted: runs = 1 + restarts, and hangs
and timeouts each counted three ways (planned by the task, seen by
on_error, shown by status()).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from hosttools import ROOT, add_micropython_option, micropython, tool
LIB = os.path.join(ROOT, "lib")
BOARD = os.path.join(ROOT, "tools", "soak")

HEAP_MPY = "96K"  # default heap with --mpy
HEAP_PY = "128K"  # default heap from lib/*.py (compiling needs large free blocks)
MIN_FREE = 4096  # bytes: least free heap after a collect, at any sample
HEAP_DRIFT = 4096  # bytes: mean free heap, last fifth of the run vs the fifth after warm-up
MAX_LATE = 50  # ms: worst heartbeat / self-chosen start lateness (stall, status() excluded)
MAX_GAP = 2000  # ms: longest gap between watchdog feeds while the critical tasks are healthy
MAXR = 2  # max_retries of retry0-2 and tmo1 (board.py)


def mpy_cross(src, dest):
    subprocess.run([tool("mpy-cross"), "-o", dest, src], check=True)


def run_board(args):
    tmp = tempfile.mkdtemp(prefix="soak-")
    try:
        libdir = args.lib
        if args.mpy:
            libdir = os.path.join(tmp, "lib")
            os.mkdir(libdir)
            for f in sorted(os.listdir(args.lib)):
                if f.endswith(".py"):
                    mpy_cross(os.path.join(args.lib, f), os.path.join(libdir, f[:-3] + ".mpy"))
        appdir = os.path.join(tmp, "app")
        os.mkdir(appdir)
        for f in sorted(os.listdir(BOARD)):
            if f.endswith(".py"):
                mpy_cross(os.path.join(BOARD, f), os.path.join(appdir, f[:-3] + ".mpy"))
        argv = ["board", str(args.seconds), "nostall" if args.no_stall else "stall"]
        code = "import sys\nsys.argv[:] = %r\nimport board\n" % (argv,)
        cmd = [micropython(args.micropython), "-X", "heapsize=" + args.heap, "-c", code]
        env = dict(os.environ, MICROPYPATH=libdir + ":" + appdir + ":.frozen", TZ="UTC")
        t = time.monotonic()
        try:
            # cwd: an empty directory, so that nothing there shadows a module
            p = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True,
                               timeout=args.seconds + 60)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = "timeout", e.stdout or b"", e.stderr or b""
        wall = time.monotonic() - t
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rc, out.decode(errors="replace"), err.decode(errors="replace"), wall


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def parse(out):
    r = {"mem": [], "unexpected": [], "memerror": [], "tasks": {}, "plain": {}, "ram": {},
         "status": {}, "late": [], "slate": [], "gaps": [], "stall": None, "calls": [],
         "limit": [], "outage": None, "v": None, "end": None, "done": False, "fatal": None,
         "statusskip": []}
    in_status = False
    current = None
    for line in out.splitlines():
        if in_status:
            if line.startswith("SOAK status-end"):
                in_status = False
                continue
            plain = ANSI.sub("", line)
            m = re.match(r"● (\S+): status:", plain)
            if m:
                current = m.group(1)
                r["status"][current] = {"restarts": 0, "hung": 0}
            m = re.search(r"restarts: (\d+)", plain)
            if m and current:
                r["status"][current]["restarts"] = int(m.group(1))
            m = re.search(r"hung (\d+) times", plain)
            if m and current:
                r["status"][current]["hung"] = int(m.group(1))
            continue
        if not line.startswith("SOAK "):
            continue
        f = line.split()
        k = f[1]
        n = [int(x) for x in f[2:] if re.match(r"-?\d+$", x)]
        if k == "mem":
            r["mem"].append((n[0], n[1]))
        elif k == "unexpected":
            r["unexpected"].append(" ".join(f[2:]))
        elif k == "memerror":
            r["memerror"].append(f[2])
        elif k == "ram":
            r["ram"][f[2]] = n
        elif k == "t":
            v = [int(x) for x in f[4:9]] + [int(x) for x in f[10:17]]
            r["tasks"][f[2]] = dict(zip(
                ("group", "R", "srun", "skip", "exp", "tol", "state", "A", "B", "C", "D", "F", "T", "G"),
                [f[3]] + v[:5] + [f[9]] + v[5:]))
        elif k == "plain":
            r["plain"][f[2]] = dict(zip(("R", "C", "D", "iters", "running"), n))
        elif k == "late":
            r["late"].append(tuple(n))
        elif k == "slate":
            r["slate"].append(tuple(n))
        elif k == "gap":
            r["gaps"].append(tuple(n))
        elif k == "stall":
            r["stall"] = tuple(n)
        elif k == "statuscall":
            r["calls"].append(tuple(n))
        elif k == "statusskip":
            r["statusskip"].append(n[0])
        elif k == "limit":
            r["limit"].append(n[0])
        elif k == "outage":
            r["outage"] = tuple(n)
        elif k == "v":
            r["v"] = n
        elif k == "end":
            r["end"] = n
        elif k == "status-begin":
            in_status = True
        elif k == "done":
            r["done"] = True
        elif k == "fatal":
            r["fatal"] = " ".join(f[2:])
    return r


def slope(points):
    # least squares, bytes per minute
    n = len(points)
    if n < 3:
        return 0.0
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    if not sxx:
        return 0.0
    return sum((p[0] - mx) * (p[1] - my) for p in points) / sxx * 60000


def table(rows, head):
    w = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    fmt = "| " + " | ".join("%%-%ds" % n for n in w) + " |"
    lines = [fmt % tuple(head), "|" + "|".join("-" * (n + 2) for n in w) + "|"]
    lines += [fmt % tuple(str(x) for x in row) for row in rows]
    return "\n".join(lines)


def overlaps(a, b, windows):
    # does (a, b] overlap any window (s, e)?
    return any(a < e and b > s for s, e in windows)


def evaluate(args, rc, r, wall):
    rows = []  # what | figure | target | result
    fails = []

    def check(what, figure, target, ok):
        rows.append((what, figure, target, "ok" if ok else "FAIL"))
        if not ok:
            fails.append(what)

    def info(what, figure):
        rows.append((what, figure, "", "info"))

    def off(bad):
        # names the tasks a check failed for
        if bad:
            rows[-1] = rows[-1][:1] + (rows[-1][1] + "; off: " + ", ".join(bad),) + rows[-1][2:]

    secs = args.seconds
    check("board script finished", "exit %s, %s, %.1f s wall" % (
        rc, "report complete" if r["done"] else "NO REPORT" + (
            " (fatal: %s)" % r["fatal"] if r["fatal"] else ""), wall),
        "exit 0, report", rc == 0 and r["done"])
    ram = r["ram"]
    if "board" in ram:
        total = sum(ram["board"][:2])
        fig = "heap %d; at the start %d used (interpreter, asyncio, board.py)" % (total, ram["board"][0])
        prev = ram["board"][0]
        for key, label in (("libs", "aiocron+aioctl+aioschedule+aiolog"),
                           ("modules", "aiojob+aiowatch, board data, boardinit"), ("tasks", "50 tasks"),
                           ("loops", "loops"), ("running", "boardinit dropped")):
            if key in ram:
                fig += "; %s %+d" % (label, ram[key][0] - prev)
                prev = ram[key][0]
        if "running" in ram:
            fig += "; free when running %d" % ram["running"][1]
        info("RAM (gc.mem_alloc, bytes)", fig)
    check("MemoryError", ", ".join(sorted(set(r["memerror"]))) or "none", "none", not r["memerror"])
    check("unexpected exceptions", "%d%s" % (len(r["unexpected"]), (
        ": " + "; ".join(r["unexpected"][:3])) if r["unexpected"] else ""), "0", not r["unexpected"])

    # Windows the conductor printed (ms from the start)
    stall = [r["stall"]] if r["stall"] else []
    calls = r["calls"]
    limit = [tuple(r["limit"][:2])] if len(r["limit"]) >= 2 else []
    outage = [r["outage"]] if r["outage"] else []

    # Memory
    mem = r["mem"]
    warm_ms = (5 if secs < 60 else 15) * 1000
    after = [p for p in mem if p[0] >= warm_ms]
    if len(after) >= 5:
        frees = [p[1] for p in mem]
        k = max(1, len(after) // 5)
        a0 = sum(p[1] for p in after[:k]) / k
        a1 = sum(p[1] for p in after[-k:]) / k
        lo = min(frees)
        check("free heap after gc.collect (%d samples, 1 a second)" % len(mem),
              "first %d, min %d at %.0f s, max %d, last %d" % (
                  frees[0], lo, mem[frees.index(lo)][0] / 1000, max(frees), frees[-1]),
              ">= %d (room for aiostatus, fragmentation)" % MIN_FREE, lo >= MIN_FREE)
        check("free heap: mean of the last fifth - of the fifth after warm-up; trend",
              "%+d bytes; %+.0f bytes/min" % (a1 - a0, slope(after)), "within %d" % HEAP_DRIFT,
              abs(a1 - a0) <= HEAP_DRIFT)
    else:
        check("free heap samples", "%d" % len(mem), "> warm-up", False)

    tasks = r["tasks"]
    st = r["status"]

    def group(g):
        return {n: t for n, t in tasks.items() if t["group"] == g}

    def sums(ts, *keys):
        return [sum(t[k] for t in ts.values()) for k in keys]

    # Interval and calendar schedules: runs in the task = scheduler's runs;
    # runs + skipped = due starts
    for g, label in (("fast", "20 fast intervals 0.1-0.5 s"), ("slow", "8 slow intervals 1-1.7 s"),
                     ("flakyS", "2 scheduled failing"), ("cal", "5 calendar")):
        ts = group(g)
        if not ts:
            check(label, "missing", "", False)
            continue
        R, srun, skip, exp = sums(ts, "R", "srun", "skip", "exp")
        check(label + ": runs in task = scheduler's runs", "%d = %d" % (R, srun), "equal per task",
              all(abs(t["R"] - t["srun"]) <= t["D"] for t in ts.values()))
        off(["%s %d/%d" % (n, t["R"], t["srun"]) for n, t in ts.items() if abs(t["R"] - t["srun"]) > t["D"]])
        n0 = len(ts)
        ts = {n: t for n, t in ts.items() if t["exp"] >= 0}  # not slow7 (stopped, started)
        srun, skip, exp = sums(ts, "srun", "skip", "exp")
        check(label + ": runs + skipped = due starts" + (" (not slow7)" if len(ts) < n0 else ""),
              "%d + %d = %d vs %d due" % (srun, skip, srun + skip, exp),
              "each within 1-2", all(abs(t["srun"] + t["skip"] - t["exp"]) <= t["tol"] for t in ts.values()))
        off(["%s %d+%d/%d" % (n, t["srun"], t["skip"], t["exp"]) for n, t in ts.items()
             if abs(t["srun"] + t["skip"] - t["exp"]) > t["tol"]])
    slow_skip = sum(t["skip"] for t in group("slow").values())
    check("slow overruns skipped, never stacked", "%d skipped" % slow_skip, "> 0, no 'stacked'",
          slow_skip > 0 and not any("stacked" in u for u in r["unexpected"]))
    cal3 = tasks.get("cal3")
    n3 = 5 if secs < 60 else 20
    check("cal3 times=%d" % n3, "%s runs, state %s" % (cal3 and cal3["srun"], cal3 and cal3["state"]),
          "%d runs, over" % n3, cal3 is not None and cal3["srun"] == min(n3, cal3["exp"]) and (
              cal3["state"] == "over" or cal3["exp"] < n3))

    # Retries: runs + skipped = due + retries; retries = failures with a retry left
    retry = {n: t for n, t in tasks.items() if t["group"] == "retry" or n == "tmo1"}
    if len(retry) == 4:
        for n, t in retry.items():
            t["fails"] = t["F"] if n == "tmo1" else t["A"]  # tmo1: timeouts seen by on_error
        R, srun, skip, exp, B, F, D = sums(retry, "R", "srun", "skip", "exp", "B", "fails", "D")
        pend = sum(1 <= t["C"] <= MAXR for t in retry.values())
        check("retry0-2, tmo1 (max_retries=2): runs in task = scheduler's runs", "%d = %d" % (R, srun),
              "equal per task", all(t["R"] == t["srun"] for t in retry.values()))
        check("  retries = failures - failures with none left - retries pending",
              "%d = %d - %d - %d" % (B, F, D, pend), "equal per task",
              all(t["B"] == t["fails"] - t["D"] - (1 <= t["C"] <= MAXR) for t in retry.values()))
        off([n for n, t in retry.items() if t["B"] != t["fails"] - t["D"] - (1 <= t["C"] <= MAXR)])
        check("  runs + skipped = due starts + retries", "%d + %d = %d vs %d + %d" % (
            srun, skip, srun + skip, exp, B), "each within 1-2",
              all(abs(t["srun"] + t["skip"] - t["exp"] - t["B"]) <= t["tol"] for t in retry.values()))
        off(["%s %d+%d/%d+%d" % (n, t["srun"], t["skip"], t["exp"], t["B"]) for n, t in retry.items()
             if abs(t["srun"] + t["skip"] - t["exp"] - t["B"]) > t["tol"]])
    else:
        check("retry tasks", "missing", "", False)

    # Timeouts
    tm = group("tmo")
    if len(tm) == 3:
        t0 = tm["tmo0"]
        check("tmo0 (timeout 0.3 s, scheduled): runs = scheduler's; runs + skipped = due",
              "%d = %d; %d + %d vs %d" % (t0["R"], t0["srun"], t0["srun"], t0["skip"], t0["exp"]),
              "equal; within 1", t0["R"] == t0["srun"] and abs(t0["srun"] + t0["skip"] - t0["exp"]) <= t0["tol"])
        A, T, G, F = sums(tm, "A", "T", "G", "F")
        planned = tm["tmo2"]["D"]
        check("tmo0-2 overruns begun = timeouts seen by on_error + still going", "%d = %d + %d" % (A, T, G),
              "equal per task", all(t["A"] == t["T"] + t["G"] for t in tm.values()))
        check("tmo0-2 failures = timeouts (+ tmo2's planned failures)", "%d = %d + %d" % (F, T, planned),
              "equal per task", all(t["F"] == t["T"] + (t["D"] if n == "tmo2" else 0) for n, t in tm.items()))
    else:
        check("timeout tasks", "missing", "", False)

    # Watcher: unscheduled failing tasks are restarted (runs = 1 + restarts)
    for n in ("flakyU0", "flakyU1", "tmo2"):
        t = tasks.get(n)
        s = st.get(n)
        if t is None or s is None:
            check("watcher restarts " + n, "missing", "", False)
            continue
        nf = t["F"] if n == "tmo2" else t["A"]  # failures seen by on_error, or raised
        ok = s["restarts"] == t["R"] - 1 and t["R"] - 1 <= nf <= t["R"]
        target = "restarts = runs - 1 = failures (- 1)"
        if n == "flakyU0":
            # crash loop, backoff 0.05 s doubling to 1 s: about 6 fast ones, then 1/s
            lo, hi = int(0.7 * secs) - 5, secs + 10
            ok = ok and lo <= s["restarts"] <= hi
            target += ", %d..%d (backoff)" % (lo, hi)
        check("watcher restarts " + n, "%d restarts, %d runs, %d failures" % (s["restarts"], t["R"], nf),
              target, ok)
    sched_restarts = sum(st.get(n, {}).get("restarts", 0) for n in ("flakyS0", "flakyS1", "tmo0", "tmo1"))
    check("watcher leaves scheduled failing tasks alone", "%d restarts" % sched_restarts, "0", sched_restarts == 0)

    # Hanging tasks
    hg = group("hang")
    if len(hg) == 2 and all(n in st for n in hg):
        A, T, G, F, R = sums(hg, "A", "T", "G", "F", "R")
        hung = sum(st[n]["hung"] for n in hg)
        rest = sum(st[n]["restarts"] for n in hg)
        check("hang0-1: hangs begun = hung (status) + hanging now", "%d = %d + %d" % (A, hung, G),
              "equal per task", all(t["A"] == st[n]["hung"] + t["G"] for n, t in hg.items()))
        off([n for n, t in hg.items() if t["A"] != st[n]["hung"] + t["G"]])
        check("  hung (status) = failures seen by on_error = 'hung:' errors", "%d = %d = %d" % (hung, F, T),
              "equal per task", all(st[n]["hung"] == t["F"] == t["T"] for n, t in hg.items()))
        check("  restarted: restarts = runs - 1", "%d = %d - %d" % (rest, R, len(hg)), "equal per task",
              all(st[n]["restarts"] == t["R"] - 1 and t["R"] - 1 <= t["F"] <= t["R"] for n, t in hg.items()))
        p0 = tasks.get("plain0")
        s0 = st.get("plain0", {"hung": -1})
        check("plain0 (critical, heartbeat=3, beats up to 0.8 s apart) never hung", "%d runs, %d hung" % (
            p0["R"] if p0 else -1, s0["hung"]), "2 (stopped once), 0", p0 and p0["R"] == 2 and s0["hung"] == 0)
    else:
        check("hanging tasks", "missing", "", False)

    # Self-rescheduling tasks
    sf = group("self")
    v = r["v"] or [0] * 10
    if len(sf) == 3:
        R, srun, C, skip, exp = sums(sf, "R", "srun", "C", "skip", "exp")
        check("self0-2 (next_run): runs in task = scheduler's runs + conductor's starts",
              "%d = %d + %d" % (R, srun, C), "equal per task", all(t["R"] == t["srun"] + t["C"] for t in sf.values()))
        # F: the interval starts (in exp) that passed while a run waited; the
        # scheduler counts one as skipped only if it reached it before the run
        # replaced its next start, so each may or may not be in skipped.
        amb = sums(sf, "F")[0]

        def within(t):
            return t["exp"] - t["F"] - 1 <= t["srun"] + t["skip"] <= t["exp"] + 1

        check("  runs + skipped = starts the jobs asked for", "%d + %d = %d vs %d (%d of them passed while a run "
              "waited)" % (srun, skip, srun + skip, exp, amb),
              "each within 1 (less those)", all(within(t) for t in sf.values()))
        off(["%s %d+%d/%d-%d" % (n, t["srun"], t["skip"], t["exp"], t["F"]) for n, t in sf.items() if not within(t)])
        out = [x for x in r["slate"] if not overlaps(x[0], x[1], stall + calls + limit)]
        lim = [x for x in r["slate"] if overlaps(x[0], x[1], limit)]
        worst = max([v[4]] + [x[2] for x in out])
        check("  started at the time chosen: latest, earliest (ms)", "%+d, %+d (%d starts; %d late in a window)" % (
            worst, v[5], v[3], len(r["slate"]) - len(out)), "<= %d, >= -1" % MAX_LATE,
              worst <= MAX_LATE and v[5] >= -1)
        if limit:
            info("  ... while max_concurrent=6 (%.0f-%.0f s)" % (limit[0][0] / 1000, limit[0][1] / 1000),
                 "%d starts over 20 ms late, worst %s ms" % (len(lim), max([x[2] for x in lim], default=0)))
    else:
        check("self tasks", "missing", "", False)

    # Totals
    sched = [t for t in tasks.values() if t["srun"] >= 0 and t["exp"] >= 0]
    unsched = [n for n, t in tasks.items() if t["srun"] < 0 and t["group"] != "plain"]
    info("all %d scheduled tasks (not slow7)" % len(sched), "%d due starts (or asked for): %d ran (%d of them retries), "
         "%d skipped (overrun, misfire, stall, waiting for a slot)" % (
             sum(t["exp"] for t in sched), sum(t["srun"] for t in sched),
             sum(t["B"] for n, t in tasks.items() if t["group"] == "retry" or n == "tmo1"),
             sum(t["skip"] for t in sched)))
    info("all %d unscheduled failing tasks" % len(unsched), "%d runs = %d first + %d restarts by watcher_loop" % (
        sum(tasks[n]["R"] for n in unsched), len(unsched), sum(st.get(n, {}).get("restarts", 0) for n in unsched)))

    # plain tasks, conductor
    pl = r["plain"]
    bad = [n for n, p in pl.items() if p["R"] != 1 + p["C"] or not p["running"] or p["iters"] <= 0]
    check("2 plain tasks: stop/start, delete/re-add", "%d stops, %d starts/re-adds, runs %d" % (
        sum(p["D"] for p in pl.values()), sum(p["C"] for p in pl.values()), sum(p["R"] for p in pl.values())),
        "runs = 1 + starts; all running at end", len(pl) == 2 and not bad)
    off(bad)

    # responsiveness
    if v[0]:
        late = [x for x in r["late"] if not overlaps(x[0] - 100 - x[1], x[0], stall + calls)]
        excl = len(r["late"]) - len(late)
        worst = max([v[2]] + [x[1] for x in late])
        at = [x[0] for x in late if x[1] == worst]
        mean = (v[1] - sum(x[1] for x in r["late"]) + 0.0) / max(1, v[0] - excl)
        check("heartbeat 100 ms: max lateness", "%d ms%s (mean %.1f ms, %d of %d beats > 20 ms)" % (
            worst, " at %.1f s" % (at[0] / 1000) if at else "", mean, len(late), v[0]),
            "<= %d ms" % MAX_LATE, worst <= MAX_LATE)
        info("  left out", "%d beats (planned stall %s; status() calls %s)" % (
            excl, "%d ms at %.1f s" % (stall[0][1] - stall[0][0], stall[0][0] / 1000) if stall else "none",
            ", ".join("%d ms" % (b - a) for a, b in calls) or "none"))
    else:
        check("heartbeat", "no data", "", False)
    if r["statusskip"]:
        info("status() while running", "%d of 2 left out: %s bytes free (< 10000: aiostatus and aiologread "
             "need about 7 KB for their code while it prints)" % (len(r["statusskip"]), ", ".join(map(str, r["statusskip"]))))
    # watchdog
    if v[6]:
        gaps = [g for g in r["gaps"] if not overlaps(g[0], g[1], stall + outage)]
        worst = max([v[7]] + [g[1] - g[0] for g in gaps])
        check("watchdog (feed=0.5 s): longest gap between feeds, critical tasks healthy",
              "%d ms (%d feeds)" % (worst, v[6]), "< %d ms" % MAX_GAP, worst < MAX_GAP)
        if outage:
            o = outage[0]
            cover = [g for g in r["gaps"] if g[0] <= o[0] and g[1] >= o[1]]
            check("  not fed while critical plain0 was stopped (%.1f s at %.1f s)" % (
                (o[1] - o[0]) / 1000, o[0] / 1000),
                "gap %s" % ("%d ms, fed again %d ms after the restart" % (
                    cover[0][1] - cover[0][0], cover[0][1] - o[1]) if cover else "none over it"),
                "gap over it; fed again < 1 s", bool(cover) and cover[0][1] - o[1] < 1000)
        if stall:
            sg = [g for g in r["gaps"] if overlaps(g[0], g[1], stall)]
            info("  gap over the planned stall", "%s ms" % (max(g[1] - g[0] for g in sg) if sg else "none"))
    else:
        check("watchdog", "no feeds", "", False)
    return rows, fails


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=180)
    ap.add_argument("--mpy", action="store_true", help="modules as .mpy built by mpy-cross")
    ap.add_argument("--heap", help="micropython -X heapsize (default: %s with --mpy, %s from lib/*.py, "
                    "the smallest that holds it)" % (HEAP_MPY, HEAP_PY))
    ap.add_argument("--no-stall", action="store_true", help="leave out the planned 1.5 s stall")
    ap.add_argument("--log", help="write the board's whole output here")
    ap.add_argument("--lib", default=LIB, help="the modules' directory (default lib/)")
    add_micropython_option(ap)
    args = ap.parse_args()
    if args.heap is None:
        args.heap = HEAP_MPY if args.mpy else HEAP_PY
    if args.seconds < 15:
        ap.error("--seconds must be 15 or more")
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    rc, out, err, wall = run_board(args)
    if args.log:
        with open(args.log, "w") as f:
            f.write(out)
            if err:
                f.write("\n--- stderr ---\n" + err)
    r = parse(out)
    rows, fails = evaluate(args, rc, r, wall)
    print("soak: %d s, modules %s, heap %s%s, %s; started %s" % (
        args.seconds, ".mpy" if args.mpy else "lib/*.py", args.heap,
        ", " + os.path.basename(args.micropython) if args.micropython else "",
        "planned 1.5 s stall" if not args.no_stall else "no stall", started))
    print(table(rows, ("check", "figure", "target", "result")))
    if err.strip():
        print("board stderr (last lines):")
        for line in err.strip().splitlines()[-8:]:
            print("  " + line)
    print("soak: %s" % ("FAILED: " + "; ".join(fails) if fails else "all checks passed"))
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
