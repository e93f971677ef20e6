# Start lateness and drift of N tasks repeating every second.
#   micropython lateness.py N RUNS
# Each task is scheduled with start_in=1, repeat=1 (all due at the same
# instant, as in the README example) and runs RUNS times. Output: one line
# per task, "L <i> <late of run 0> <late of run 1> ..." in ms ("x": the run
# never started), then "CHECK <mismatches>".
#
# Due times: run k of every task is due at t0 + 1000 + k*1000, where t0 is
# the ticks when schedule_loop started (start_in counts from then; the
# wrapper in grid.py reads it). That is the ideal grid, so lateness measured
# against it also shows any drift in the library's own due arithmetic. As a
# check, each run also compares it with the library's own next due time,
# now + aiocron.info(name)["next_in"], which must be the grid's next
# point; CHECK counts the runs where they differ by more than 1 ms.
import sys
import time
import asyncio
from array import array
import aioctl
import aioschedule
import aiocron
import grid

N = int(sys.argv[1])
RUNS = int(sys.argv[2])
START = 1000
EVERY = 1000
MISSING = -(1 << 30)

late = array("i", [MISSING] * (N * RUNS))
# aiocron.info lives in aioinfo, which is let go after each call: kept here,
# it is loaded once (from .py it would be compiled again at every run)
info = aiocron.info
names = ["job%d" % i for i in range(N)]
mismatch = 0
ticks_ms = time.ticks_ms
ticks_diff = time.ticks_diff
ticks_add = time.ticks_add


async def job(i):
    now = ticks_ms()  # first line: the start time of this run
    global mismatch
    t0 = grid.t0
    # which run this is: the nearest grid point (exact while lateness < 500 ms)
    k = (ticks_diff(now, t0) - START + EVERY // 2) // EVERY
    due = ticks_add(t0, START + k * EVERY)
    nxt = ticks_add(now, info(names[i])["next_in"])
    if abs(ticks_diff(nxt, ticks_add(due, EVERY))) > 1:
        mismatch += 1
    if 0 <= k < RUNS:
        late[i * RUNS + k] = ticks_diff(now, due)


async def main():
    for i in range(N):
        aioctl.add(job, i, name=names[i])
        aioschedule.schedule(names[i], start_in=START // 1000, repeat=EVERY // 1000)
    aioctl.add(grid.loop, name="schedule_loop")
    await asyncio.sleep_ms(START + (RUNS - 1) * EVERY + 500)
    for i in range(N):
        row = late[i * RUNS : (i + 1) * RUNS]
        print("L %d %s" % (i, " ".join("x" if v == MISSING else str(v) for v in row)))
    print("CHECK %d" % mismatch)


asyncio.run(main())
