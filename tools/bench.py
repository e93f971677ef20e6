#!/usr/bin/env python3
"""Scheduler benchmark: runs the MicroPython scripts in tools/bench/ on the
unix port and prints one markdown table of figures against their targets.

    .venv/bin/python tools/bench.py [--quick] [--mpy] [--only NAME]

Modules come from lib/*.py, or with --mpy from .mpy files that mpy-cross
builds into a temporary directory. The RAM-to-import rows always use .mpy.
Host side: CPython standard library only.
"""

import argparse
import datetime
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading

from hosttools import ROOT, tool
LIB = os.path.join(ROOT, "lib")
SCRIPTS = os.path.join(ROOT, "tools", "bench")


MICROPYTHON = tool("micropython")
MPY_CROSS = tool("mpy-cross")

# Row names for --only, in table order. "drift" shares its run with
# "lateness20". ram_modules: RAM to import each module; cron_cpu: CPU to
# compute the next due time of a cron spec; ram_cron: RAM per calendar
# schedule.
ROWS = ["lateness20", "lateness200", "drift", "burst", "limit", "idle_cpu", "ram_task", "ram_run", "ram_import",
        "ram_modules", "cron_cpu", "ram_cron", "ram_task_96k", "fit_96k"]


class Failed(Exception):
    pass


def run(script, args=(), libdir=LIB, heap=None, timeout=120):
    """Runs tools/bench/script in the unix port; returns (stdout, CPU s)."""
    cmd = [MICROPYTHON]
    if heap:
        cmd += ["-X", "heapsize=" + heap]
    cmd += [os.path.join(SCRIPTS, script)] + [str(a) for a in args]
    env = dict(os.environ, MICROPYPATH=libdir + ":.frozen", TZ="UTC")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=ROOT)
        timer = threading.Timer(timeout, p.kill)
        timer.start()
        try:
            # wait4: the CPU time of this child alone (RUSAGE_CHILDREN would
            # mix in children that run at the same time in other threads).
            _, status, ru = os.wait4(p.pid, 0)
        finally:
            timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    if p.returncode != 0:
        raise Failed("%s %s exited %d: %s" % (script, " ".join(map(str, args)), p.returncode,
                                              (stderr or stdout).strip().splitlines()[-1:]))
    return stdout, ru.ru_utime + ru.ru_stime


def lines(out, tag):
    return [ln.split()[1:] for ln in out.splitlines() if ln.startswith(tag + " ")]


def build_mpy(src, dest):
    for f in sorted(os.listdir(src)):
        if f.endswith(".py"):
            subprocess.run([MPY_CROSS, "-o", os.path.join(dest, f[:-3] + ".mpy"), os.path.join(src, f)],
                           check=True)
    return dest


def pct(values, p):
    # nearest-rank percentile
    v = sorted(values)
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)]


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def ok(cond):
    return "PASS" if cond else "**MISS**"


def kb(n):
    return "%.1f KB" % (n / 1024)


# --- rows ---------------------------------------------------------------


def lateness(n, runs, libdir):
    """Returns ({task: [late ms of run k]}, mismatches, missing)."""
    out, _ = run("lateness.py", (n, runs), libdir, timeout=runs + 60)
    late = {}
    missing = 0
    for f in lines(out, "L"):
        row = [None if x == "x" else int(x) for x in f[1:]]
        missing += row.count(None)
        late[int(f[0])] = row
    check = int(lines(out, "CHECK")[0][0])
    if len(late) != n:
        raise Failed("lateness.py: %d of %d tasks reported" % (len(late), n))
    if missing == n * runs:
        raise Failed("lateness.py: no scheduled run started")
    return late, check, missing


def flat(late):
    return [v for row in late.values() for v in row if v is not None]


def extra(check, missing):
    notes = []
    if missing:
        notes.append("%d runs missing" % missing)
    if check:
        notes.append("%d runs off the library's own due time" % check)
    return ("; " + "; ".join(notes)) if notes else ""


def row_lateness20(late, check, missing, span):
    v = flat(late)
    med, p99 = median(v), pct(v, 99)
    return ("Start lateness, 20 tasks repeating every 1 s (%d s, %d starts)" % (span, len(v)),
            "median %g ms, p99 %d ms, max %d ms%s" % (med, p99, max(v), extra(check, missing)),
            "median ≤ 1 ms, p99 ≤ 3 ms", ok(med <= 1 and p99 <= 3 and not missing))


