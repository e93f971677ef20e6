# Where the time and RAM of a start go: a profile of the library's start
# path against plain asyncio (issue 16). Not a table row; run by hand:
#   micropython startcost.py parts [N]
#       µs and bytes of each piece of a start, each timed over N (500)
#       calls: "PART <name> <µs per call> <bytes per call>"
#   micropython startcost.py parts N NAME
#       only that part, called N times, nothing timed: run it under
#       valgrind --tool=callgrind with N and with 0 for its instructions
#   micropython startcost.py whole base|lib|bsched|lsched N REPS
#       REPS bursts of N whole starts (see bursts() for the four kinds),
#       the collector disabled (give it a heap that holds them all): run
#       it under valgrind --tool=callgrind with REPS and with 0, the
#       difference over N*REPS is the instructions per start, which a busy
#       machine does not disturb as it does times
#   micropython startcost.py cycles lib|base N CYCLES [EVERY_MS]
#       N tasks due together every EVERY_MS (100), CYCLES times, through
#       schedule_loop (lib) or N coroutines that each sleep to the grid and
#       start a task (base, as baseline.py). Per cycle: "C <k> <ms from due
#       to the first start> <to the last> <1 if a collection ran in it>";
#       then "GC <ms of a gc.collect() in this state> <mem_alloc> <mem_free>".
# Bytes: gc.mem_alloc() deltas with the collector disabled (what one call
# leaves for the collector: garbage and kept objects alike).
import sys
import gc
import time
import asyncio
import heapq
import aioheap

ticks_us = time.ticks_us
ticks_ms = time.ticks_ms
ticks_diff = time.ticks_diff
MODE = sys.argv[1]
TRIES = 9


def cost(fn, n, *args):
    # (µs per call, bytes per call) of fn(*args) called n times; the fastest
    # of TRIES tries for the time (a busy machine preempts some), the bytes
    # of the last
    best = None
    for _ in range(TRIES):
        gc.collect()
        gc.disable()
        a = gc.mem_alloc()
        t = ticks_us()
        for _ in range(n):
            fn(*args)
        us = ticks_diff(ticks_us(), t)
        b = gc.mem_alloc()
        gc.enable()
        best = us if best is None else min(best, us)
    return best / n, (b - a) / n


ONLY = None  # parts N NAME: only that part, called N times, nothing timed


def part(name, fn, n, *args):
    if ONLY is not None:
        if name == ONLY:
            for _ in range(n):
                fn(*args)
        return
    us, b = cost(fn, n, *args)
    print("PART %-34s %7.2f %6.1f" % (name, us, b))


ran = 0


async def job(i):
    global ran
    ran += 1


def parts(n):
    import aioctl
    import aioschedule

    names = ["job%d" % i for i in range(500)]
    recs = [None] * 500  # made first: on a Pico the heap is fragmented after the adds
    for i, nm in enumerate(names):
        aioctl.add(job, 1, name=nm)
        aioschedule.schedule(nm, start_in=3600)
        recs[i] = aioctl.group()[nm]
    t = recs[0]
    part("(an empty call: the overhead)", lambda: None, n)
    part("time.time()", time.time, n)
    part("int(time.time())", lambda: int(time.time()), n)
    part("aioctl.wall_s()", aioctl.wall_s, n)
    part("time.ticks_ms()", ticks_ms, n)
    part("aioctl._check_loop()", aioctl._check_loop, n)
    part("aioctl.group().get(name)", lambda: aioctl.group().get("job7"), n)
    part("dict.get(name)", aioctl.group().get, n, "job7")

    def mk_run():
        r = aioctl._Run()
        r.t = t

    part("_Run() + r.t = t", mk_run, n)

    def mk_run2():
        r = aioctl._Run()
        r.t = t
        r.coro = t

    part("_Run() + .t + .coro (2 attributes)", mk_run2, n)

    part("[t, None] (list in place of _Run)", lambda: [t, None], n)
    part("job(1) (the job's coroutine)", job, n, 1)
    args, kwargs = (1,), {}
    part("job(*args, **kwargs)", lambda: job(*args, **kwargs), n)
    part("job(*args)", lambda: job(*args), n)
    part("job(args[0])", lambda: job(args[0]), n)

    q = asyncio.core._task_queue
    # made and taken off the queue again (not run)
    part("create_task(job(1)), incl. coro", lambda: q.remove(asyncio.create_task(job(1))), n)
    part("create_task(_Run), incl. _Run", lambda: q.remove(aioctl._task(t)), n)

    def stop_iter():
        try:
            raise StopIteration
        except StopIteration:
            pass

    part("raise/catch StopIteration (class)", stop_iter, n)
    pre = StopIteration()

    def stop_pre():
        try:
            pre.__traceback__ = None
            raise pre
        except StopIteration:
            pass

    part("raise/catch preallocated, tb reset", stop_pre, n)

    def gen_end():
        g = job(1)
        try:
            g.send(None)
        except StopIteration:
            pass

    part("coro.send(None) ending: StopIteration", gen_end, n)

    # the heap: N schedules all due at once (as in a burst), pop and push
    due = list(aioheap.items()) + aioschedule._pending

    def popall():
        h = due[:]
        heapq.heapify(h)
        for _ in range(len(h)):
            heapq.heappop(h)

    def pushall():
        h = []
        for s in due:
            heapq.heappush(h, s)

    def copy():
        h = due[:]
        heapq.heapify(h)

    if ONLY is not None:
        return
    c_us, c_b = cost(copy, 3)
    p_us, p_b = cost(popall, 3)
    u_us, u_b = cost(pushall, 3)
    print("PART %-34s %7.2f %6.1f" % ("heappop (%d schedules, equal due)" % len(due), (p_us - c_us) / len(due),
                                      (p_b - c_b) / len(due)))
    print("PART %-34s %7.2f %6.1f" % ("heappush (%d schedules)" % len(due), u_us / len(due), u_b / len(due)))
    asyncio.run(whole(recs))


