#!/usr/bin/env python3
"""Fault injection into aioschedule's own loops, on the MicroPython unix port.

    .venv/bin/python tools/faults.py [CYCLES] [--seed 1] [--mpy] [--scenario NAME ...] [--heap 2M] [--micropython PATH]

Stops schedule_loop (or watcher_loop) CYCLES times (default 40) per
scenario at random points in time (random.Random(seed): the same seed gives
the same plan), keeps it down for a random while, starts it again, and
prints one table: cycles, schedules, starts expected (the starts that must
happen - the most that may: a due time within TOL ms of a stop or restart
may start before the stop or collapse into the start at the restart) vs
seen, double starts, lost starts, lost schedules, other errors. Exits 1 if
any check failed, listing the failures under the table. About 0.9 s per
cycle over the five scenarios (40 cycles: 35 s).

A fault is one of: aioctl.stop(loop) + aioctl.start(loop); aioctl.stop +
aioctl.add of a new loop; a cancel of the loop's asyncio Task itself
(aioctl.group()[loop][aioctl.TASK].cancel()) + aioctl.start; the cancel +
aioctl.add of a new loop. The four come in shuffled rounds.

Scenarios (MicroPython side: mp/tests/faultgen.py):
  interval  6 interval schedules (25-90 ms), a one-off, and schedules made
            while the loop is down: each start on the grid start_in +
            k*repeat from the loop's first start, starts missed while it was
            down collapsed into one start at the restart (counted in
            skipped, index 6 of the record; runs + skipped = due times so
            far), no start twice for one due time, the next due time on the
            grid at the end
  queue     schedule_loop(max_concurrent=2), 6 runs of 30 ms due at once
            every 250 ms, the loop stopped with runs waiting in its queue:
            each due run starts once, waiting runs start when it is back,
            never more than 2 at once
  retry     a job with max_retries=2, retry_delay=40 ms that always fails,
            the loop stopped while a retry is pending: the retry starts at
            the restart (or when due), 3 tries per period, no more
  trigger   aioschedule.trigger() while the loop is down (1-3 times): one
            run at the restart, the extra triggers counted in skipped
  watcher   watcher_loop stopped and started while tasks keep failing: no
            restart while it is down, each failure restarted once, within
            max_backoff of the watcher being up; restart=False and
            scheduled tasks left alone; "restarts: N" in status()
In every scenario: no start while the loop that owns it is down, nothing
raised into the event loop, every restart works and ends the loop it
replaces, every loop and task stays in aioctl.group() (the running loop
RUNNING, the replaced ones STOPPED), every schedule in aioschedule.group().

Lateness is judged against TOL (10 ms, as in tests/test_aioschedule.py)
plus the event-loop stalls a 2 ms heartbeat measured (the OS not running the
process): such a stall delays every task, not the scheduler alone.

tests/test_faults.py runs short versions with fixed seeds: the plans and
checks are these. Host side: CPython standard library only.
"""

import argparse
import ast
import os
import random
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # tests load this file by its path
from hosttools import (EXAMPLES, LIB, MP_TESTS, add_micropython_option, add_mpy_option, build_mpy,  # noqa: E402
                       modules_note, run_mp, table)

TOL = 10  # ms of scheduling jitter allowed, as in tests/test_aioschedule.py
KINDS = ("stop_start", "stop_add", "cancel_start", "cancel_add")
LOOPS = {"sched": "schedule_loop", "watch": "watcher_loop"}
RUNNING, ERROR, STOPPED, DONE = 1, 4, 3, 2  # aioctl states


# ------------------------------------------------------------------ plans
# Times are ms after the first start of schedule_loop. Everything stays
# below 1000 ms where it is given as seconds (exact as floats).


def _kinds(rnd):
    # fault kinds in shuffled rounds of all four: any 4 faults in a row have each
    while True:
        k = list(KINDS)
        rnd.shuffle(k)
        yield from k


