# Fault injection into aioschedule's own loops, run inside MicroPython.
#
# faultgen.run(plan) runs one scenario of a plan made on the host
# (tools/faults.py: plan_*), then prints what happened ("@@..." lines, up to
# "@@END"); tools/faults.py (check_*) judges it. A fault stops schedule_loop
# or watcher_loop (aioctl.stop, or a cancel of its asyncio Task), keeps it
# down for a while, then restarts it (aioctl.start, or aioctl.add of a new
# loop). Times are ms after T0: the first start of schedule_loop, so that
# interval schedules made before it are due at start_in + k*repeat.
#
# Every run of a watched task goes through aioctl.launch, which is wrapped
# here to record its time and whether the loop that starts it was down.

import asyncio
import time
import aioctl
import aioschedule
import aiocron

T0 = [time.ticks_ms()]
launches = {}  # name -> ms of each launch
bad = []  # (name, ms): launched while the loop that owns it was down
owner = {}  # name -> "sched" or "watch": the loop that starts it
down = {"sched": False, "watch": False}
dur = {}  # name -> ms a run takes (the guard waits while one is about to end)
started = {}  # name -> ms the run going on began
ends = {}  # name -> ms each run ended (before it raised, for failing ones)
errors = []  # exceptions that reached the event loop
wrong = []  # what the faults found wrong on the way (a loop not running when due to be stopped)
running = [0, 0]  # runs going on now, most at once (max_concurrent)
faults = []  # (S, R, kind, restart ok, old task done at restart, loop name now, info, name before)
current = {}  # "sched"/"watch" -> aioctl name of the loop running now
FN = {}  # "sched"/"watch" -> function aioctl.add starts for a new loop
KW = {}  # ... and its keyword arguments
guard = [False]
stalls = []  # (from, to) ms: the event loop ran nothing in between
not_before = [0]  # no fault before this ms (a wake may still be on its way)
first = [True]
quiet = set()  # names whose add() launch is not a run: schedule() takes it back


def ms():
    return time.ticks_diff(time.ticks_ms(), T0[0])


# The scheduler's clock, through aioschedule.clock(): the last ticks value it
# read is the "now" of the scheduler's decisions, so the times recorded here
# (T0, a launch, a schedule() call) are on its own millisecond, not 1 ms off.
last = [time.ticks_ms()]
arm = [False]


def _ticks():
    v = last[0] = time.ticks_ms()
    if arm[0]:
        arm[0] = False
        T0[0] = v  # schedule_loop's first reading: its start
    return v


aioschedule.clock(ticks_ms=_ticks)


def now():
    # the scheduler's last reading, in ms after T0
    return time.ticks_diff(last[0], T0[0])


_launch = aioctl.launch


def launch(t, fresh=False):
    n = t[aioctl.NAME]
    w = owner.get(n)
    if w and not (fresh and n in quiet):
        # the scheduler and the watcher read the clock on each pass before
        # they launch; add() and start() do not (and run no loop pass)
        x = ms() if fresh else now()
        launches.setdefault(n, []).append(x)
        if down[w]:
            bad.append((n, x))
    return _launch(t, fresh)


aioctl.launch = launch  # aioctl, aioschedule, aiojob and aiowatch all call it


def _handler(loop, ctx):
    errors.append(repr(ctx.get("exception", ctx.get("message"))))


asyncio.get_event_loop().set_exception_handler(_handler)


async def job(name, run_ms=0, fail=False):
    started[name] = ms()
    running[0] += 1
    running[1] = max(running[1], running[0])
    try:
        if run_ms:
            await asyncio.sleep_ms(run_ms)
    finally:
        running[0] -= 1
        started.pop(name, None)
    ends.setdefault(name, []).append(ms())
    if fail:
        raise OSError(5)
    return name


async def loop(**kw):
    # The first schedule_loop: T0 is its start (the same step as the
    # scheduler's own). aioctl.start() runs it again; T0 stays.
    if first[0]:
        first[0] = False
        arm[0] = True  # T0: the first clock reading of schedule_loop
    await aioschedule.schedule_loop(**kw)


async def begun():
    # Waits for the first schedule_loop's first step: T0 is set then.
    while first[0] or arm[0]:
        await asyncio.sleep_ms(0)


async def busy(p):
    # A busy machine: the report comes "late" ms after the end of the plan,
    # the event loop blocked for that long; what is due meanwhile starts.
    if p.get("late"):
        time.sleep_ms(p["late"])
        for _ in range(20):
            await asyncio.sleep_ms(1)


async def until(t):
    d = t - ms()
    if d > 0:
        await asyncio.sleep_ms(d)


