# Soak test, the MicroPython side: 50 aioctl tasks of a realistic mix for a
# given number of seconds, on a board-sized heap:
#
#   micropython -X heapsize=96K -c "import sys; sys.argv[:] = ['board', '180']; import board"
#
# with board.mpy (mpy-cross) and lib/ (or its .mpy) on MICROPYPATH, as
# tools/soak.py runs it; as a plain script (micropython ... board.py 180) it
# needs a bigger heap, since compiling it takes RAM. argv: seconds [nostall].
#
# Everything goes through the public API (aioctl, aioschedule, aiocron.info,
# aiolog.streamlog). Report lines start with "SOAK "; everything else on
# stdout (aioctl.status() trees) is for people. tools/soak.py runs it and
# turns the report into one table.
#
# Groups (names):
#   fast0-19   interval 0.1-0.5 s, run a few ms (sleep or busy), log a line
#   slow0-9    interval 1-1.9 s, every 4th run overruns its repeat (skipped)
#              slow9 is stopped and started again by the conductor
#   flakyS0-2  scheduled, raise Planned every 3rd run (run again when due)
#   flakyU0-1  unscheduled, raise Planned; restarted by watcher_loop
#              (U0 fails at once every time: a crash loop held by backoff)
#   cal0-4     calendar schedules: cron, secs=range(), jitter, times, misfire
#   plain0-9   while True loops; plain7/8 stopped and started, plain6 deleted
#              and added again by the conductor
# plus schedule_loop, watcher_loop, conductor, monitor (gc + memory every
# second) and heartbeat (100 ms, lateness).

import sys
import gc
import time
import asyncio

# aiocron first: from .py source on a 96K heap, compiling aiocron.py after
# aioctl and aioschedule are loaded (which is what aioschedule's lazy import
# does at the first calendar schedule) raises MemoryError. Compiled first, it
# fits (see the report).
import aiocron
import aioctl
import aioschedule
from aiolog import streamlog
from minilog import Logger

ticks_ms = time.ticks_ms
ticks_diff = time.ticks_diff


class Planned(Exception):
    pass


SECS = int(sys.argv[1]) if len(sys.argv) > 1 else 60
STALL = not (len(sys.argv) > 2 and sys.argv[2] == "nostall")
QUICK = SECS < 60
WARMUP = 5 if QUICK else 15  # s: memory after this is the reference

runs = {}  # name -> runs counted inside the task function
iters = {}  # plain tasks: loop iterations
stops = {}  # name -> stop() calls by the conductor
starts = {}  # name -> start() calls (or re-adds) by the conductor
unexpected = []  # (name, repr) of errors that were not planned
seen_exc = {}  # name -> last exception seen by the scan
_seed = [12345]


def rnd(n):
    # deterministic pseudo-random 0..n-1 (LCG), no allocation beyond small ints
    _seed[0] = (_seed[0] * 1103515245 + 12345) & 0x3FFFFFFF
    return (_seed[0] >> 8) % n


def note(name, e):
    if len(unexpected) < 20:
        unexpected.append((name, repr(e)))
    print("SOAK unexpected %s %r" % (name, e))
    if isinstance(e, MemoryError):
        print("SOAK memerror %s" % name)


def busy(ms):
    t = ticks_ms()
    while ticks_diff(ticks_ms(), t) < ms:
        pass


# ---- the task functions ----------------------------------------------------

async def fast(name, ms, block):
    runs[name] += 1
    try:
        if block:
            busy(ms)  # a sensor read that blocks the loop a moment
        else:
            await asyncio.sleep_ms(ms)
        print("[%s] run %d" % (name, runs[name]), file=streamlog)
    except Exception as e:
        note(name, e)
        raise


inflight = {}  # name -> runs of it going on now (must stay 0 or 1)


def enter(name):
    k = inflight.get(name, 0)
    if k:
        note(name, "stacked: a run started while %d still going" % k)
    inflight[name] = k + 1


