# CPU time of a scheduled start, on the interpreter's own µs clock (on the
# emulated Pico: emulated µs, 125 MHz counting one cycle per instruction).
#   micropython startcpu.py lib|base N CYCLES
# N tasks repeating every second, all due at the same instant (start_in=1,
# repeat=1), CYCLES cycles: "lib" through schedule_loop, "base" as
# baseline.py does it in plain asyncio (each of N coroutines sleeps to the
# grid and starts a task for the job). Nothing else runs, so the time from
# the due instant to the last start of a cycle is the CPU the N starts took
# (and the wake-up); tools/bench.py takes that for N and for 1 task and
# divides the difference by N - 1. Output per cycle: "S <k> <started> <µs
# from due to the last start>".
import sys
import time
import asyncio
from array import array

LIB = sys.argv[1] == "lib"
N = int(sys.argv[2])
CYCLES = int(sys.argv[3])
ticks_us = time.ticks_us
ticks_ms = time.ticks_ms
ticks_diff = time.ticks_diff
last = array("i", [-(1 << 30)] * CYCLES)
count = array("i", [0] * CYCLES)
t0 = 0  # ticks_us of the grid's origin: a ms boundary, as ticks_ms counts


async def job(i):
    d = ticks_diff(ticks_us(), t0) - 1000000  # first line: when this run began
    k = (d + 500000) // 1000000
    if 0 <= k < CYCLES:
        d -= k * 1000000
        count[k] += 1
        if d > last[k]:
            last[k] = d


def origin():
    # Waits for ticks_ms to tick: the ms grid of the scheduler (ticks_ms)
    # then starts at this µs, within the few µs this takes.
    global t0
    t = ticks_ms()
    while ticks_ms() == t:
        pass
    t0 = ticks_us()


async def loop():
    import aioschedule

    origin()
    await aioschedule.schedule_loop()


async def every(i):
    for k in range(CYCLES):
        w = -(ticks_diff(ticks_us(), time.ticks_add(t0, 1000000 + k * 1000000)) // 1000)  # ms, rounded up
        if w > 0:
            await asyncio.sleep_ms(w)
        asyncio.create_task(job(i))


async def main():
    if LIB:
        import aioctl
        import aioschedule

        for i in range(N):
            name = "job%d" % i
            aioctl.add(job, i, name=name)
            aioschedule.schedule(name, start_in=1, repeat=1)
        aioctl.add(loop, name="schedule_loop")
        await asyncio.sleep_ms(0)
    else:
        origin()
        for i in range(N):
            asyncio.create_task(every(i))
    await asyncio.sleep_ms(1000 * CYCLES + 500)
    for k in range(CYCLES):
        print("S %d %d %d" % (k, count[k], last[k]))


asyncio.run(main())
