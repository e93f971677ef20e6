# CPU cost of N schedules an hour away while the program idles.
#   micropython idle.py sched|poll N SECONDS
# sched: N aioctl tasks, each scheduled with aioschedule an hour away, and
#        schedule_loop running.
# poll:  the comparison: N schedule dicts checked by a loop that wakes every
#        second, the way the reference implementation's schedule_loop does
#        (time.time() against t0 + start_in, then the repeat check, for every
#        schedule, on every pass).
# Output: "CPU <process CPU seconds of the idle SECONDS>", from time.clock()
# (the unix port's process CPU clock, 1 ms steps), or -1 where there is no
# time.clock(): the host then subtracts the process CPU time (os.wait4) of a
# run with SECONDS=0 from that of the real run.
import sys
import gc
import time
import asyncio

MODE = sys.argv[1]
N = int(sys.argv[2])
SECONDS = int(sys.argv[3])
HOUR = 3600


async def job(i):
    pass


group = {}


def start(name):
    group[name]["last"] = time.time()


async def poll_loop():
    t0 = time.time()
    while True:
        for name, cond in group.items():
            start_in = cond.get("start_in")
            repeat = cond.get("repeat")
            if start_in:
                if isinstance(start_in, tuple):
                    start_in = time.mktime(start_in) - time.time()
                if start_in > 0 and time.time() - t0 >= start_in:
                    start(name)
            if repeat:
                last = cond.get("last")
                if last and time.time() - last >= repeat:
                    start(name)
        await asyncio.sleep(1)


async def main():
    if MODE == "sched":
        import aioctl
        import aioschedule

        for i in range(N):
            name = "job%d" % i
            aioctl.add(job, i, name=name)
            aioschedule.schedule(name, start_in=HOUR)
        aioctl.add(aioschedule.schedule_loop)
    else:
        for i in range(N):
            group["job%d" % i] = {"start_in": HOUR, "repeat": False}
        asyncio.create_task(poll_loop())
    await asyncio.sleep_ms(50)  # let the loop start, in both runs
    gc.collect()
    clock = getattr(time, "clock", None)
    c0 = clock() if clock else 0
    await asyncio.sleep(SECONDS)
    print("CPU %.3f" % (clock() - c0 if clock else -1))


asyncio.run(main())
