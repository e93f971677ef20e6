# Start lateness and drift of N tasks repeating every second.
#   micropython lateness.py N RUNS
# Each task is scheduled with start_in=1, repeat=1 (all due at the same
# instant, as in the README example) and runs RUNS times. Output: one line
# per task, "L <i> <late of run 0> <late of run 1> ..." in ms ("x": the run
# never started), then "CHECK <mismatches>". baseline.py does the same work
# in plain asyncio, with the same job (grid.job).
#
# Due times: run k of every task is due at t0 + 1000 + k*1000, where t0 is
# the ticks when schedule_loop started (start_in counts from then; the
# wrapper in grid.py reads it). That is the ideal grid, so lateness measured
# against it also shows any drift in the library's own due arithmetic. As a
# check, runs of about 20 of the tasks (all of them for N <= 20) also compare
# it with the library's own next due time, now + aiocron.info(name)["next_in"],
# which must be the grid's next point; CHECK counts the runs where they differ
# by more than 1 ms. A check runs half a second after the job's start, out
# of the burst: it looks names up, which the baseline does not do (on the
# Pico about 0.3 ms a check).
import sys
import asyncio
import aioctl
import aioschedule
import aiocron
import grid

N = int(sys.argv[1])
RUNS = int(sys.argv[2])

# aiocron.info lives in aioinfo, which is let go after each call: kept here,
# it is loaded once (from .py it would be compiled again at every run)
info = aiocron.info
names = ["job%d" % i for i in range(N)]
mismatch = 0


def check(i, nxt):
    global mismatch
    now = grid.ticks_ms()
    if abs(grid.ticks_diff(grid.ticks_add(now, info(names[i])["next_in"]), nxt)) > 1:
        mismatch += 1


async def main():
    grid.setup(N, RUNS, check)
    for i in range(N):
        aioctl.add(grid.job, i, name=names[i])
        aioschedule.schedule(names[i], start_in=grid.START // 1000, repeat=grid.EVERY // 1000)
    aioctl.add(grid.loop, name="schedule_loop")
    await asyncio.sleep_ms(grid.START + (RUNS - 1) * grid.EVERY + 500)
    grid.report(N)
    print("CHECK %d" % mismatch)


asyncio.run(main())