async def settle():
    # Waits while a run is about to end or has just ended: the end of a run
    # may wake the loop (a failure wakes watcher_loop, aiojob wakes
    # schedule_loop for a retry or a free slot), and a wake in the same
    # round as a direct Task.cancel() swallows that cancel (a bug of
    # aioschedule.Nap that test_faults.py checks on its own).
    while guard[0]:
        t0 = ms()
        near = False
        for n, t in started.items():
            if t + dur.get(n, 0) - t0 <= 4:
                near = True
        for e in ends.values():
            if t0 - e[-1] <= 3:
                near = True
        if not near:
            return
        await asyncio.sleep_ms(2)


def add(name, run_ms=0, fail=False, who="sched", **kw):
    # who="sched": a task about to be scheduled (its add() launch is taken
    # back by schedule() and is not recorded)
    owner[name] = who
    dur[name] = run_ms
    if who == "sched":
        quiet.add(name)
    return aioctl.add(job, name, run_ms, fail, name=name, **kw)


def sched(name, a, r, **opts):
    # a, r in ms (below 1000: exact as seconds); r=0: once
    return aioschedule.schedule(name, start_in=a / 1000, repeat=r / 1000 if r else False, **opts)


async def fault(which, at, kind, down_ms, during=()):
    # kind: "stop_start", "stop_add", "cancel_start", "cancel_add".
    # during: (offset ms, fn, args) called while the loop is down.
    # at least 3 ms after the last restart, so the new loop has begun (a
    # cancel before its first step is another bug, tested on its own)
    await until(max(at, faults[-1][1] + 3 if faults else 0, not_before[0]))
    await settle()
    cur = current[which]
    rec = aioctl.group()[cur]
    old = rec[aioctl.TASK]
    S = ms()
    down[which] = True
    if old is None or rec[aioctl.STATE] != aioctl.RUNNING:
        wrong.append("%s at %d: %s is not running: %r" % (kind, S, cur, rec[aioctl.STATE:]))
    elif kind.startswith("stop"):
        aioctl.stop(cur)
    else:
        old.cancel()
    info = []
    for off, fn, args in during:
        await until(S + off)
        info.append((ms(), fn(*args)))
    await until(S + down_ms)
    gone = old.done() if down_ms and old else None
    was = cur
    if kind.endswith("start"):
        ok = aioctl.start(cur)
    else:
        cur = current[which] = aioctl.add(FN[which], **KW[which])
        ok = True
    R = ms()
    down[which] = False
    faults.append((S, R, kind, ok, gone, cur, info, was))


async def heartbeat():
    # Measures stalls of the whole event loop (the OS did not run the
    # process, a garbage collection): gaps of more than 5 ms between beats
    # 2 ms apart. A start that is late during one is not the scheduler's.
    t = ms()
    while True:
        await asyncio.sleep_ms(2)
        u = ms()
        if u - t > 7:
            stalls.append((t, u))
        t = u


def late(name, a, r, run_ms):
    # A schedule made while schedule_loop is down: start_in counts from now.
    add(name, run_ms)
    sched(name, a, r)
    return now()  # the reading schedule() counted start_in from


def trigger(name):
    return aioschedule.trigger(name)


def emit(key, v):
    # One line per item, not one repr of everything: a long run's result
    # does not fit in one allocation of a 2 MB heap.
    if isinstance(v, dict):
        print("@@D", key)
        for k in v:
            print("@@E", key, repr((k, v[k])))
    elif isinstance(v, list):
        print("@@L", key)
        for x in v:
            print("@@I", key, repr(x))
    else:
        print("@@V", key, repr(v))


# aiocron.info lives in aioinfo, which is let go after each call: kept from
# the start, it is loaded (from .py: compiled, a few ms) before any fault,
# not in the report, where that would block the loop just before the time
# is read.
info_of = aiocron.info


def report(names, extra=None):
    # What happened, for tools/faults.py: times, records, schedules.
    E = ms()
    info = {}
    for n in names:
        i = info_of(n)
        info[n] = None if i is None else (i["state"], i["runs"], i["skipped"], i["next_in"])
    recs = {}
    for n, t in aioctl.group().items():
        task = t[aioctl.TASK]
        recs[n] = (t[aioctl.STATE], None if task is None else task.done(), repr(t[aioctl.EXC]))
    out = {
        "E": E,
        "launches": launches,
        "bad": bad,
        "ends": ends,
        "faults": faults,
        "errors": errors,
        "wrong": wrong,
        "info": info,
        "recs": recs,
        "scheduled": sorted(aioschedule.group()),
        "current": current,
        "peak": running[1],
        "stalls": stalls,
    }
    if extra:
        out.update(extra)
    for k in out:
        emit(k, out[k])
    print("@@END")


# Scenarios ---------------------------------------------------------------


