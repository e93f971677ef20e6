# The start log of the job-policy tests: job(tag) appends (ms, tag) at each
# start, ms after loop() started schedule_loop; starts(tag) picks one tag's,
# ends(tag) the ends of its runs.
# A test script takes it all with `from joblog import *`.
import asyncio, time, sys, micropython, aioctl, aioschedule

T0 = [time.ticks_ms()]
log = []
end_log = []


def ms():
    return time.ticks_diff(time.ticks_ms(), T0[0])


def starts(tag):
    return [t for t, g in log if g == tag]


def ends(tag):
    return [t for t, g in end_log if g == tag]


async def job(tag, run_ms=0):
    log.append((ms(), tag))
    if run_ms:
        await asyncio.sleep_ms(run_ms)
    end_log.append((ms(), tag))
    return tag


async def loop(**kw):
    T0[0] = time.ticks_ms()
    await aioschedule.schedule_loop(**kw)
