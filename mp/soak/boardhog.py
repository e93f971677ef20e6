# Soak test, hog mode (board.py's argv word "hog"; tools/soak.py --hog): the
# whole mix of board.py plus a hog, an asyncio task that every 2-5 s (its
# own seeded generator) fills the heap completely and holds it full for
# 50-500 ms, then lets it go (junk = None; gc.collect()). It fills with a
# chain of pairs (junk, bytearray(n)), n = 4096, 256, 16, 1 in turn (a
# growing list could not take the last holes of a fragmented heap), and
# takes again, every 5 ms while it holds, what the others let go.
#
# While it holds, board.HOLD is set and main() (the monitor, the
# conductor) waits; the jobs go on and fail with MemoryError where they
# allocate. Every task has an on_error (board.chk or board.onerr) that
# brings its MemoryErrors here (memerr), without allocating: a run that
# failed before its job began (the job's first step could not be made) is
# counted apart per task (MS), as the job would have counted it (retries,
# self-chosen starts); one the job raised (it sets board.MB first) in ME.
# Each monitor pass (once a second, outside a spike) looks at the loops'
# records (sl, wl: running, no exception) and for records RUNNING with no
# live asyncio Task (look). boardend prints the figures (report).
#
# Nothing here allocates while the heap is held full (small ints, arrays,
# print of small ints and interned names), except the fill itself.

import gc
import time
import asyncio
from array import array
import aioctl
import board as b

tm = time.ticks_ms
td = time.ticks_diff
N, SL, FS, RT, FU, TM, HG, SF, CA, PL, MAXR = b.LAYOUT
MS = array("H", bytes(2 * N))  # runs that failed with MemoryError before the job began
ME = array("H", bytes(2 * N))  # MemoryErrors raised in the job (board.MB set)
# K: 0 failed starts, 1 in jobs, 2 in board.py's main() (conductor, monitor);
# 3 spikes, 4 ms held full (fill to release), 5 the longest, 6 ms filling,
# 7 the longest fill; 8 monitor passes that found a loop's record with an
# exception, 9 a loop not running, 10 records RUNNING with no live Task
# (sightings); 11 monitor passes; 12 bytes free just before the last fill
K = array("i", bytes(4 * 13))
_h = 4321


def hrnd(n):
    # the hog's own generator (small ints on 32-bit too)
    global _h
    _h = (_h * 75 + 74) % 65537
    return _h % n


def onerr(e, i):
    # on_error of the tasks without board.chk
    if isinstance(e, MemoryError):
        memerr(e, i)
    elif not isinstance(e, b.Planned):
        b.note(b.NM[i], e)
    return e


def interval(i, e, k):
    # self0-2: the run did not choose its next start (next_run() failed, or
    # the run failed before it began): the schedule's interval gives it; if
    # the schedule was over (self2 started by the conductor), the conductor
    # starts it again.
    if e is None:
        b.G[i] = 1
    else:
        rep = (1000, 400, 700)[i - SF]
        b.E[i - SF] = time.ticks_add(e, rep * (k + 1))
        b.EA[i - SF] = time.ticks_add(e, rep * k) if k else None  # board.EA
        b.A[i] += 1


XN = [None] * 4  # unexpected exceptions noted while the heap was full
XE = [None] * 4


def keep(name, e):
    # board.note() while the hog holds the heap: kept (no allocation) for
    # flush() to print; True if kept
    if not b.HOLD:
        return False
    for k in range(4):
        if XN[k] is None:
            XN[k] = name
            XE[k] = e
            return True
    print("SOAK", "unexpected", name, "(more)")
    return True


def flush():
    # main(), outside a spike: what keep() kept
    for k in range(4):
        if XN[k] is not None:
            n, e = XN[k], XE[k]
            XN[k] = XE[k] = None
            b.V[8] -= 1  # counted once
            b.note(n, e)