async def interval(p):
    # Interval and one-off schedules; faults at planned times; some
    # schedules are made while the loop is down.
    names = []
    for n, a, r, run in p["scheds"]:
        add(n, run)
        sched(n, a, r)
        names.append(n)
    FN["sched"], KW["sched"] = aioschedule.schedule_loop, {}
    current["sched"] = aioctl.add(loop, name="schedule_loop")
    await begun()
    lates = {}
    for at, kind, d, mk in p["faults"]:
        during = []
        if mk:
            n, off, a, r, run = mk
            during.append((off, late, (n, a, r, run)))
            names.append(n)
        await fault("sched", at, kind, d, during)
        for t, c in faults[-1][6]:
            lates[mk[0]] = c
    await until(p["end"])
    await busy(p)
    report(names, {"lates": lates})


async def queue(p):
    # max_concurrent=2: bursts of runs due at once wait in its queue; the
    # loop is stopped with runs waiting.
    names = []
    for i in range(p["n"]):
        n = "q%d" % i
        add(n, p["run"])
        sched(n, p["a"], p["r"])
        names.append(n)
    guard[0] = True
    FN["sched"], KW["sched"] = aioschedule.schedule_loop, {"max_concurrent": p["slots"]}
    current["sched"] = aioctl.add(loop, name="schedule_loop", max_concurrent=p["slots"])
    await begun()
    for at, kind, d in p["faults"]:
        await fault("sched", at, kind, d)
    await until(p["end"])
    await busy(p)
    report(names)


async def retry(p):
    # A failing job with max_retries: the loop is stopped while a retry is
    # pending (w ms after a failure).
    add("rt", p["fail_ms"], True)
    sched("rt", p["a"], p["r"], max_retries=p["retries"], retry_delay=p["delay"] / 1000)
    add("tick", 0)
    sched("tick", p["ta"], p["tr"])
    guard[0] = True
    FN["sched"], KW["sched"] = aioschedule.schedule_loop, {}
    current["sched"] = aioctl.add(loop, name="schedule_loop")
    await begun()
    for count, w, kind, d in p["faults"]:
        # after the count-th failure (if it does not come, by the end of its
        # cycle: the check reports the missing tries)
        last = p["a"] + ((count - 1) // 3 + 1) * p["r"] - 10
        while len(ends.get("rt", ())) < count and ms() < last:
            await asyncio.sleep_ms(1)
        e = ends.get("rt", ())
        await fault("sched", e[count - 1] + w if len(e) >= count else ms(), kind, d)
    await until(p["end"])
    await busy(p)
    report(["rt", "tick"])


async def triggers(p):
    # aioschedule.trigger() while the loop is down (and while it runs).
    add("btn", 0)
    sched("btn", 60000, 0)  # its own start is far off
    add("tick", 0)
    sched("tick", p["ta"], p["tr"])
    guard[0] = True
    FN["sched"], KW["sched"] = aioschedule.schedule_loop, {}
    current["sched"] = aioctl.add(loop, name="schedule_loop")
    await begun()
    aioschedule.trigger  # aiojob loaded before the first fault
    ups = []
    for at, kind, d, offs, up in p["faults"]:
        if up is not None:
            # while the loop runs (and has run a pass since its restart)
            await until(max(up, faults[-1][1] + 5 if faults else 0))
            ups.append((ms(), trigger("btn")))
            not_before[0] = ms() + 6  # the trigger's wake-up comes within 1-2 ms
        during = [(o, trigger, ("btn",)) for o in offs]
        await fault("sched", at, kind, d, during)
    await until(p["end"])
    await busy(p)
    report(["btn", "tick"], {"ups": ups})


async def watcher(p):
    # watcher_loop is stopped and restarted while tasks keep failing.
    add("sf", p["sf"], True)
    sched("sf", p["sa"], p["sr"])  # scheduled: the watcher leaves it alone
    guard[0] = True
    kw = {"backoff": p["backoff"] / 1000, "max_backoff": p["cap"] / 1000}
    FN["watch"], KW["watch"] = aioschedule.watcher_loop, kw
    current["sched"] = aioctl.add(loop, name="schedule_loop")
    await begun()  # T0 is set: the times below count from it
    current["watch"] = aioctl.add(aioschedule.watcher_loop, **kw)
    add("f1", p["f1"], True, "watch")
    add("f2", p["f2"], True, "watch")
    add("nr", 3, True, "watch", _restart=False)
    add("ok", 100000, False, "watch")
    for at, kind, d in p["faults"]:
        await fault("watch", at, kind, d)
    await until(p["end"])
    await busy(p)
    report(["sf"])
    print("@@STATUS")
    for n in ("f1", "f2", "nr", "sf"):
        aioctl.status(n, log=False)


SCENARIOS = {"interval": interval, "queue": queue, "retry": retry, "trigger": triggers, "watcher": watcher}


async def _main(plan):
    asyncio.create_task(heartbeat())
    await SCENARIOS[plan["scenario"]](plan)


def run(plan):
    asyncio.run(_main(plan))
