# Shared by the lateness, baseline and burst benchmarks.
#
# t0: when the schedule began. For the library it is when schedule_loop
# started through loop(), from which start_in counts, so run k of a task
# with start_in=1, repeat=1 is due at t0 + START + k*EVERY; baseline.py sets
# it before its coroutines start and keeps the same grid.
#
# job(i) is the job of both lateness.py (the library) and baseline.py (plain
# asyncio), so that lateness is recorded the same way in both: its first line
# reads the time; the run is the nearest grid point (exact while lateness is
# under EVERY/2), late[i * runs + k] its lateness in ms. This module imports
# nothing of the library (the baseline's process holds none of it).
import time
import asyncio
from array import array

START = 1000
EVERY = 1000
MISSING = -(1 << 30)
ticks_ms = time.ticks_ms
ticks_diff = time.ticks_diff
ticks_add = time.ticks_add

t0 = 0
runs = 0
late = None
check = None  # lateness.py: check(i, next_due) for every stride-th task
stride = 1


def setup(n, r, chk=None, checked=20):
    # n tasks, r runs each; chk is called for about `checked` of the tasks
    # (a check costs some µs per start, on the library's side only)
    global runs, late, check, stride
    runs = r
    late = array("i", [MISSING] * (n * r))
    check = chk
    stride = max(1, n // checked)


async def job(i):
    now = ticks_ms()  # first line: the start time of this run
    k = (ticks_diff(now, t0) - START + EVERY // 2) // EVERY
    due = ticks_add(t0, START + k * EVERY)
    if 0 <= k < runs:
        late[i * runs + k] = ticks_diff(now, due)
    if check is not None and i % stride == 0:
        # after the burst, in the quiet half of the second: the check is
        # not part of the work measured
        await asyncio.sleep_ms(EVERY // 2)
        check(i, ticks_add(due, EVERY))


def report(n):
    # "L <i> <late of run 0> <late of run 1> ..." ("x": never started)
    for i in range(n):
        row = late[i * runs : (i + 1) * runs]
        print("L %d %s" % (i, " ".join("x" if v == MISSING else str(v) for v in row)))


async def loop():
    global t0
    import aioschedule

    t0 = ticks_ms()
    await aioschedule.schedule_loop()
