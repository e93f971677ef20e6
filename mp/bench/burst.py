# N tasks due at the same instant.
#   micropython burst.py N CYCLES
# Each task is scheduled with start_in=1, repeat=1; run k of all of them is
# due at t0 + 1000 + k*1000, t0 being when schedule_loop started (see
# lateness.py). Output per
# cycle: "B <k> <started> <ms from due to the first start> <ms to the last>".
import sys
import time
import asyncio
from array import array
import aioctl
import aioschedule
import grid

N = int(sys.argv[1])
CYCLES = int(sys.argv[2])
first = array("i", [1 << 30] * CYCLES)
last = array("i", [-(1 << 30)] * CYCLES)
count = array("i", [0] * CYCLES)
ticks_ms = time.ticks_ms
ticks_diff = time.ticks_diff


async def job(i):
    now = ticks_ms()  # first line: the start time of this run
    d = ticks_diff(now, grid.t0) - 1000
    k = (d + 500) // 1000
    if 0 <= k < CYCLES:
        d -= k * 1000  # ms after this run's due time
        count[k] += 1
        if d < first[k]:
            first[k] = d
        if d > last[k]:
            last[k] = d


async def main():
    for i in range(N):
        name = "job%d" % i
        aioctl.add(job, i, name=name)
        aioschedule.schedule(name, start_in=1, repeat=1)
    aioctl.add(grid.loop, name="schedule_loop")
    await asyncio.sleep_ms(1000 * CYCLES + 500)
    for k in range(CYCLES):
        print("B %d %d %d %d" % (k, count[k], first[k], last[k]))


asyncio.run(main())
