# The comparison for lateness.py: the same work in hand-written asyncio,
# without the library (issue 16).
#   micropython baseline.py N RUNS
# Each of N coroutines sleeps to its own next due time on ticks_ms, on the
# drift-free grid t0 + 1000 + k*1000, and there starts a fresh task for the
# job (asyncio.create_task of grid.job, the job lateness.py gives the
# library), as a scheduler must: a run is a task of its own. Output as
# lateness.py's: "L <i> <late of run 0> ...", then "CHECK 0".
import sys
import time
import asyncio
import grid

N = int(sys.argv[1])
RUNS = int(sys.argv[2])


async def every(i):
    ticks_ms = time.ticks_ms
    ticks_diff = time.ticks_diff
    ticks_add = time.ticks_add
    create_task = asyncio.create_task
    job = grid.job
    t0 = grid.t0
    for k in range(RUNS):
        wait = ticks_diff(ticks_add(t0, grid.START + k * grid.EVERY), ticks_ms())
        if wait > 0:
            await asyncio.sleep_ms(wait)
        create_task(job(i))


async def main():
    grid.setup(N, RUNS)
    grid.t0 = time.ticks_ms()
    for i in range(N):
        asyncio.create_task(every(i))
    await asyncio.sleep_ms(grid.START + (RUNS - 1) * grid.EVERY + 500)
    grid.report(N)
    print("CHECK 0")


asyncio.run(main())
