# CPU per calendar computation, in µs from time.ticks_us().
#   micropython cron.py N "SPEC"   N calls of aiocron.next_time(spec, t), t
#                                  spread over 4 years from 2024-01-01 UTC
#   micropython cron.py N sched    N starts of a calendar schedule: the next
#                                  due time as schedule_loop sets it
# Each call is timed 3 times, the fastest kept, so that a preempted call does
# not count as a slow one. Prints "NEXT <mean µs> <worst µs>".
import sys
import gc
import time
import aiocron

N = int(sys.argv[1])
SPEC = sys.argv[2]
T0 = aiocron.mktime((2024, 1, 1, 0, 0, 0, 0, 0))
STEP = 4 * 365 * 86400 // N + 7  # + 7: the start times fall on all seconds


def timed(fn, *args):
    best = None
    for _ in range(3):
        t = time.ticks_us()
        fn(*args)
        t = time.ticks_diff(time.ticks_us(), t)
        best = t if best is None else min(best, t)
    return best


total = worst = 0
if SPEC == "sched":
    import asyncio
    import aioctl
    import aioschedule
    import aiowall

    async def job():
        pass

    aioctl.add(job, name="job")
    aioschedule.schedule("job", cron="*/15 8-18 * * 1-5")
    s = aioschedule.group()["job"]
    x = aioschedule.extras["job"]
    now = aioschedule.now_ms()

    def start(at):
        # as after each start: the first match after the last one, at (x[1],
        # which next_wall replaces: set again so that each try is the same)
        x[1] = at
        aiowall.next_wall(s, x, now)

    gc.collect()
    for i in range(N):
        us = timed(start, x[1])
        total += us
        worst = max(worst, us)
else:
    spec = aiocron.cron(SPEC)
    gc.collect()
    for i in range(N):
        us = timed(aiocron.next_time, spec, T0 + i * STEP)
        total += us
        worst = max(worst, us)
print("NEXT %.2f %d" % (total / N, worst))