async def slow(name, repeat_ms, phase):
    n = runs[name] = runs[name] + 1
    enter(name)
    try:
        if (n + phase) % 4 == 0:
            await asyncio.sleep_ms(repeat_ms * 3 // 2 + 50)  # overrun: next start skipped
        else:
            await asyncio.sleep_ms(200 + rnd(400))
        print("[%s] run %d" % (name, n), file=streamlog)
        return n
    except Exception as e:
        note(name, e)
        raise
    finally:
        inflight[name] -= 1


async def flaky_sched(name):
    n = runs[name] = runs[name] + 1
    try:
        await asyncio.sleep_ms(20)
    except Exception as e:
        note(name, e)
        raise
    if n % 3 == 0:
        raise Planned("planned failure %d" % n)
    return n


async def flaky_crash(name):
    # fails at once, every time: watcher_loop's backoff must hold it
    runs[name] += 1
    await asyncio.sleep_ms(5)
    raise Planned("crash loop")


async def flaky_late(name):
    runs[name] += 1
    try:
        await asyncio.sleep_ms(300 + rnd(1200))
    except Exception as e:
        note(name, e)
        raise
    raise Planned("failed after a while")


async def cal(name, long_every):
    n = runs[name] = runs[name] + 1
    enter(name)
    try:
        if long_every and n % long_every == 0:
            await asyncio.sleep_ms(3500)  # overruns a 2 s calendar: skipped
        else:
            await asyncio.sleep_ms(50)
        print("[%s] run %d" % (name, n), file=streamlog)
    except Exception as e:
        note(name, e)
        raise
    finally:
        inflight[name] -= 1


async def plain(name, ms):
    runs[name] += 1
    try:
        while True:
            await asyncio.sleep_ms(ms)
            iters[name] += 1
    except Exception as e:
        note(name, e)
        raise


# ---- heartbeat, monitor, conductor -------------------------------------------

hb = {"n": 0, "max": 0, "sum": 0, "over20": 0, "excluded": 0, "max_at": 0}
stall = [None, None]  # ticks of the planned stall: start, end
busy_win = [None, None]  # ticks of the last status() call: start, end
T0 = [0]


def overlaps(win, prev, now):
    s0, s1 = win
    return s0 is not None and ticks_diff(now, s0) > 0 and (s1 is None or ticks_diff(s1, prev) > 0)


async def heartbeat():
    prev = ticks_ms()
    while True:
        await asyncio.sleep_ms(100)
        now = ticks_ms()
        late = ticks_diff(now, prev) - 100
        if overlaps(stall, prev, now) or overlaps(busy_win, prev, now):
            hb["excluded"] += 1  # this beat spans the planned stall or a status() call
        else:
            hb["n"] += 1
            hb["sum"] += late
            if late > hb["max"]:
                hb["max"] = late
                hb["max_at"] = ticks_diff(now, T0[0])
            if late > 20:
                hb["over20"] += 1
        prev = now


mem = {"first": None, "warm": None, "min": None, "max": None, "last": None, "n": 0}


def scan():
    # Errors recorded by aioctl that are not the planned ones (also catches
    # failures of schedule_loop, watcher_loop and the helpers).
    for name, t in aioctl.group().items():
        e = t[aioctl.EXC]
        if e is not None and seen_exc.get(name) is not e:
            seen_exc[name] = e
            if not isinstance(e, Planned):
                note(name, e)


async def monitor():
    while True:
        await asyncio.sleep_ms(1000)
        try:
            scan()
            gc.collect()
            free = gc.mem_free()
            el = ticks_diff(ticks_ms(), T0[0])
            if mem["first"] is None:
                mem["first"] = free
            if mem["warm"] is None and el >= WARMUP * 1000:
                mem["warm"] = free
            mem["min"] = free if mem["min"] is None else min(mem["min"], free)
            mem["max"] = free if mem["max"] is None else max(mem["max"], free)
            mem["last"] = free
            mem["n"] += 1
            print("SOAK mem %d %d" % (el, free))
        except Exception as e:
            note("monitor", e)


def _stop(name):
    stops[name] = stops.get(name, 0) + 1
    aioctl.stop(name)


def _start(name):
    if aioctl.group()[name][aioctl.STATE] != aioctl.RUNNING:
        starts[name] = starts.get(name, 0) + 1
        aioctl.start(name)


async def conductor(secs):
    # Stops and starts plain7 every 2 s, plain8 (1 s down every 5 s), slow9
    # (2.5 s down every 10 s); deletes and re-adds plain6 every 7 s; one
    # planned 1.5 s stall of the whole loop; status() twice. Ends 3 s before
    # the run does, with every task it touched running again.
    end = (secs - 3) * 1000
    stall_at = secs * 450 if STALL else -1
    status_at = [secs * 1000 // 3, secs * 2000 // 3]
    step = 0
    try:
        while True:
            await asyncio.sleep_ms(500)
            step += 1
            el = ticks_diff(ticks_ms(), T0[0])
            if el >= end:
                break
            if step % 4 == 0:
                if aioctl.group()["plain7"][aioctl.STATE] == aioctl.RUNNING:
                    _stop("plain7")
                else:
                    _start("plain7")
            if step % 10 == 3:
                _stop("plain8")
            if step % 10 == 5:
                _start("plain8")
            if step % 20 == 7:
                _stop("slow9")
            if step % 20 == 12:
                _start("slow9")
            if step % 14 == 9:
                aioctl.delete("plain6")
                got = aioctl.add(plain, "plain6", 37, name="plain6")
                starts["plain6"] = starts.get("plain6", 0) + 1
                if got != "plain6":
                    print("SOAK unexpected conductor re-added plain6 as %r" % got)
                    unexpected.append(("conductor", "re-add name %r" % got))
            if stall_at >= 0 and el >= stall_at:
                stall_at = -1
                stall[0] = ticks_ms()
                time.sleep_ms(1500)  # a blocking flash write, say: starts are missed
                stall[1] = ticks_ms()
                print("SOAK stall %d 1500" % ticks_diff(stall[0], T0[0]))
            if status_at and el >= status_at[0]:
                status_at.pop(0)
                print("SOAK status-mid")  # the tree follows; the host ignores it
                busy_win[0] = ticks_ms()
                busy_win[1] = None
                try:
                    aioctl.status(debug=len(status_at) == 0)
                except Exception as e:
                    note("status()", e)
                busy_win[1] = ticks_ms()
                print("SOAK statuscall %d %d" % (
                    ticks_diff(busy_win[0], T0[0]), ticks_diff(busy_win[1], busy_win[0])))
        for n in ("plain7", "plain8", "slow9"):
            _start(n)
    except Exception as e:
        note("conductor", e)
        raise


# ---- setup and report ---------------------------------------------------------

FAST = []  # (name, repeat ms, start_in ms)
SLOW = []
FLAKY_S = []
CAL = []  # (name, kind, extra)
PLAIN = []


def setup(secs):
    aioctl.set_log(streamlog)
    for i in range(20):
        name = "fast%d" % i
        rep = (1 + i % 5) * 100
        sin = 50 + i * 13
        runs[name] = 0
        aioctl.add(fast, name, 2 + i % 7, i % 2 == 1 and i % 4 == 1, name=name)
        opts = {}
        if i == 17:
            opts["misfire"] = "skip"
        if i in (18, 19):
            opts["jitter"] = 0.05
        aioschedule.schedule(name, start_in=sin / 1000, repeat=rep / 1000, **opts)
        FAST.append((name, rep, sin, 1 if opts else 0))
    for i in range(10):
        name = "slow%d" % i
        rep = 1000 + 100 * i
        runs[name] = 0
        aioctl.add(slow, name, rep, i % 4, name=name)
        opts = {}
        soft = 0
        if i < 4:
            opts["soft_start"] = 0.5
            soft = 1
        aioschedule.schedule(name, start_in=0.2 + i * 0.05, repeat=rep / 1000, **opts)
        SLOW.append((name, rep, 200 + i * 50, soft))
    for i, rep in enumerate((500, 800, 1300)):
        name = "flakyS%d" % i
        runs[name] = 0
        aioctl.add(flaky_sched, name, name=name)
        aioschedule.schedule(name, start_in=0.1 * i, repeat=rep / 1000)
        FLAKY_S.append((name, rep, 100 * i, 0))
    runs["flakyU0"] = 0
    aioctl.add(flaky_crash, "flakyU0", name="flakyU0")
    runs["flakyU1"] = 0
    aioctl.add(flaky_late, "flakyU1", name="flakyU1")
    times = 5 if QUICK else 20
    cals = (
        ("cal0", 60, 0, {"cron": "* * * * *"}),
        ("cal1", 5, 0, {"secs": range(0, 60, 5), "mins": None}),
        ("cal2", 5, 0, {"secs": range(0, 60, 5), "mins": None, "jitter": 2}),
        ("cal3", 3, 0, {"secs": range(1, 60, 3), "mins": None, "times": times}),
        ("cal4", 2, 4, {"secs": range(0, 60, 2), "mins": None, "misfire": "skip"}),
    )
    for name, every, long_every, opts in cals:
        runs[name] = 0
        aioctl.add(cal, name, long_every, name=name)
        w = int(time.time())
        aioschedule.schedule(name, **opts)
        CAL.append((name, every, w, opts.get("times"), 1 if "jitter" in opts else 0))
    for i in range(10):
        name = "plain%d" % i
        runs[name] = 0
        iters[name] = 0
        aioctl.add(plain, name, 20 + 17 * i, name=name)
        PLAIN.append(name)


def expected_interval(el, sin, rep):
    # due times start_in, start_in + repeat, ... that are <= el
    return 0 if el < sin else (el - sin) // rep + 1


def expected_cal(every, w0, w1, times):
    # matches of "second % every == 0" (cal3: == 1) in (w0, w1]
    off = 1 if every == 3 else 0
    n = (w1 - off) // every - (w0 - off) // every
    return n if times is None else min(n, times)


def report_task(name, group, exp, tol):
    info = aiocron.info(name)
    if info is None:
        print("SOAK task %s %s %d - - - - - -" % (name, group, runs[name]))
        return
    st = aioctl.group()[name][aioctl.STATE]
    print("SOAK task %s %s %d %d %d %s %d %s %d" % (
        name, group, runs[name], info["runs"], info["skipped"],
        "-" if exp is None else exp, tol, info["state"].replace(" ", "_"), stops.get(name, 0)))


async def main(secs):
    print("SOAK start secs=%d stall=%d impl=%s heap=%d" % (
        secs, STALL, sys.implementation._mpy if hasattr(sys.implementation, "_mpy") else 0,
        gc.mem_free() + gc.mem_alloc()))
    mod = aioctl.__file__ if hasattr(aioctl, "__file__") else "?"
    print("SOAK module %s" % mod)
    gc.collect()
    before = gc.mem_free()
    print("SOAK free_before_setup %d" % before)
    print("SOAK tasks_planned 50")
    setup(secs)
    gc.collect()
    print("SOAK setup_bytes %d" % (before - gc.mem_free()))
    alog = Logger("soak")
    aioctl.add(aioschedule.watcher_loop, alog=alog, backoff=0.05, max_backoff=1)
    T0[0] = ticks_ms()
    aioctl.add(aioschedule.schedule_loop, alog=alog)
    aioctl.add(heartbeat)
    aioctl.add(monitor)
    aioctl.add(conductor, secs, restart=False)
    end = secs * 1000
    while True:
        left = end - ticks_diff(ticks_ms(), T0[0])
        if left <= 0:
            break
        await asyncio.sleep_ms(min(left, 1000))
    # Stop starting runs, then let runs just launched enter their functions.
    el = ticks_diff(ticks_ms(), T0[0])
    w1 = int(time.time())
    aioctl.stop("schedule_loop")
    aioctl.stop("watcher_loop")
    for name in PLAIN:
        iters[name + "_end"] = iters[name]
    await asyncio.sleep_ms(300)
    scan()
    print("SOAK end elapsed_ms=%d" % el)
    for name, rep, sin, tol in FAST:
        report_task(name, "fast", expected_interval(el, sin, rep), 1 + tol)
    for name, rep, sin, tol in SLOW:
        exp = None if name == "slow9" else expected_interval(el, sin, rep)
        report_task(name, "slow", exp, 1 + tol)
    for name, rep, sin, tol in FLAKY_S:
        report_task(name, "flakyS", expected_interval(el, sin, rep), 1)
    for name, every, w0, times, jit in CAL:
        report_task(name, "cal", expected_cal(every, w0, w1, times), 1 + jit)
        if times:
            print("SOAK times %s %d" % (name, times))
    for name in ("flakyU0", "flakyU1"):
        report_task(name, "flakyU", None, 0)
    for name in PLAIN:
        st = aioctl.group()[name][aioctl.STATE]
        print("SOAK plain %s %d %d %d %d %d" % (
            name, runs[name], starts.get(name, 0), stops.get(name, 0),
            iters[name + "_end"] - iters[name + "_mid"] if name + "_mid" in iters else -1,
            st == aioctl.RUNNING))
    print("SOAK hb %d %d %d %d %d %d" % (
        hb["n"], hb["max"], hb["sum"], hb["over20"], hb["excluded"], hb["max_at"]))
    print("SOAK memsum %s %s %s %s %s %d" % (
        mem["first"], mem["warm"], mem["min"], mem["max"], mem["last"], mem["n"]))
    print("SOAK status-begin")
    aioctl.status("flaky*", log=False)
    print("SOAK status-end")
    print("SOAK unexpected_count %d" % len(unexpected))
    aioctl.stop()
    print("SOAK done")


async def mark_mid(secs):
    # plain-task iteration counts 2.5 s before the end (the conductor has put
    # everything back by then): each plain task must still be looping.
    await asyncio.sleep_ms(secs * 1000 - 2500)
    for name in PLAIN:
        iters[name + "_mid"] = iters[name]


def handler(loop, ctx):
    note("asyncio", ctx.get("exception", ctx.get("message")))


async def top(secs):
    asyncio.get_event_loop().set_exception_handler(handler)
    asyncio.create_task(mark_mid(secs))
    await main(secs)


try:
    asyncio.run(top(SECS))
except BaseException as e:
    print("SOAK fatal %r" % (e,))
    sys.print_exception(e)
    if isinstance(e, MemoryError):
        print("SOAK memerror top")
    sys.exit(3)
sys.exit(0)