def plan_interval(seed, cycles):
    rnd = random.Random(seed)
    kinds = _kinds(rnd)
    scheds = [("i%d" % i, rnd.randrange(0, 61), rnd.randrange(25, 91), rnd.choice((0, 0, 5, 12))) for i in range(6)]
    t = 0
    faults = []
    nlate = 0
    for _ in range(cycles):
        kind = next(kinds)
        t += rnd.randrange(5, 100)
        d = 0 if kind.startswith("stop") and rnd.random() < 0.15 else rnd.randrange(1, 110)
        mk = None
        if d >= 12 and nlate < 3 and rnd.random() < 0.3:
            mk = ("late%d" % nlate, rnd.randrange(2, d // 2), rnd.randrange(0, 80), rnd.randrange(25, 91),
                  rnd.choice((0, 5)))
            nlate += 1
        faults.append((t, kind, d, mk))
        t += d
    scheds.append(("once", rnd.randrange(30, min(t, 900) + 31), 0, 0))
    return {"scenario": "interval", "seed": seed, "scheds": scheds, "faults": faults, "end": t + 150}


def plan_queue(seed, cycles):
    # 6 runs of 30 ms due at once every 250 ms, 2 at a time: 3 waves. One
    # fault per burst, from just before it to its last wave.
    rnd = random.Random(seed)
    kinds = _kinds(rnd)
    a, r = 20, 250
    faults = []
    for b in range(cycles):
        faults.append((a + b * r + rnd.randrange(-15, 58), next(kinds), rnd.randrange(5, 51)))
    return {"scenario": "queue", "seed": seed, "n": 6, "run": 30, "slots": 2, "a": a, "r": r,
            "faults": faults, "end": a + (cycles - 1) * r + 240}


def plan_retry(seed, cycles):
    # A job that fails after 5 ms, due every 300 ms, max_retries=2,
    # retry_delay=40 ms: tries at g, ~g+45, ~g+130. One fault per cycle,
    # w ms after the first or the second failure, before the retry is due.
    rnd = random.Random(seed)
    kinds = _kinds(rnd)
    p = {"scenario": "retry", "seed": seed, "fail_ms": 5, "a": 20, "r": 300, "retries": 2, "delay": 40,
         "ta": 10, "tr": 45}
    faults = []
    for k in range(cycles):
        j = rnd.choice((0, 1))
        w = rnd.randrange(3, p["delay"] * (1 << j) - 4)
        faults.append((3 * k + j + 1, w, next(kinds), rnd.randrange(5, 121)))
    p["faults"] = faults
    p["end"] = p["a"] + cycles * p["r"] - 20
    return p


def plan_trigger(seed, cycles):
    rnd = random.Random(seed)
    kinds = _kinds(rnd)
    faults = []
    t = 0
    for _ in range(cycles):
        up_ms = rnd.randrange(15, 80)
        up = None
        if rnd.random() < 0.5:
            up = t + 3 + rnd.randrange(0, up_ms - 9)  # a trigger while the loop runs
        t += up_ms
        d = rnd.randrange(12, 80)
        offs = sorted(rnd.sample(range(2, d - 5), rnd.choice((1, 1, 2, 3))))
        faults.append((t, next(kinds), d, offs, up))
        t += d
    return {"scenario": "trigger", "seed": seed, "ta": 5, "tr": 40, "faults": faults, "end": t + 100}


def plan_watcher(seed, cycles):
    rnd = random.Random(seed)
    kinds = _kinds(rnd)
    faults = []
    t = 0
    for _ in range(cycles):
        t += rnd.randrange(10, 120)
        d = rnd.randrange(5, 121)
        faults.append((t, next(kinds), d))
        t += d
    return {"scenario": "watcher", "seed": seed, "f1": 8, "f2": 15, "sf": 4, "sa": 10, "sr": 60,
            "backoff": 10, "cap": 40, "faults": faults, "end": t + 150}


PLANS = {"interval": plan_interval, "queue": plan_queue, "retry": plan_retry, "trigger": plan_trigger,
         "watcher": plan_watcher}


# ---------------------------------------------------------------- results


def code(plan):
    return "import faultgen\nfaultgen.run(%r)\n" % (plan,)


def parse(out):
    # -> (result dict or None, stray lines); the result's "status": the
    # text of status() at the end
    res, status, stray = {}, [], []
    done = in_status = False
    for line in out.splitlines():
        tag = line.split(" ", 1)[0]
        if in_status:
            status.append(line)
        elif tag == "@@V":
            _, key, v = line.split(" ", 2)
            res[key] = ast.literal_eval(v)
        elif tag == "@@D":
            res[line.split()[1]] = {}
        elif tag == "@@E":
            _, key, rest = line.split(" ", 2)
            k, v = ast.literal_eval(rest)
            res[key][k] = v
        elif tag == "@@L":
            res[line.split()[1]] = []
        elif tag == "@@I":
            _, key, v = line.split(" ", 2)
            res[key].append(ast.literal_eval(v))
        elif tag == "@@END":
            done = True
        elif line == "@@STATUS":
            in_status = True
        else:
            stray.append(line)
    res["status"] = "\n".join(status)
    return (res if done else None), stray


class Stats:
    def __init__(self, scenario, plan, tol=TOL):
        self.scenario = scenario
        self.cycles = len(plan["faults"])
        self.schedules = 0
        self.exp_min = 0  # starts that must be seen
        self.exp_max = 0  # ... and that may be seen (a due time within TOL of a stop or restart)
        self.seen = 0
        self.double = 0
        self.lost = 0  # starts
        self.lost_sch = 0  # schedules gone from aioschedule.group()
        self.errors = []  # everything else that is wrong
        self.catchups = 0  # starts at a restart for due times missed while the loop was down
        self.queued_at_stop = 0  # stops that found runs waiting in the max_concurrent queue
        self.retry_down = 0  # retries that came due while the loop was down
        self.restarted_after_down = 0  # watcher restarts of failures from before it came back
        self.problems = []  # one line per failure, for the report
        self.stalls = []  # (from, to): the event loop ran nothing (faultgen's heartbeat)
        self.tol = tol

    def fail(self, msg, kind=None):
        self.problems.append(msg)
        if kind == "double":
            self.double += 1
        elif kind == "lost":
            self.lost += 1
        elif kind == "lost_sch":
            self.lost_sch += 1
        else:
            self.errors.append(msg)

    @property
    def ok(self):
        return not self.problems


def slack(st, a, b):
    # ms of measured event-loop stalls between a and b: a start cannot be
    # on time while the process does not run (the OS, a garbage
    # collection); faultgen's 2 ms heartbeat measures them
    n = 0
    for x, y in st.stalls:
        n += max(0, min(b, y) - max(a, x))
    return n


def within(st, due, x):
    # x is a start on time for due: not early, at most tol late (plus stalls)
    return -1 <= x - due <= st.tol + slack(st, due, x)


def deadline(st, t):
    # the latest time for a start due at t
    return t + st.tol + slack(st, t, t + st.tol + 40)


def _common(st, res, stray, loops=("sched",)):
    # Nothing reached the event loop, nothing started while its loop was
    # down, every restart worked and ended the loop it replaced, every
    # background task is still in aioctl.group() in the state it should be.
    if res is None:
        st.fail("no result (the script died?): %s" % " | ".join(stray[-8:]))
        return
    st.stalls = res["stalls"]
    for e in res["errors"]:
        st.fail("exception in the event loop: %s" % e)
    for e in res["wrong"]:
        st.fail(e)
    for n, t in res["bad"]:
        st.fail("%s started at %d while its loop was down" % (n, t))
    for line in stray:
        st.fail("unexpected output: %s" % line)
    for S, R, kind, ok, gone, cur, info, was in res["faults"]:
        if not ok:
            st.fail("%s at %d: the restart of %s failed" % (kind, S, cur))
        if gone is False:
            st.fail("%s at %d: the old loop task was still running at the restart (%d)" % (kind, S, R))
    recs = res["recs"]
    for w in loops:
        cur = res["current"][w]
        rec = recs.get(cur)
        if rec is None:
            st.fail("loop %s is gone from aioctl.group()" % cur)
        elif rec[0] != RUNNING or rec[1] is not False:
            st.fail("loop %s: state %r, task done %r; want running" % (cur, rec[0], rec[1]))
        for n, rec in recs.items():
            if n.startswith(LOOPS[w]) and n != cur and (rec[0] != STOPPED or rec[1] is not None):
                st.fail("old loop %s: state %r, task %r; want stopped and no task" % (n, rec[0], rec[1]))
    names = [f[5] for f in res["faults"]] + [f[7] for f in res["faults"]] + list(res["current"].values())
    for n in sorted(set(names)):
        if n not in recs:
            st.fail("loop %s is gone from aioctl.group()" % n)
    for n in sorted(res["launches"]):
        if n not in recs:
            st.fail("task %s is gone from aioctl.group()" % n)


def _downs(res):
    return [(f[0], f[1]) for f in res["faults"]]


def _fire(t, downs):
    # When the loop handles a due time t: at t, or at the restart if down.
    for S, R in downs:
        if S < t < R:
            return R
    return t


def check_grid(st, name, first, r, run, L, downs, E, info, tol=TOL):
    """An interval (r ms) or one-off (r=0) schedule whose start 0 is due at
    `first`; L: its launch times; downs: (S, R) of each time schedule_loop
    was down; info: (state, runs, skipped, next_in) at E."""

    def g(k):
        return first + k * r

    def kmax(t):
        if t < first:
            return -1
        return (t - first) // r if r else 0

    def catch(x):
        # x is a start right after the loop was down (or stalled): the due
        # times missed meanwhile collapse into it
        for S, R in downs:
            if R <= x and within(st, R, x):
                return S, R
        for S, R in st.stalls:
            if R - 2 <= x and within(st, R, x):
                return S, R
        return None

    def overrun(prev, i):
        # due i found the last run still going (it takes run ms): skipped
        if prev is None:
            return False
        f = _fire(g(i), downs)
        return prev - 1 <= f <= prev + run + (tol if run else 2) + slack(st, prev, f)

    st.schedules += 1
    st.seen += len(L)
    p, prev = -1, None
    for j, x in enumerate(L):
        k = kmax(x)  # the last due time by then (a start is never early: x >= its due time)
        if k > 0 and x == g(k) and j + 1 < len(L) and kmax(L[j + 1]) == k and catch(x) and p < k - 1:
            # A catch-up at a restart whose pass began in the ms before due
            # k (its time here is the scheduler's last clock reading, which
            # aiojob takes again before the launch), followed by the start
            # for due k itself: the catch-up is for k - 1.
            k -= 1
        if k < 0:
            st.fail("%s: started at %d, before its first due time %d" % (name, x, first))
            continue
        on = within(st, g(k), x)
        c = catch(x)
        if k <= p:
            st.fail("%s: started twice for the start due at %d (again at %d)" % (name, g(k), x), "double")
            continue
        if not on and c is None:
            st.fail("%s: started at %d, off its grid (due %d) and not at a restart" % (name, x, g(k)))
        if c and (not on or p + 1 < k):
            st.catchups += 1
        if not on and c and g(k) < c[0] - tol:
            st.fail("%s: due at %d (before the stop at %d) but started only at the restart %d" % (
                name, g(k), c[0], x), "lost")
        for i in range(p + 1, k):
            if c and g(i) >= c[0] - tol:
                continue  # missed while the loop was down: collapsed into this start
            if overrun(prev, i):
                continue
            st.fail("%s: no start for the due time %d" % (name, g(i)), "lost")
        p, prev = k, x
    last = kmax(E - tol - 2 - slack(st, E - tol - 60, E))  # due long enough before the end to have started
    for i in range(p + 1, last + 1):
        if not overrun(prev, i):
            st.fail("%s: no start for the due time %d" % (name, g(i)), "lost")
    # Expected starts: each due time while the loop ran, and one per stop
    # that missed due times; optional: due times within m ms of a stop or a
    # restart (or in a stall), which may start on their own or collapse
    # into the start at the restart. m: the lateness seen here (at most tol).
    late = [x - g(kmax(x)) for x in L if kmax(x) >= 0 and not catch(x)]
    m = min(tol, max([d for d in late if d <= tol], default=tol) + 2)
    need = opt = 0
    zones = [(S - m, R + run + m) for S, R in downs] + [(S - m, R + run + m) for S, R in st.stalls]
    for i in range(0, last + 1):
        t = g(i)
        if any(S + 1 < t < R - 1 for S, R in downs):
            continue  # missed: counted below, once per stop
        if any(a <= t <= b for a, b in zones):
            opt += 1
        else:
            need += 1
    opt += max(0, kmax(E) - last)  # due in the last ms: may have started
    for S, R in downs:
        if any(S + 1 < g(i) < R - 1 for i in range(0, last + 1)):
            if R - S > run + m:
                need += 1
            else:
                opt += 1  # the run before the stop may still be going
    st.exp_min += need
    st.exp_max += need + opt
    # the scheduler's own count and its next due time
    if info is None:
        st.fail("%s: its schedule is gone" % name, "lost_sch")
        return
    state, runs, skipped, next_in = info
    if runs != len(L):
        st.fail("%s: %d runs counted, %d started" % (name, runs, len(L)))
    if not r:
        if state != "over" or runs != 1 or skipped != 0:
            st.fail("%s: one-off: %r, runs %d, skipped %d; want over, 1, 0" % (name, state, runs, skipped))
        return
    if state != "scheduled" or next_in is None:
        st.fail("%s: state %r next_in %r; want scheduled" % (name, state, next_in))
        return
    D = E + next_in
    K = round((D - first) / r)
    if abs(D - g(K)) > 2:
        st.fail("%s: next start at %d is off its grid %d + k*%d" % (name, D, first, r))
    elif not (g(K) >= E - 2 - slack(st, E - tol - 60, E) and g(K - 1) <= E + 2):
        st.fail("%s: next start at %d, but the time is %d" % (name, D, E))
    elif runs + skipped != K:
        st.fail("%s: runs %d + skipped %d != %d due times so far" % (name, runs, skipped, K))


def check_interval(st, plan, res, downs, tol):
    E = res["E"]
    sch = set(res["scheduled"])
    todo = [(n, a, r, run, 0) for n, a, r, run in plan["scheds"]]
    for at, kind, d, mk in plan["faults"]:
        if mk:
            n, off, a, r, run = mk
            if n not in res["lates"]:
                st.fail("%s: not made" % n)
                continue
            todo.append((n, a, r, run, res["lates"][n]))
    for n, a, r, run, c in todo:
        if n not in sch:
            st.fail("%s: gone from aioschedule.group()" % n, "lost_sch")
        check_grid(st, n, c + a, r, run, res["launches"].get(n, []), downs, E, res["info"].get(n), tol)
        rec = res["recs"].get(n)
        if rec is None or rec[0] not in (DONE, RUNNING):
            st.fail("%s: aioctl record %r; want done or running" % (n, rec))
    return st


def _runs(L, ends):
    # (start, end) of each run; end None while it goes on
    return [(x, ends[i] if i < len(ends) else None) for i, x in enumerate(L)]


def check_queue(st, plan, res, downs, tol):
    n, a, r, slots = plan["n"], plan["a"], plan["r"], plan["slots"]
    names = ["q%d" % i for i in range(n)]
    bursts = [a + b * r for b in range(len(plan["faults"]))]
    late = _late_cycles(a, r, len(bursts), res["E"])
    runs = {q: _runs(res["launches"].get(q, []), res["ends"].get(q, [])) for q in names}
    st.schedules = n
    st.exp_min = st.exp_max = n * len(bursts)
    st.seen = sum(len(v) for v in runs.values())
    if res["peak"] > slots:
        st.fail("%d runs at once, max_concurrent is %d" % (res["peak"], slots))
    for q in names:
        if q not in res["scheduled"]:
            st.fail("%s: gone from aioschedule.group()" % q, "lost_sch")
        for due in bursts:
            got = [x for x, e in runs[q] if due - 1 <= x < due + r - 1]
            if not got:
                st.fail("%s: no start for the burst due at %d" % (q, due), "lost")
            for x in got[1:]:
                st.fail("%s: started again at %d for the burst due at %d" % (q, x, due), "double")
        for due in late:
            for x in [x for x, e in runs[q] if due - 1 <= x < due + r - 1][1:]:
                st.fail("%s: started again at %d for the burst due at %d" % (q, x, due), "double")
        other = [x for x, e in runs[q] if not any(d - 1 <= x < d + r - 1 for d in bursts + late)]
        for x in other:
            st.fail("%s: started at %d, outside every burst" % (q, x))
        info = res["info"].get(q)
        if info and (info[1] != len(runs[q]) or info[2] != 0):
            st.fail("%s: runs %d skipped %d; want %d and 0" % (q, info[1], info[2], len(runs[q])))

    def waiting(t):
        # runs due at t that have not started yet
        due = max([d for d in bursts if d <= t], default=None)
        if due is None:
            return 0
        return sum(1 for q in names if not any(due - 1 <= x <= t for x, e in runs[q]))

    def going(t):
        return sum(1 for q in names for x, e in runs[q] if x < t and (e is None or e > t))

    def starts(t0, t1):
        return sum(1 for q in names for x, e in runs[q] if t0 <= x <= t1)

    for S, R in downs:
        if waiting(S) and going(S) >= slots:
            st.queued_at_stop += 1
        if any(R - tol - 1 <= d <= R + tol for d in bursts):
            continue  # a burst due at the restart itself: not clear-cut
        want = min(waiting(R - 1), max(0, slots - going(R)))
        got = starts(R - 1, deadline(st, R))
        if got < want:
            st.fail("restart at %d: %d runs waited and %d slots were free, %d started" % (
                R, waiting(R - 1), slots - going(R), got), "lost")
    # a slot freed while the loop runs goes to a waiting run at once
    for q in names:
        for x, e in runs[q]:
            if e is None or _fire(e, downs) != e or any(S - 1 <= e <= S + 1 for S, R in downs):
                continue
            if waiting(e) and not starts(e - 1, deadline(st, e)):
                st.fail("%s ended at %d with runs waiting and none started" % (q, e), "lost")
    return st


def _late_cycles(a, r, n, E):
    # Starts of the cycles after the plan's n (every r ms from a) that began
    # before the report at E: a busy machine reports late, and what is due
    # by then starts. Starts in them are no failure.
    return [a + c * r for c in range(n, (E - a) // r + 1)]


def check_retry(st, plan, res, downs, tol):
    a, r, k_max, delay = plan["a"], plan["r"], plan["retries"], plan["delay"]
    L = res["launches"].get("rt", [])
    ends = res["ends"].get("rt", [])
    ncyc = len(plan["faults"])
    st.schedules = 2
    st.exp_min = st.exp_max = ncyc * (1 + k_max)
    st.seen = len(L)
    if "rt" not in res["scheduled"]:
        st.fail("rt: gone from aioschedule.group()", "lost_sch")
    for c in range(ncyc):
        g = a + c * r
        W = [i for i, x in enumerate(L) if g - 1 <= x < g + r - 1]
        if len(W) < 1 + k_max:
            st.fail("rt: cycle at %d: %d tries, want %d" % (g, len(W), 1 + k_max), "lost")
        for i in W[1 + k_max:]:
            st.fail("rt: cycle at %d: an extra try at %d" % (g, L[i]), "double")
        for j, i in enumerate(W[:1 + k_max]):
            x = L[i]
            if j == 0:
                want = (_fire(g, downs),)
            else:
                if i - 1 >= len(ends):
                    st.fail("rt: try %d of the cycle at %d has no end" % (j, g))
                    continue
                u = ends[i - 1] + (delay << (j - 1))  # the retry is due
                want = (u, _fire(u, downs))
                if want[1] != u:
                    st.retry_down += 1
                # within tol of a stop: either
                want += tuple(R for S, R in downs if S - tol <= u <= S + 1)
            if not any(within(st, w, x) for w in want):
                st.fail("rt: try %d of the cycle at %d started at %d, want %s" % (
                    j, g, x, " or ".join(map(str, want))))
    late = _late_cycles(a, r, ncyc, res["E"])
    for g in late:
        W = [x for x in L if g - 1 <= x < g + r - 1]
        if len(W) > 1 + k_max:
            st.fail("rt: cycle at %d: %d tries, at most %d" % (g, len(W), 1 + k_max), "double")
    extra = [x for x in L if not any(a + c * r - 1 <= x < a + (c + 1) * r - 1 for c in range(ncyc + len(late)))]
    for x in extra:
        st.fail("rt: started at %d, after the last cycle" % x, "double")
    info = res["info"].get("rt")
    if info and (info[1] != len(L) or info[2] != 0):
        st.fail("rt: runs %d skipped %d; want %d and 0" % (info[1], info[2], len(L)))
    rec = res["recs"].get("rt")
    if rec is None or rec[0] != ERROR or "OSError" not in rec[2]:
        st.fail("rt: aioctl record %r; want ERROR with its OSError" % (rec,))
    check_tick(st, plan, res, downs, tol)
    return st


def check_tick(st, plan, res, downs, tol):
    # retry and trigger: "tick", a plain schedule every tr ms from ta, goes on
    # beside the one under test, on its grid
    check_grid(st, "tick", plan["ta"], plan["tr"], 0, res["launches"].get("tick", []), downs, res["E"],
               res["info"].get("tick"), tol)


def check_trigger(st, plan, res, downs, tol):
    L = list(res["launches"].get("btn", []))
    want = []  # (earliest, latest, what)
    ntrig = 0
    for u, ok in res["ups"]:
        ntrig += 1
        if ok is not True:
            st.fail("trigger at %d returned %r" % (u, ok))
        want.append((u, deadline(st, u), "the trigger at %d" % u))
    for S, R, kind, ok, gone, cur, info, was in res["faults"]:
        for t, ok in info:
            ntrig += 1
            if ok is not True:
                st.fail("trigger at %d (loop down) returned %r" % (t, ok))
        if info:
            want.append((R - 1, deadline(st, R), "%d trigger(s) while the loop was down, restart at %d" % (
                len(info), R)))
    st.schedules = 2
    st.exp_min = st.exp_max = len(want)
    st.seen = len(L)
    for lo, hi, what in want:
        got = [x for x in L if lo <= x <= hi]
        if not got:
            st.fail("btn: no start for %s" % what, "lost")
            continue
        L.remove(got[0])
    for x in L:
        st.fail("btn: started at %d, for no trigger" % x, "double")
    info = res["info"].get("btn")
    if info is None:
        st.fail("btn: its schedule is gone", "lost_sch")
    else:
        n = len(res["launches"].get("btn", []))
        if info[1] != n or info[2] != ntrig - n:
            st.fail("btn: runs %d skipped %d; want %d and %d (triggers %d)" % (info[1], info[2], n, ntrig - n, ntrig))
        if info[0] != "scheduled":
            st.fail("btn: schedule state %r" % (info[0],))
    check_tick(st, plan, res, downs, tol)
    return st


def check_watcher(st, plan, res, downs, tol):
    # downs: of watcher_loop
    E, cap = res["E"], plan["cap"]
    st.schedules = 5
    for n in ("f1", "f2"):
        L = res["launches"].get(n, [])
        ends = res["ends"].get(n, [])
        st.seen += len(L)
        st.exp_min += 1  # the add
        st.exp_max += 1
        # each failure: one restart, by the deadline (counting only time the watcher is up)
        for i, e in enumerate(ends):
            t = _fire(e, downs)
            while True:
                nxt = [R for S, R in downs if t <= S < t + cap + tol]
                if not nxt:
                    break
                t = nxt[0]
            dl = t + cap + tol + slack(st, e, t + cap + tol + 40)
            if dl > E - 2:
                st.exp_max += 1  # the restart may come before the end, or not
                continue
            st.exp_min += 1
            st.exp_max += 1
            if i + 1 >= len(L):
                st.fail("%s failed at %d and was not restarted by %d" % (n, e, dl), "lost")
                continue
            x = L[i + 1]
            if x < e - 1:
                st.fail("%s restarted at %d before its run ended (%d)" % (n, x, e), "double")
            elif x > dl:
                st.fail("%s failed at %d, restarted only at %d (deadline %d)" % (n, e, x, dl), "lost")
            if any(e < R <= x for S, R in downs):
                st.restarted_after_down += 1  # the watcher was down in between: its restart did it
        if len(L) > len(ends) + 1:
            st.fail("%s: %d starts for %d failures" % (n, len(L), len(ends)), "double")
        want = "    ┗━► restarts: %d" % (len(L) - 1)
        if want not in res["status"].splitlines():
            st.fail("%s: status has no %r" % (n, want.strip()))
        rec = res["recs"].get(n)
        if rec is None or rec[0] not in (RUNNING, ERROR):
            st.fail("%s: aioctl record %r; want running or ERROR" % (n, rec))
    if len(res["launches"].get("nr", [])) != 1:
        st.fail("nr (restart=False) started %d times" % len(res["launches"].get("nr", [])), "double")
    if len(res["launches"].get("ok", [])) != 1 or res["recs"].get("ok", (0,))[0] != RUNNING:
        st.fail("ok: started %d times, record %r; want 1, running" % (len(res["launches"].get("ok", [])),
                                                                       res["recs"].get("ok")))
    if res["recs"].get("nr", (0,))[0] != ERROR:
        st.fail("nr: record %r; want ERROR" % (res["recs"].get("nr"),))
    st.exp_min += 2
    st.exp_max += 2
    st.seen += 2
    # the scheduled failing task: only its schedule starts it (schedule_loop never stops here)
    check_grid(st, "sf", plan["sa"], plan["sr"], plan["sf"], res["launches"].get("sf", []), [], E,
               res["info"].get("sf"), tol)
    st.schedules = 5  # the tasks: f1, f2, nr, ok and the scheduled sf
    for n, rec in res["recs"].items():
        if rec[0] == ERROR and n not in ("f1", "f2", "nr", "sf"):
            st.fail("%s: ERROR %s" % (n, rec[2]))
    return st


def check(plan, out, tol=TOL):
    # The checks of every scenario (_common), then the scenario's own
    res, stray = parse(out)
    s = plan["scenario"]
    st = Stats(s, plan, tol)
    _common(st, res, stray, ("sched", "watch") if s == "watcher" else ("sched",))
    if res is None:
        return st
    return {"interval": check_interval, "queue": check_queue, "retry": check_retry, "trigger": check_trigger,
            "watcher": check_watcher}[s](st, plan, res, _downs(res), tol)


# -------------------------------------------------------------------- run


def run(plan, libdir, heap=None, timeout=None, exe=None):
    if timeout is None:
        timeout = plan["end"] / 1000 * 3 + 30
    p = run_mp(["-c", code(plan)], (libdir, MP_TESTS, EXAMPLES), heap, timeout, exe=exe)
    out = p.stdout
    if p.returncode or p.stderr:
        out += "\n(exit %d) %s" % (p.returncode, p.stderr.strip().replace("\n", " | "))
    return out


HEAD = ("scenario", "cycles", "schedules", "starts expected", "seen", "double starts", "lost starts",
        "lost schedules", "errors", "result")


def row(st):
    exp = str(st.exp_min) if st.exp_min == st.exp_max else "%d-%d" % (st.exp_min, st.exp_max)
    return (st.scenario, st.cycles, st.schedules, exp, st.seen, st.double, st.lost, st.lost_sch, len(st.errors),
            "ok" if st.ok else "FAIL")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cycles", type=int, nargs="?", default=40, help="stop/start cycles per scenario (default 40)")
    ap.add_argument("--seed", type=int, default=1, help="the plans' random seed (default 1)")
    add_mpy_option(ap)
    ap.add_argument("--scenario", action="append", choices=list(PLANS), help="only this one (repeatable)")
    ap.add_argument("--heap", default=None, help="micropython -X heapsize=")
    add_micropython_option(ap)
    args = ap.parse_args()
    if args.cycles < 1:
        ap.error("cycles must be 1 or more")
    names = args.scenario or list(PLANS)
    t0 = time.monotonic()
    rows = []
    with tempfile.TemporaryDirectory(prefix="faults-") as tmp:
        libdir = build_mpy(tmp) if args.mpy else LIB
        for name in names:
            plan = PLANS[name](args.seed, args.cycles)
            try:
                out = run(plan, libdir, args.heap, exe=args.micropython)
            except subprocess.TimeoutExpired:
                out = "(timed out)"
            rows.append(check(plan, out))
    print("faults: %d cycles per scenario, seed %d, %s, %.1f s" % (
        args.cycles, args.seed, modules_note(args.mpy, args.micropython), time.monotonic() - t0))
    print(table(HEAD, [row(st) for st in rows]))
    stalls = [y - x for st in rows for x, y in st.stalls]
    print("covered: %d starts at a restart for due times missed while the loop was down; %d stops with runs "
          "queued (max_concurrent); %d retries due while the loop was down; %d watcher restarts of tasks that "
          "failed before it came back; %d event-loop stalls measured%s" % (
              sum(st.catchups for st in rows), sum(st.queued_at_stop for st in rows),
              sum(st.retry_down for st in rows),
              sum(st.restarted_after_down for st in rows), len(stalls),
              " (longest %d ms; starts late by them are not counted late)" % max(stalls) if stalls else ""))
    bad = [st for st in rows if not st.ok]
    for st in bad:
        print("\n%s (seed %d):" % (st.scenario, args.seed))
        for p in st.problems[:30]:
            print("  " + p)
        if len(st.problems) > 30:
            print("  ... %d more" % (len(st.problems) - 30))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