def row_drift(late, span):
    # Drift of a schedule: lateness of run k minus lateness of its first run,
    # k runs (k seconds) later. Per task, then the median over the 20 tasks
    # (one task's figure is mostly 1 ms tick jitter); the max is shown too.
    half = span // 2

    def at(k):
        d = [row[k] - row[0] for row in late.values() if row[0] is not None and row[k] is not None]
        return median(d), max(abs(x) for x in d)

    m1, x1 = at(half)
    m2, x2 = at(span)
    # least-squares slope of lateness against run time, all starts
    pts = [(k, row[k]) for row in late.values() for k in range(len(row)) if row[k] is not None]
    mk = sum(k for k, _ in pts) / len(pts)
    ml = sum(lv for _, lv in pts) / len(pts)
    slope = sum((k - mk) * (lv - ml) for k, lv in pts) / sum((k - mk) ** 2 for k, _ in pts)
    growing = abs(m2) > abs(m1) + 1 or abs(slope) * span > 1
    return ("Drift of a 1 s repeat over %d s (20 tasks; median over tasks)" % span,
            "%+g ms at %d s, %+g ms at %d s (max %d / %d ms); trend %+.3f ms per 10 s" % (
                m1, half, m2, span, x1, x2, slope * 10),
            "≤ 2 ms, not growing", ok(abs(m1) <= 2 and abs(m2) <= 2 and not growing))


def row_lateness200(late, check, missing, span):
    v = flat(late)
    p99 = pct(v, 99)
    return ("Start lateness, 200 tasks repeating every 1 s (%d s, %d starts)" % (span, len(v)),
            "median %g ms, p99 %d ms, max %d ms%s" % (median(v), p99, max(v), extra(check, missing)),
            "p99 ≤ 15 ms", ok(p99 <= 15 and not missing))


def row_burst(libdir, cycles=3):
    out, _ = run("burst.py", (500, cycles), libdir)
    b = [list(map(int, f)) for f in lines(out, "B")]
    worst = max(last for _, _, _, last in b)
    started = min(c for _, c, _, _ in b)
    return ("500 tasks due at the same instant (worst of %d cycles)" % cycles,
            "last start %d ms after due (first %s ms; %d/500 started)" % (
                worst, "/".join(str(f) for _, _, f, _ in b), started),
            "all within 50 ms", ok(worst <= 50 and started == 500))