async def whole(recs):
    # A whole start and run of a job that returns at once, n of them in a
    # burst: aioctl.launch() of a record against create_task() of the job.
    n = len(recs)

    def base():
        for i in range(n):
            asyncio.create_task(job(i))

    def lib():
        for t in recs:
            aioctl_launch(t)

    import aioctl

    aioctl_launch = aioctl.launch
    for name, fn in (("asyncio: create_task + run", base), ("aioctl.launch + run", lib)):
        best = None
        for _ in range(TRIES):
            await asyncio.sleep_ms(5)
            gc.collect()
            gc.disable()
            a = gc.mem_alloc()
            global ran
            ran = 0
            t = ticks_us()
            fn()
            while ran < n:
                await asyncio.sleep_ms(0)
            us = ticks_diff(ticks_us(), t)
            b = gc.mem_alloc()
            gc.enable()
            best = us if best is None else min(best, us)
        print("PART %-34s %7.2f %6.1f" % (name, best / n, (b - a) / n))


async def cycles(lib, n, count, every):
    late_first = [0] * count
    late_last = [0] * count
    collected = [0] * count
    t0 = [0]

    async def counted(i):
        d = ticks_diff(ticks_ms(), t0[0]) - every
        k = (d + every // 2) // every
        if 0 <= k < count:
            d -= k * every
            if i == 0 or d < late_first[k]:
                late_first[k] = d
            if d > late_last[k]:
                late_last[k] = d

    if lib:
        import aioctl
        import aioschedule

        for i in range(n):
            nm = "job%d" % i
            aioctl.add(counted, i, name=nm)
            aioschedule.schedule(nm, start_in=every / 1000, repeat=every / 1000)

        async def loop():
            t0[0] = ticks_ms()
            await aioschedule.schedule_loop()

        asyncio.create_task(loop())
    else:

        async def each(i):
            create_task = asyncio.create_task
            for k in range(count):
                w = ticks_diff(time.ticks_add(t0[0], every + k * every), ticks_ms())
                if w > 0:
                    await asyncio.sleep_ms(w)
                create_task(counted(i))

        t0[0] = ticks_ms()
        for i in range(n):
            asyncio.create_task(each(i))
    await asyncio.sleep_ms(every // 2)
    # a watcher between bursts: did the heap shrink since the last look?
    last = gc.mem_alloc()
    for k in range(count):
        await asyncio.sleep_ms(ticks_diff(time.ticks_add(t0[0], every + k * every + every // 2), ticks_ms()))
        a = gc.mem_alloc()
        collected[k] = 1 if a < last else 0
        last = a
    for k in range(count):
        print("C %d %d %d %d" % (k, late_first[k], late_last[k], collected[k]))
    # the pause of one collection in this state, and bytes per start
    ms = []
    for _ in range(5):
        t = ticks_us()
        gc.collect()
        ms.append(ticks_diff(ticks_us(), t) / 1000)
    ms.sort()
    print("GC %.2f %d %d" % (ms[2], gc.mem_alloc(), gc.mem_free()))


async def bursts(kind, n, reps):
    # kind: "base" create_task(job(i)) n times; "lib" aioctl.launch() of n
    # records; "bsched" the baseline's whole way (baseline.py): n coroutines,
    # each woken by asyncio, reads the clock and starts its job's task;
    # "lsched" the library's whole way: one schedule_loop pass (_pass) with n
    # schedules due, each fired, launched and put back, then the runs.
    global ran
    if kind in ("lib", "lsched"):
        import aioctl
        import aioschedule

        for i in range(n):
            aioctl.add(job, i, name="job%d" % i)
            aioschedule.schedule("job%d" % i, start_in=3600, repeat=1)
        recs = list(aioctl.group().values())
        launch = aioctl.launch
        if kind == "lsched":
            # schedule_loop's start, as a plain task: it pushes the schedules
            asyncio.create_task(aioschedule.schedule_loop())
            await asyncio.sleep_ms(0)
            heap = list(aioheap.items())
    await asyncio.sleep_ms(0)
    gc.collect()
    gc.disable()
    create_task = asyncio.create_task
    ticks_add = time.ticks_add
    if kind == "bsched":

        async def every(i):
            t0 = ticks_ms()
            for k in range(reps):
                ticks_diff(ticks_add(t0, k * 1000), ticks_ms())  # as baseline.py
                await asyncio.sleep_ms(0)
                create_task(job(i))

        ran = 0
        for i in range(n):
            create_task(every(i))
        while ran < n * reps:
            await asyncio.sleep_ms(0)
        return
    for _ in range(reps):
        ran = 0
        if kind == "lib":
            for t in recs:
                launch(t)
        elif kind == "lsched":
            now = aioschedule.now_ms()
            for s in heap:  # all due now (equal dues keep the heap in order)
                s[0] = now
            aioschedule._pass(None)
        else:
            for i in range(n):
                create_task(job(i))
        while ran < n:
            await asyncio.sleep_ms(0)


if MODE == "parts":
    if len(sys.argv) > 3:
        ONLY = sys.argv[3]
    parts(int(sys.argv[2]) if len(sys.argv) > 2 else 500)
elif MODE == "whole":
    asyncio.run(bursts(sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
else:
    asyncio.run(cycles(sys.argv[2] == "lib", int(sys.argv[3]), int(sys.argv[4]),
                       int(sys.argv[5]) if len(sys.argv) > 5 else 100))
