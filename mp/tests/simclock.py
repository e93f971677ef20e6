# The simulated clock of the calendar tests: ticks and wall clock are driven
# by hand (advance, step), so months and years pass in milliseconds. The
# ticks are 30-bit, as on a 32-bit board, and wrap 3 s into every test.
# A test script takes it all with `from simclock import *`.
import asyncio, time, aioctl, aioschedule, aiocron
from ticks30 import P, diff30

tick = [P - 3000]
wall = [0]
aioschedule.clock(lambda: tick[0], diff30, lambda: wall[0])
fired = []  # "tag date time" of each start of job


def at(*tm):
    wall[0] = aiocron.mktime(tm + (0,) * (8 - len(tm))) * 1000


def fmt(tm):
    return "%d-%02d-%02d %02d:%02d:%02d" % tuple(tm[:6])


def now_str():
    return fmt(aiocron.localtime(wall[0] // 1000))


async def job(tag):
    fired.append("%s %s" % (tag, now_str()))


async def settle():
    for _ in range(4):
        await asyncio.sleep_ms(0)


async def advance(ms, wall_ms=None):
    # ticks move by ms; the wall clock too, or by wall_ms (a jump). A board's
    # loop reads its clock at least every 2**28 ms (it never sleeps longer):
    # long spans go in such steps, or 30-bit ticks would wrap unseen.
    jump = 0 if wall_ms is None else wall_ms - ms
    while True:
        d = min(ms, 1 << 27)
        tick[0] = (tick[0] + d) & (P - 1)
        wall[0] += d
        ms -= d
        if not ms:
            break
        aioschedule.loop_nap.wake()
        await settle()
    wall[0] += jump
    aioschedule.loop_nap.wake()  # the loop sleeps on real time: poke it
    await settle()


async def step(names=None):
    # moves both clocks to the next due start of any schedule
    best = None
    for n in names or aioschedule.group():
        i = aiocron.info(n)
        if i and i["next_in"] is not None and (best is None or i["next_in"] < best):
            best = i["next_in"]
    await advance(max(best, 0))


def add(name, **kw):
    aioctl.add(job, name, name=name)
    aioschedule.schedule(name, **kw)


async def start_loop():
    aioctl.add(aioschedule.schedule_loop)
    await settle()