def row_limit(libdir, n=500, limit=10, run_ms=20):
    out, _ = run("limit.py", (n, limit, run_ms), libdir)
    started, peak, last_end, prio_last, overtaken = map(int, lines(out, "L")[0])
    return ("%d runs due at once under schedule_loop(max_concurrent=%d), each %d ms, one in ten "
            "with priority=1" % (n, limit, run_ms),
            "at most %d running at once; %d/%d ran; the last ended %d ms after due (%d ms if no slot "
            "ever idled); every priority run started within %d ms, no plain run before them (%d)" % (
                peak, started, n, last_end, n // limit * run_ms, prio_last, overtaken),
            "≤ %d at once, all run, priority first" % limit,
            ok(peak <= limit and started == n and overtaken == 0))


def row_idle(libdir, seconds):
    # CPU time of the idle seconds alone, measured inside the process with
    # time.clock() (see tools/bench/idle.py), so neither start-up nor setting
    # up the 5000 schedules counts. Where time.clock() is missing, the same
    # script is also run for 0 s and the os.wait4 CPU times are subtracted.
    # 5000 schedules do not fit in the default 2 MB heap, hence 8M. Both modes
    # run at once: they are idle, and each CPU figure is the process's own.
    res = {}

    def go(key, mode, secs):
        try:
            out, cpu = run("idle.py", (mode, 5000, secs), libdir, heap="8M", timeout=secs + 60)
            res[key] = (float(lines(out, "CPU")[0][0]), cpu)
        except Failed as e:
            res[key] = e

    def pair(*jobs):
        th = [threading.Thread(target=go, args=j) for j in jobs]
        for t in th:
            t.start()
        for t in th:
            t.join()
        for k, *_ in jobs:
            if isinstance(res[k], Exception):
                raise res[k]

    pair(("s", "sched", seconds), ("p", "poll", seconds))
    ours, poll = res["s"][0], res["p"][0]
    how = "time.clock() over the idle time"
    if ours < 0 or poll < 0:
        pair(("s0", "sched", 0), ("p0", "poll", 0))
        ours = max(0.0, res["s"][1] - res["s0"][1])
        poll = max(0.0, res["p"][1] - res["p0"][1])
        how = "os.wait4, minus a 0 s run"
    # near zero: under 10 ms in all, or under 1% of what the 1 s poll costs
    return ("CPU time, 5000 schedules an hour away, %d s idle" % seconds,
            "%.3f s; a 1 s poll of 5000 schedule dicts: %.3f s (%s; whole processes incl. "
            "start-up and setup: %.3f s / %.3f s)" % (ours, poll, how, res["s"][1], res["p"][1]),
            "near zero (vs the 1 s poll)", ok(ours <= 0.010 or ours <= poll / 100))


def per_task(libdir, n, heap=None, cron=None):
    out, _ = run("ram.py", ("per", n) + ((cron,) if cron else ()), libdir, heap=heap)
    _, settled, peak, later, free = map(int, lines(out, "PER")[0])
    return settled / n, peak / n, later / n, free


def row_ram_task(libdir):
    n = 500
    per, peak, later, _ = per_task(libdir, n)
    return ("RAM per scheduled task (N=%d, aioctl.add + aioschedule.schedule an hour away)" % n,
            "%d B (%d B once schedule_loop has gone round again; %d B before the first yield)" % (
                per, later, peak),
            "≤ 400 B", ok(per <= 400))


def row_ram_run(libdir):
    n = 50
    out, _ = run("ram.py", ("run", n), libdir)
    ctl, bare = map(int, lines(out, "RUN")[0])
    return ("RAM per run going on (N=%d tasks in `await asyncio.sleep()`; the task's own "
            "coroutine included)" % n,
            "%d B (a plain asyncio task of the same coroutine: %d B)" % (ctl // n, bare // n), "—", "")


def row_ram_import(mpydir):
    out, _ = run("ram.py", ("import",), mpydir)
    lib, with_fw = map(int, lines(out, "IMPORT")[0])
    return ("RAM to import aioctl + aioschedule + aiolog (.mpy)",
            "%s (%s counting the first import of asyncio, heapq, io)" % (kb(lib), kb(with_fw)),
            "≤ 24 KB", ok(lib <= 24 * 1024))


def row_ram_modules(mpydir):
    out, _ = run("ram.py", ("modules",), mpydir)
    core = list(zip(("aiolog", "aioctl", "aioschedule"), map(int, lines(out, "MODULES")[0])))
    lazy = []
    for m in ("aiocron", "aiospec", "aiojob", "aiowatch", "aiostore", "aiostatus", "aioinfo", "aiologread"):
        out, _ = run("ram.py", ("modules", m), mpydir)
        lazy.append((m, int(lines(out, "MODULES")[0][0])))
    return ("RAM to import each module (.mpy): the core in a board's order; each lazily imported "
            "module alone on top of the core",
            "%s; imported on first use: %s" % (", ".join("%s %s" % (m, kb(n)) for m, n in core),
                                                ", ".join("%s %s" % (m, kb(n)) for m, n in lazy)),
            "—", "")


def row_cron_cpu(libdir, n):
    res = []
    for spec in ("*/15 8-18 * * 1-5", "0 0 29 2 *", "sched"):
        out, _ = run("cron.py", (n, spec), libdir)
        mean, worst = lines(out, "NEXT")[0]
        res.append("%s µs (worst %s µs)" % (mean, worst))
    # the worst is that of the slowest start time, each timed 3 times (the
    # fastest kept), so that a call the OS preempted does not count
    return ("CPU to compute the next due time of a cron spec (mean of %d start times over 4 years; "
            "worst start time)" % n,
            "next_time: `*/15 8-18 * * 1-5` %s, `0 0 29 2 *` %s; per start of a `*/15 8-18 * * 1-5` "
            "schedule (aiocron.next_wall): %s" % tuple(res), "—", "")


def row_ram_cron(libdir):
    n = 200
    per, peak, later, _ = per_task(libdir, n, cron="0 6 * * *")
    return ("RAM per calendar schedule (N=%d, aioctl.add + aioschedule.schedule(cron=\"0 6 * * *\"))" % n,
            "%d B (%d B once schedule_loop has gone round again; %d B before the first yield)" % (
                per, later, peak), "—", "")


def row_ram_task_96k(libdir):
    n = 40
    per, peak, later, free = per_task(libdir, n, heap="96K")
    return ("RAM per scheduled task, -X heapsize=96K (N=%d)" % n,
            "%d B (%d B once schedule_loop has gone round again)" % (per, later), "—", "")


def row_fit_96k(libdir):
    out, _ = run("ram.py", ("fill",), libdir, heap="96K")
    count, loop = map(int, lines(out, "FILL")[0])
    return ("Scheduled tasks that fit in a 96K heap (added until MemoryError)",
            "%d%s" % (count, "" if loop else " (schedule_loop died of the MemoryError)"), "—", "")


# --- header -------------------------------------------------------------


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for ln in f:
                if ln.startswith("model name"):
                    return ln.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mp_version():
    p = subprocess.run([MICROPYTHON, "-c", "import sys; print(sys.version.split('; ', 1)[-1] + '; ' + "
                        "sys.implementation._machine)"], capture_output=True, text=True)
    return p.stdout.strip() or p.stderr.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short versions of the long rows (5 s instead of 20 s)")
    ap.add_argument("--mpy", action="store_true", help="run against .mpy built by mpy-cross, not lib/*.py")
    ap.add_argument("--lib", metavar="DIR", default=LIB,
                    help="benchmark the modules in DIR instead of lib/ (e.g. a copy of another commit)")
    ap.add_argument("--only", metavar="NAME", action="append", choices=ROWS,
                    help="run only this row (may be repeated): " + ", ".join(ROWS))
    a = ap.parse_args()
    want = set(a.only or ROWS)
    span20 = 5 if a.quick else 20  # run length of the 20-task row and drift
    span200 = 5 if a.quick else 15
    idle_s = 5 if a.quick else 20
    cron_n = 500 if a.quick else 2000

    started = datetime.datetime.now().astimezone()
    tmp = tempfile.mkdtemp(prefix="bench-mpy-")
    rows = []
    try:
        src = os.path.abspath(a.lib)
        mpydir = build_mpy(src, tmp)
        libdir = mpydir if a.mpy else src

        def do(name, fn, *args):
            try:
                r = fn(*args)
                rows.extend(r if isinstance(r, list) else [r])
            except Failed as e:
                rows.append((name, "failed: %s" % e, "", "**MISS**"))

        if want & {"lateness20", "drift"}:
            def both():
                late, check, missing = lateness(20, span20 + 1, libdir)
                out = []
                if "lateness20" in want:
                    out.append(row_lateness20(late, check, missing, span20))
                if "drift" in want:
                    out.append(row_drift(late, span20))
                return out
            do("lateness20/drift", both)
        if "lateness200" in want:
            do("lateness200", lambda: row_lateness200(*lateness(200, span200, libdir), span200))
        for name, fn, *args in (
            ("burst", row_burst, libdir),
            ("limit", row_limit, libdir),
            ("idle_cpu", row_idle, libdir, idle_s),
            ("ram_task", row_ram_task, libdir),
            ("ram_run", row_ram_run, libdir),
            ("ram_import", row_ram_import, mpydir),
            ("ram_modules", row_ram_modules, mpydir),
            ("cron_cpu", row_cron_cpu, libdir, cron_n),
            ("ram_cron", row_ram_cron, libdir),
            ("ram_task_96k", row_ram_task_96k, libdir),
            ("fit_96k", row_fit_96k, libdir),
        ):
            if name in want:
                do(name, fn, *args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    took = (datetime.datetime.now().astimezone() - started).total_seconds()

    u = os.uname()
    print("Date: %s (took %.0f s%s)" % (started.strftime("%Y-%m-%d %H:%M:%S %Z"), took,
                                        ", --quick" if a.quick else ""))
    print("Machine: %s %s %s %s; CPU: %s (%d CPUs)" % (u.sysname, u.nodename, u.release, u.machine,
                                                       cpu_model(), os.cpu_count() or 0))
    print("MicroPython: %s" % mp_version())
    where = os.path.relpath(src, ROOT) if src.startswith(ROOT + os.sep) else src
    print("Modules: %s" % ("%s/*.py built to .mpy (%s)" % (where, subprocess.run(
        [MPY_CROSS, "--version"], capture_output=True, text=True).stdout.strip()) if a.mpy else where + "/*.py"))
    print()
    print("| figure | measured | target | result |")
    print("|---|---|---|---|")
    for r in rows:
        print("| %s |" % " | ".join(r))
    # A missed target is a result; only a benchmark that could not run fails.
    return 1 if any(r[1].startswith("failed:") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
