# RAM figures, from gc.mem_alloc() after gc.collect().
#   micropython ram.py import   RAM to import aioctl, aioschedule, aiolog
#   micropython ram.py modules [M]  RAM to import aioctl, aiolog, aioschedule, each;
#                               with M: RAM to import M (a lazy module) after them
#   micropython ram.py per N    RAM per scheduled task, N tasks
#   micropython ram.py per N cron   the same with a calendar: cron="0 6 * * *"
#   micropython ram.py issue N  RAM per scheduled task as issue 16 measures it:
#                               N tasks j0..j<N-1> with no arguments, added and
#                               scheduled an hour away between two gc.collect(),
#                               no event loop running; then once schedule_loop
#                               has started and gone round
#   micropython ram.py fill [MAX]   scheduled tasks added one by one (yielding
#                               between them) until MemoryError (or MAX), with
#                               the RAM they hold and the heap free before
#   micropython ram.py run N    RAM per run going on: N aioctl tasks that sleep,
#                               against N plain asyncio tasks of the same coroutine
import sys
import gc

MODE = sys.argv[1]
HOUR = 3600


def used():
    gc.collect()
    return gc.mem_alloc()


if MODE == "import":
    # The modules the library imports from the firmware come first, so that
    # the figure is the library's own. An application imports asyncio anyway.
    a0 = used()
    import io, time, heapq, asyncio, micropython

    a = used()
    import aiolog, aioctl, aioschedule

    b = used()
    print("IMPORT %d %d" % (b - a, b - a0))
    sys.exit(0)

if MODE == "modules":
    # The core modules one at a time, in the order a board imports
    # them; then, with argv[2], that lazily imported module on top of them,
    # alone in its process. Alone, because MicroPython interns names in a
    # table that grows by chunks: in one process the module that happens to
    # need a new chunk would be charged for all of it (about 3 KB here).
    import io, time, heapq, asyncio, micropython

    a = used()
    r = []
    for m in ("aioctl", "aiolog", "aioschedule"):  # aiolog imports aioctl
        __import__(m)
        b = used()
        r.append(b - a)
        a = b
    if len(sys.argv) > 2:
        __import__(sys.argv[2])
        r = [used() - a]
    print("MODULES " + " ".join(str(n) for n in r))
    sys.exit(0)

import asyncio
import aioctl
import aioschedule

# (its name before the library was restructured too: the benchmark measures both)
NAP = getattr(aioschedule, "loop_nap", None) or getattr(aioschedule, "_loop_nap")


async def job(i):
    pass


async def per(n, cron=None):
    # As in the README: aioctl.add() then aioschedule.schedule(), an hour
    # away, with schedule_loop running. Everything is counted: the name
    # string, the aioctl record (with its args and kwargs), the schedule, and
    # their slots in the library's dicts and heap. With cron, also the spec
    # and the schedule's options list; aiocron itself is imported first.
    if cron:
        import aiocron
    aioctl.add(aioschedule.schedule_loop)
    await asyncio.sleep_ms(10)
    a = used()
    for i in range(n):
        name = "job%d" % i
        aioctl.add(job, i, name=name)
        if cron:
            aioschedule.schedule(name, cron=cron)
        else:
            aioschedule.schedule(name, start_in=HOUR)
    # Before the loop yields: add() made an asyncio task for each (it sees
    # the schedule and ends at once when it gets to run).
    peak = used()
    await asyncio.sleep_ms(10)
    b = used()
    assert len(aioschedule.group()) == n
    free = gc.mem_free()
    # The asyncio tasks that add() made stay reachable until schedule_loop
    # goes round once more (measured; for an hour-away schedule that is an
    # hour): one more pass of the loop shows the RAM that stays for good.
    NAP.wake()
    await asyncio.sleep_ms(10)
    c = used()
    print("PER %d %d %d %d %d" % (n, b - a, peak - a, c - a, free))


async def fill(most):
    # After import and schedule_loop's start: how much of the free heap
    # scheduled tasks can fill before the first MemoryError, i.e. how much a
    # fragmented heap lets them use (a dict or list that must grow in one
    # block stops them first).
    aioctl.add(aioschedule.schedule_loop)
    await asyncio.sleep_ms(10)
    # a little room held back for the report, given back once the heap is
    # full (the free heap is measured without it, so the share is exact)
    a = used()
    spare = bytearray(256)
    a, spare_size = used(), used() - a
    free = gc.mem_free()
    ok = 0
    try:
        while ok < most:
            name = "job%d" % ok
            aioctl.add(job, ok, name=name)
            aioschedule.schedule(name, start_in=HOUR)
            ok += 1
            # let add()'s short-lived asyncio task end, as an application
            # that yields now and then would
            await asyncio.sleep_ms(0)
    except MemoryError:
        pass
    spare = None
    b = used() + spare_size
    t = aioctl.group()["schedule_loop"]
    loop = t[aioctl.STATE] == aioctl.RUNNING
    print("FILL %d %d %d %d" % (ok, loop, b - a, free))


async def job0():
    pass


def issue(n):
    # Issue 16's figure: nothing but the adds between the two collections.
    a = used()
    for i in range(n):
        name = "j%d" % i
        aioctl.add(job0, name=name)
        aioschedule.schedule(name, start_in=HOUR)
    b = used()

    async def settle():
        # schedule_loop as a plain asyncio task (an aioctl record of its own
        # would count); the tasks add() made end at the first yield
        asyncio.create_task(aioschedule.schedule_loop())
        await asyncio.sleep_ms(10)
        NAP.wake()
        await asyncio.sleep_ms(10)

    asyncio.run(settle())
    c = used()
    assert len(aioschedule.group()) == n
    print("ISSUE %d %d %d" % (n, b - a, c - a))


async def nap(i):
    await asyncio.sleep(HOUR)


async def runs(n):
    # The records are made first (aioctl.add of tasks scheduled an hour away),
    # so that only the runs are measured: aioctl.start() of each, against
    # asyncio.create_task() of the same coroutine function.
    for i in range(n):
        aioctl.add(nap, i, name="r%d" % i)
        aioschedule.schedule("r%d" % i, start_in=HOUR)
    await asyncio.sleep_ms(0)
    a = used()
    bare = [asyncio.create_task(nap(i)) for i in range(n)]
    await asyncio.sleep_ms(0)
    b = used()
    for i in range(n):
        aioctl.start("r%d" % i)
    await asyncio.sleep_ms(0)
    c = used()
    print("RUN %d %d" % (c - b, b - a))


if MODE == "per":
    asyncio.run(per(int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None))
elif MODE == "run":
    asyncio.run(runs(int(sys.argv[2])))
elif MODE == "issue":
    issue(int(sys.argv[2]))
else:
    asyncio.run(fill(int(sys.argv[2]) if len(sys.argv) > 2 else 1 << 30))
