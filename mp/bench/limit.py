# N runs due at the same instant under schedule_loop(max_concurrent=M).
#   micropython limit.py N M RUN_MS
# Every task is scheduled with start_in=1 (due at t0 + 1000); one in ten has
# priority=1. Each run lasts RUN_MS. Output:
#   "L <started> <most running at once> <ms from due to the last end>
#    <ms from due to the last start of a priority run>
#    <ms from due to the first start of a plain run after a priority one waited>"
import sys
import time
import asyncio
import aioctl
import aioschedule
import grid

N = int(sys.argv[1])
LIMIT = int(sys.argv[2])
RUN = int(sys.argv[3])
ticks_ms = time.ticks_ms
ticks_diff = time.ticks_diff
st = [0, 0, 0, 0, -1]  # running now, most at once, started, last end, last priority start
plain_starts = []


async def job(high):
    d = ticks_diff(ticks_ms(), grid.t0) - 1000
    st[0] += 1
    st[2] += 1
    if st[0] > st[1]:
        st[1] = st[0]
    if high:
        st[4] = max(st[4], d)
    else:
        plain_starts.append(d)
    await asyncio.sleep_ms(RUN)
    st[0] -= 1
    st[3] = ticks_diff(ticks_ms(), grid.t0) - 1000


async def loop():
    grid.t0 = ticks_ms()
    await aioschedule.schedule_loop(max_concurrent=LIMIT)


async def main():
    for i in range(N):
        name = "job%d" % i
        high = i % 10 == 9
        aioctl.add(job, high, name=name)
        aioschedule.schedule(name, start_in=1, priority=1 if high else 0)
    aioctl.add(loop, name="schedule_loop")
    await asyncio.sleep_ms(1000 + (N // LIMIT + 2) * RUN * 2 + 500)
    # plain runs that started while priority ones still waited
    overtaken = 0
    for d in plain_starts:
        if d < st[4] - RUN:
            overtaken += 1
    print("L %d %d %d %d %d" % (st[2], st[1], st[3], st[4], overtaken))


asyncio.run(main())
