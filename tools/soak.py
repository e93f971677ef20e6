#!/usr/bin/env python3
"""Soak test: 50 aioctl tasks of a realistic mix on the MicroPython unix port
with a small heap, for --seconds; prints one table and exits non-zero if a
check fails.

    .venv/bin/python tools/soak.py [--seconds 180] [--mpy] [--heap 116K] [--no-stall] [--hog] [--micropython PATH]

The board side is mp/soak/board.py (see its header for the task mix),
with boardinit.py and boardend.py, which it imports for the start and the
end only. The modules come from lib/*.py (or --lib DIR), or with --mpy from
.mpy files that mpy-cross builds into a temporary directory. The board
scripts are always compiled with mpy-cross and imported (`micropython -c
"import board"`), as an application of this size is deployed. The default
heap is 116K with --mpy, the smallest that holds it with about 8 KB to
spare (96K did until the library grew: the report at the end, which loads
aioinfo, no longer fits; 100K neither; 104K did until aioinfo took
aioctl.tasks(), 106K until the name maps and the heap were made of small
pieces, issue 16; 112K until the start path was split into smaller
functions, when its least free heap fell to 6.7 KB and some runs died of
MemoryError in the report); from
lib/*.py it is 128K: compiling the modules on the board needs large free
blocks, and status() compiles aiostatus.py at each
call, as it lets the module go after. `--seconds 20` is the quick mode
(about 25 s; tests/test_soak.py runs it). Host side: CPython standard
library only.

Every due start of every scheduled task is accounted for: runs counted
inside the task equal the scheduler's runs; runs + skipped equal the due
starts (plus the retries, which the task counts, and which follow from its
failures); self-rescheduled tasks started at the times they chose.
Unscheduled tasks that fail are restarted: runs = 1 + restarts, and hangs
and timeouts each counted three ways (planned by the task, seen by
on_error, shown by status()).

--hog: memory pressure. The same mix plus a hog (mp/soak/boardhog.py)
that every 2-5 s fills the heap completely and holds it for 50-500 ms.
MemoryErrors in the jobs are expected then, and counted by place: a run
that failed before its job began counts with the job's own runs (task
runs + those = the scheduler's runs, exactly), one the job raised with its
failures. Checked besides: the loops never die, no record stays RUNNING
without a run, every due start is run or skipped, free heap flat, no
"Task exception wasn't retrieved"; the spikes (count, time held full) are
in the table. board.py's main() waits while the heap is held. Its default
heap is 130K with --mpy (144K from lib/*.py): the plain soak's 116K for
the mix, about 7 KB for what the hog mode adds on 64-bit (an on_error for
every task, to count its MemoryErrors exactly: 2.7 KB; boardhog: 3.9 KB),
and room for what the spikes leave (the MemoryError a task's last failure
keeps in its record, the heap in pieces). When the mix took 106K, the hog
mode's 112K held 20 s but not 600 s (the free heap sank to 2 KB and the
report at the end failed), 108K not even 20 s.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from hosttools import (LIB, MP, add_micropython_option, add_mpy_option, build_mpy, run_mp, strip_ansi, table,
                       utc_now)

BOARD = os.path.join(MP, "soak")

HEAP_MPY = "116K"  # default heap with --mpy: the smallest that holds the soak
HEAP_PY = "128K"  # default heap from lib/*.py (compiling needs large free blocks)
HEAP_HOG = "130K"  # the same with --hog: 116K for the mix, the hog mode's own RAM, what spikes leave
HEAP_HOG_PY = "144K"
MIN_FREE = 4096  # bytes: least free heap after a collect, at any sample
HEAP_DRIFT = 4096  # bytes: mean free heap, last fifth of the run vs the fifth after warm-up
MAX_LATE = 50  # ms: worst heartbeat / self-chosen start lateness (stall, status() excluded)
MAX_GAP = 2000  # ms: longest gap between watchdog feeds while the critical tasks are healthy
MAXR = 2  # max_retries of retry0-2 and tmo1 (board.py)
SPIKE_AFTER = 200  # ms after a hog spike still in its window (lateness)
SPIKE_AFTER_WDT = 1000  # the same for the watchdog's gaps


def run_board(args):
    tmp = tempfile.mkdtemp(prefix="soak-")
    try:
        libdir = build_mpy(os.path.join(tmp, "lib"), args.lib) if args.mpy else args.lib
        appdir = build_mpy(os.path.join(tmp, "app"), BOARD)
        argv = ["board", str(args.seconds), "nostall" if args.no_stall else "stall"] + (["hog"] if args.hog else [])
        code = "import sys\nsys.argv[:] = %r\nimport board\n" % (argv,)
        t = time.monotonic()
        try:
            # cwd: an empty directory, so that nothing there shadows a module
            p = run_mp(["-c", code], (libdir, appdir), args.heap, args.seconds + 60, exe=args.micropython, cwd=tmp)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = "timeout", text(e.stdout), text(e.stderr)
        wall = time.monotonic() - t
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rc, out, err, wall


def text(data):
    # what a process that timed out had written (bytes, or None)
    return (data or b"").decode(errors="replace")


def parse(out):
    r = {"mem": [], "unexpected": [], "memerror": [], "tasks": {}, "plain": {}, "ram": {},
         "status": {}, "late": [], "slate": [], "gaps": [], "stall": None, "calls": [],
         "limit": [], "outage": None, "v": None, "end": None, "done": False, "fatal": None,
         "statusskip": [], "spikes": [], "me": {}, "hogv": None, "loopdown": [], "stuck": [],
         "endcheck": None, "taskexc": 0, "kept": None}
    in_status = False
    current = None
    for line in out.splitlines():
        if in_status:
            if line.startswith("SOAK status-end"):
                in_status = False
                continue
            plain = strip_ansi(line)
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
            r["mem"].append((n[0], n[1], n[2] if len(n) > 2 else 0))
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
            r["statusskip"].append((n[0], "MemoryError" in f))
        elif k == "spike":
            r["spikes"].append(tuple(n))
        elif k == "me":
            r["me"][f[2]] = tuple(n)
        elif k == "hogv":
            r["hogv"] = n
        elif k == "kept":
            r["kept"] = n[:2]
        elif k == "loopdown":
            r["loopdown"].append((f[2], n[0]))
        elif k == "stuck":
            r["stuck"].append((f[2], n[0]))
        elif k == "endcheck":
            r["endcheck"] = (n[:4], f[6:])
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
    r["taskexc"] = out.count("Task exception wasn't retrieved")
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
    hog = args.hog
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
                           ("modules", "aiojob+aiowatch, board data, boardinit" + (", boardhog" if hog else "")),
                           ("tasks", "50 tasks"),
                           ("loops", "loops"), ("running", "boardinit dropped")):
            if key in ram:
                fig += "; %s %+d" % (label, ram[key][0] - prev)
                prev = ram[key][0]
        if "running" in ram:
            fig += "; free when running %d" % ram["running"][1]
        info("RAM (gc.mem_alloc, bytes)", fig)
    check("MemoryError" + (" not in a job (loops, asyncio, main)" if hog else ""),
          ", ".join(sorted(set(r["memerror"]))) or "none", "none", not r["memerror"])
    check("unexpected exceptions", "%d%s" % (len(r["unexpected"]), (
        ": " + "; ".join(r["unexpected"][:3])) if r["unexpected"] else ""), "0", not r["unexpected"])
    check("\"Task exception wasn't retrieved\" (stdout, stderr)", "%d" % r["taskexc"], "0", not r["taskexc"])

    # Loops and records (both modes; the sightings once a second in hog mode)
    hv = r["hogv"] or [0] * 13
    ec = r["endcheck"]
    if ec:
        (sl_ok, wl_ok, nstuck, nleft), names = ec
        died = [u for u in r["unexpected"] if u.split()[0] in ("sl", "wl")]
        fig = "at the end sl %s, wl %s" % ("running" if sl_ok else "NOT RUNNING", "running" if wl_ok else "NOT RUNNING")
        if hog:
            fig += "; %d of %d monitor passes saw a loop's record with an exception, %d a loop not running" % (
                hv[8], hv[11], hv[9])
        check("loops (sl, wl) never died", fig + ("; " + "; ".join(died) if died else ""),
              "running, never an exception", sl_ok and wl_ok and not died and not hv[8] and not hv[9])
        fig = "%d at the end (before every run is stopped), %d after" % (nstuck, nleft)
        if hog:
            fig += "; %d sightings in %d monitor passes" % (hv[10], hv[11])
        check("records RUNNING with no live run (stuck)", fig + ("; " + ", ".join(names[:6]) if names else "") + (
            "; " + ", ".join("%s at %.1f s" % (n, t / 1000) for n, t in r["stuck"][:4]) if r["stuck"] else ""),
            "0", not nstuck and not nleft and not hv[10])
    else:
        check("loops, stuck records", "no data", "", False)

    # Windows the conductor and the hog printed (ms from the start)
    stall = [r["stall"]] if r["stall"] else []
    # From the fill to after the collection, and then the time schedule_loop
    # may still sleep: a pass that failed is tried again 100 ms later
    # (lateness), or until the critical fast* tasks that failed have run
    # again (watchdog)
    spikes = [(x[0], x[2] + SPIKE_AFTER) for x in r["spikes"]]
    spikes_wdt = [(x[0], x[2] + SPIKE_AFTER_WDT) for x in r["spikes"]]
    if hog:
        n = len(r["spikes"])
        held = sum(x[1] - x[0] for x in r["spikes"])
        lo = max(1, (secs - 6) // 5 - 1)
        check("hog spikes: heap filled, held full 50-500 ms, let go", "%d spikes, %d ms held full in all (%.1f%% of "
              "the time), longest %d ms; filling took %d ms in all, longest %d ms; %s bytes free before the last" % (
                  n, held, held / 10.0 / secs, max([x[1] - x[0] for x in r["spikes"]] or [0]),
                  sum(x[3] for x in r["spikes"]), max([x[3] for x in r["spikes"]] or [0]), hv[12]),
              ">= %d spikes" % lo, n >= lo and hv[3] == n)
        per = sorted(((sum(v), k) for k, v in r["me"].items()), reverse=True)
        info("MemoryErrors seen, by place", "%d runs failed before the job began (counted with the job's runs), "
             "%d raised in jobs, %d in board.py's main (conductor, monitor); most: %s" % (
                 hv[0], hv[1], hv[2], ", ".join("%s %d+%d" % ((k,) + r["me"][k]) for _, k in per[:5]) or "none"))
        kept = r["kept"] or [0, 0]
        info("  records that keep a MemoryError at the end", "%d of 52, holding %d bytes (a task's last "
             "exception stays in its record)" % tuple(kept))
    calls = r["calls"]
    limit = [tuple(r["limit"][:2])] if len(r["limit"]) >= 2 else []
    outage = [r["outage"]] if r["outage"] else []

    # Memory. Hog mode: each record that keeps a MemoryError holds the RAM
    # measured at the end (per record), counted back into the free heap for
    # the drift: more tasks keep one as the spikes go on (at most 52).
    per = r["kept"][1] / r["kept"][0] if hog and r["kept"] and r["kept"][0] else 0
    mem = [(p[0], p[1] + int(p[2] * per)) for p in r["mem"]]
    raw = r["mem"]
    warm_ms = (5 if secs < 60 else 15) * 1000
    after = [p for p in mem if p[0] >= warm_ms]
    if len(after) >= 5:
        k = max(1, len(after) // 5)
        a0 = sum(p[1] for p in after[:k]) / k
        a1 = sum(p[1] for p in after[-k:]) / k
        rf = [p[1] for p in raw]
        rlo = min(rf)
        check("free heap after gc.collect (%d samples, 1 a second)" % len(mem),
              "first %d, min %d at %.0f s, max %d, last %d" % (
                  rf[0], rlo, raw[rf.index(rlo)][0] / 1000, max(rf), rf[-1]),
              ">= %d (room for aiostatus, fragmentation)" % MIN_FREE, rlo >= MIN_FREE)
        # hog mode, a short run: a fifth is 3 samples, taken between spikes
        # that leave the heap in pieces; 60 s or more: the plain soak's limit
        drift = HEAP_DRIFT * 2 if hog and secs < 60 else HEAP_DRIFT
        check("free heap%s: mean of the last fifth - of the fifth after warm-up; trend" % (
            " + what the kept MemoryErrors hold (%d B each)" % per if per else ""),
              "%+d bytes; %+.0f bytes/min" % (a1 - a0, slope(after)), "within %d" % drift,
              abs(a1 - a0) <= drift)
    else:
        check("free heap samples", "%d" % len(mem), "> warm-up", False)

    tasks = r["tasks"]
    st = r["status"]
    for n, t in tasks.items():
        # hog: MS runs that failed before the job began (the job did not
        # count them), ME MemoryErrors the job raised
        t["MS"], t["ME"] = r["me"].get(n, (0, 0))

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
        R, MS, srun, skip, exp = sums(ts, "R", "MS", "srun", "skip", "exp")
        if hog:
            check(label + ": runs in task + failed starts = scheduler's runs", "%d + %d = %d" % (R, MS, srun),
                  "equal per task", all(abs(t["R"] + t["MS"] - t["srun"]) <= t["D"] for t in ts.values()))
        else:
            check(label + ": runs in task = scheduler's runs", "%d = %d" % (R, srun), "equal per task",
                  all(abs(t["R"] - t["srun"]) <= t["D"] for t in ts.values()))
        off(["%s %d+%d/%d" % (n, t["R"], t["MS"], t["srun"]) for n, t in ts.items()
             if abs(t["R"] + t["MS"] - t["srun"]) > t["D"]])
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
            # tmo1: failures seen by on_error; retry0-2: raised, and failed starts
            t["fails"] = t["F"] if n == "tmo1" else t["A"] + t["MS"]
        R, MS, srun, skip, exp, B, F, D = sums(retry, "R", "MS", "srun", "skip", "exp", "B", "fails", "D")
        pend = sum(1 <= t["C"] <= MAXR for t in retry.values())
        if hog:
            check("retry0-2, tmo1 (max_retries=2): runs in task + failed starts = scheduler's runs",
                  "%d + %d = %d" % (R, MS, srun), "equal per task",
                  all(t["R"] + t["MS"] == t["srun"] for t in retry.values()))
        else:
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
        check("tmo0 (timeout 0.3 s, scheduled): runs%s = scheduler's; runs + skipped = due" % (
            " + failed starts" if hog else ""),
              "%d%s = %d; %d + %d vs %d" % (t0["R"], " + %d" % t0["MS"] if hog else "", t0["srun"], t0["srun"],
                                           t0["skip"], t0["exp"]),
              "equal; within 1", t0["R"] + t0["MS"] == t0["srun"] and abs(
                  t0["srun"] + t0["skip"] - t0["exp"]) <= t0["tol"])
        A, T, G, F, MS, ME = sums(tm, "A", "T", "G", "F", "MS", "ME")
        planned = tm["tmo2"]["D"]
        check("tmo0-2 overruns begun = timeouts seen by on_error + still going", "%d = %d + %d" % (A, T, G),
              "equal per task", all(t["A"] == t["T"] + t["G"] for t in tm.values()))
        if hog:
            check("tmo0-2 failures = timeouts + tmo2's planned failures + MemoryErrors",
                  "%d = %d + %d + %d" % (F, T, planned, MS + ME), "equal per task",
                  all(t["F"] == t["T"] + (t["D"] if n == "tmo2" else 0) + t["MS"] + t["ME"] for n, t in tm.items()))
        else:
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
        # failures seen by on_error, or raised (and MemoryErrors); runs
        # counted in the task, and those that failed before it began
        nf = t["F"] if n == "tmo2" else t["A"] + t["ME"] + t["MS"]
        runs = t["R"] + t["MS"]
        ok = s["restarts"] == runs - 1 and runs - 1 <= nf <= runs
        target = "restarts = runs - 1 = failures (- 1)"
        if n == "flakyU0":
            # crash loop, backoff 0.05 s doubling to 1 s: about 6 fast ones, then 1/s
            lo, hi = int(0.7 * secs) - 5, secs + 10
            ok = ok and lo <= s["restarts"] <= hi
            target += ", %d..%d (backoff)" % (lo, hi)
        check("watcher restarts " + n, "%d restarts, %d runs%s, %d failures" % (
            s["restarts"], runs, " (%d failed at the start)" % t["MS"] if hog else "", nf), target, ok)
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
        MS, ME = sums(hg, "MS", "ME")
        if hog:
            check("  hung (status) = failures seen by on_error - MemoryErrors = 'hung:' errors",
                  "%d = %d - %d = %d" % (hung, F, MS + ME, T), "equal per task",
                  all(st[n]["hung"] == t["F"] - t["MS"] - t["ME"] == t["T"] for n, t in hg.items()))
        else:
            check("  hung (status) = failures seen by on_error = 'hung:' errors", "%d = %d = %d" % (hung, F, T),
                  "equal per task", all(st[n]["hung"] == t["F"] == t["T"] for n, t in hg.items()))
        check("  restarted: restarts = runs - 1", "%d = %d%s - %d" % (
            rest, R, " + %d failed at the start" % MS if hog else "", len(hg)), "equal per task",
              all(st[n]["restarts"] == t["R"] + t["MS"] - 1 and t["R"] + t["MS"] - 1 <= t["F"] <= t["R"] + t["MS"]
                  for n, t in hg.items()))
        p0 = tasks.get("plain0")
        s0 = st.get("plain0", {"hung": -1, "restarts": 0})
        pl0 = r["plain"].get("plain0")
        # runs: the first, the conductor's start after the outage (and more
        # in hog mode: restarts after a start that failed)
        ok = p0 and pl0 and p0["R"] + p0["MS"] == 1 + pl0["C"] + s0["restarts"] and s0["hung"] == 0
        check("plain0 (critical, heartbeat=3, beats up to 0.8 s apart) never hung", "%d runs%s, %d hung" % (
            p0["R"] if p0 else -1, " + %d failed at the start, %d restarts" % (p0["MS"], s0["restarts"])
            if hog and p0 else "", s0["hung"]), "1 + starts (stopped once), 0", ok)
    else:
        check("hanging tasks", "missing", "", False)

    # Self-rescheduling tasks
    sf = group("self")
    v = r["v"] or [0] * 10
    if len(sf) == 3:
        R, MS, srun, C, skip, exp = sums(sf, "R", "MS", "srun", "C", "skip", "exp")
        if hog:
            check("self0-2 (next_run): runs in task + failed starts = scheduler's runs + conductor's starts",
                  "%d + %d = %d + %d" % (R, MS, srun, C), "equal per task",
                  all(t["R"] + t["MS"] == t["srun"] + t["C"] for t in sf.values()))
        else:
            check("self0-2 (next_run): runs in task = scheduler's runs + conductor's starts",
                  "%d = %d + %d" % (R, srun, C), "equal per task",
                  all(t["R"] == t["srun"] + t["C"] for t in sf.values()))
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
        out = [x for x in r["slate"] if not overlaps(x[0], x[1], stall + calls + limit + spikes)]
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

    def plain_ok(n, p):
        # runs = 1 + the conductor's starts; in hog mode a start may fail
        # (MS) and be restarted by watcher_loop: its restarts now (plain1's
        # since it was last added) <= the runs beyond those <= MS
        t = tasks.get(n, {"MS": 0})
        w = p["R"] + t["MS"] - 1 - p["C"]
        return st.get(n, {}).get("restarts", 0) <= w <= t["MS"] and p["running"] and p["iters"] > 0

    bad = [n for n, p in pl.items() if not plain_ok(n, p)]
    check("2 plain tasks: stop/start, delete/re-add", "%d stops, %d starts/re-adds, runs %d%s" % (
        sum(p["D"] for p in pl.values()), sum(p["C"] for p in pl.values()), sum(p["R"] for p in pl.values()),
        " (+ %d failed at the start)" % sum(tasks.get(n, {"MS": 0})["MS"] for n in pl) if hog else ""),
        "runs = 1 + starts; all running at end", len(pl) == 2 and not bad)
    off(bad)

    # responsiveness
    if v[0]:
        late = [x for x in r["late"] if not overlaps(x[0] - 100 - x[1], x[0], stall + calls + spikes)]
        excl = len(r["late"]) - len(late)
        worst = max([v[2]] + [x[1] for x in late])
        at = [x[0] for x in late if x[1] == worst]
        mean = (v[1] - sum(x[1] for x in r["late"]) + 0.0) / max(1, v[0] - excl)
        check("heartbeat 100 ms: max lateness", "%d ms%s (mean %.1f ms, %d of %d beats > 20 ms)" % (
            worst, " at %.1f s" % (at[0] / 1000) if at else "", mean, len(late), v[0]),
            "<= %d ms" % MAX_LATE, worst <= MAX_LATE)
        info("  left out", "%d beats (planned stall %s; status() calls %s%s)" % (
            excl, "%d ms at %.1f s" % (stall[0][1] - stall[0][0], stall[0][0] / 1000) if stall else "none",
            ", ".join("%d ms" % (b - a) for a, b in calls) or "none", "; hog spikes" if hog else ""))
    else:
        check("heartbeat", "no data", "", False)
    if r["statusskip"]:
        low = [str(x) for x, me in r["statusskip"] if not me]
        me = [str(x) for x, me in r["statusskip"] if me]
        info("status() while running", "%d of 2 left out: %s" % (len(r["statusskip"]), "; ".join(
            ([", ".join(low) + " bytes free (< 10000: aiostatus and aiologread need about 7 KB for their code "
              "while it prints)"] if low else []) +
            ([", ".join(me) + " bytes free, but MemoryError in the call (aiostatus, aioinfo)"] if me else []))))
    # watchdog
    if v[6]:
        gaps = [g for g in r["gaps"] if not overlaps(g[0], g[1], stall + outage + spikes_wdt)]
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
    add_mpy_option(ap)
    ap.add_argument("--heap", help="micropython -X heapsize (default: %s with --mpy, %s from lib/*.py, "
                    "the smallest that holds it; --hog: %s, %s)" % (HEAP_MPY, HEAP_PY, HEAP_HOG, HEAP_HOG_PY))
    ap.add_argument("--no-stall", action="store_true", help="leave out the planned 1.5 s stall")
    ap.add_argument("--log", help="write the board's whole output here")
    ap.add_argument("--lib", default=LIB, help="the modules' directory (default lib/)")
    ap.add_argument("--hog", action="store_true", help="memory pressure: a task fills the heap every 2-5 s "
                    "and holds it full for 50-500 ms")
    add_micropython_option(ap)
    args = ap.parse_args()
    if args.heap is None:
        args.heap = (HEAP_HOG if args.hog else HEAP_MPY) if args.mpy else (HEAP_HOG_PY if args.hog else HEAP_PY)
    if args.seconds < 15:
        ap.error("--seconds must be 15 or more")
    started = utc_now()
    rc, out, err, wall = run_board(args)
    if args.log:
        with open(args.log, "w") as f:
            f.write(out)
            if err:
                f.write("\n--- stderr ---\n" + err)
    r = parse(out)
    r["taskexc"] += err.count("Task exception wasn't retrieved")
    rows, fails = evaluate(args, rc, r, wall)
    print("soak: %d s, modules %s, heap %s%s, %s; started %s" % (
        args.seconds, ".mpy" if args.mpy else "lib/*.py", args.heap,
        ", " + os.path.basename(args.micropython) if args.micropython else "",
        "planned 1.5 s stall" if not args.no_stall else "no stall", started) + (
            "; hog: the heap filled every 2-5 s for 50-500 ms" if args.hog else ""))
    print(table(("check", "figure", "target", "result"), rows))
    if err.strip():
        print("board stderr (last lines):")
        for line in err.strip().splitlines()[-8:]:
            print("  " + line)
    print("soak: %s" % ("FAILED: " + "; ".join(fails) if fails else "all checks passed"))
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