def memerr(e, i):
    # on_error of task i got a MemoryError (called in the run's end, maybe
    # with the heap full: allocates nothing)
    if b.MB[i]:
        b.MB[i] = 0
        ME[i] += 1
        K[1] += 1
        return
    MS[i] += 1
    K[0] += 1
    if RT <= i < FU or i == TM + 1:
        # retry0-2, tmo1: the failure the job would have counted
        s = b.C[i]
        if 0 < s <= MAXR:
            b.B[i] += 1  # the run was a retry
        else:
            s = 0
        s += 1
        b.C[i] = s
        b.D[i] += s > MAXR
    elif SF <= i < CA:
        # self0-2: the run did not choose its next start
        e0 = b.E[i - SF]
        k = 0 if e0 is None else max(0, td(tm(), e0) // (1000, 400, 700)[i - SF])
        b.A[i] += k
        b.F[i] += k
        interval(i, e0, k)


def board():
    K[2] += 1


def look():
    # A monitor pass: the loops' records, and records RUNNING with no run.
    # Returns how many records keep a MemoryError (their last failure's).
    g = aioctl.group()
    kept = 0
    for n in ("sl", "wl"):
        t = g.get(n)
        if t is None:
            continue  # sl while swap() replaces it
        if t[aioctl.EXC] is not None:
            K[8] += 1
        task = t[aioctl.TASK]
        if t[aioctl.STATE] != aioctl.RUNNING or task is None or task.done():
            K[9] += 1
            print("SOAK", "loopdown", n, b.el(), t[aioctl.STATE])
    for t in g.values():
        task = t[aioctl.TASK]
        if t[aioctl.STATE] == aioctl.RUNNING and (task is None or task.done()):
            K[10] += 1
            print("SOAK", "stuck", t[aioctl.NAME], b.el())
        kept += isinstance(t[aioctl.EXC], MemoryError)
    K[11] += 1
    return kept


J = [None]  # what the hog holds: in here only, never in the hog's own frame


def fill():
    # A plain function: its frame is on the C stack, gone when it returns. A
    # pointer left in the hog coroutine's frame (on the heap, scanned whole
    # by the collector) would keep the chain after J[0] = None.
    for size in (4096, 256, 16, 1):
        try:
            while True:
                J[0] = (J[0], bytearray(size))
        except MemoryError:
            pass


async def hog():
    end = b.SECS * 1000 - 4000  # the last spike is over before the conductor's end
    try:
        while True:
            await asyncio.sleep_ms(2000 + hrnd(3001))
            if b.el() >= end:
                break
            hold = 50 + hrnd(451)
            gc.collect()
            K[12] = gc.mem_free()
            b.HOLD = True
            t0 = tm()
            fill()
            t1 = tm()
            while td(tm(), t1) < hold:
                await asyncio.sleep_ms(5)
                fill()  # what the others let go meanwhile
            t2 = tm()
            J[0] = None
            gc.collect()
            b.HOLD = False
            K[3] += 1
            f = td(t1, t0)
            h = td(t2, t0)
            K[4] += h
            K[5] = max(K[5], h)
            K[6] += f
            K[7] = max(K[7], f)
            print("SOAK", "spike", td(t0, b.T0), td(t2, b.T0), td(tm(), b.T0), f, K[12], gc.mem_free())
    except BaseException as e:
        J[0] = None
        b.HOLD = False
        b.note("hog", e)  # not raised on: no "Task exception wasn't retrieved"


def report():
    # boardend, at the end
    for i in range(N):
        if MS[i] or ME[i]:
            print("SOAK", "me", b.NM[i], MS[i], ME[i])
    print("SOAK", "hogv", *K)
    # The records that keep a MemoryError (their last failure's), and the
    # RAM they hold: measured by letting them go (the report is made)
    gc.collect()
    free = gc.mem_free()
    n = 0
    for t in aioctl.group().values():
        e = t[aioctl.EXC]
        if isinstance(e, MemoryError):
            n += 1
            t[aioctl.EXC] = None
            if t[aioctl.RESULT] is e:
                t[aioctl.RESULT] = None  # on_error's value
    e = None
    gc.collect()
    print("SOAK", "kept", n, gc.mem_free() - free)
