# The start recorder of the scheduling tests: job(tag) notes the ms of each
# start after schedule_loop started (loop() starts it and sets that zero).
# A test script takes it all with `from recorder import *`.
import asyncio, time, aioctl, aioschedule, aiocron

T0 = [None]
starts = {}  # tag -> ms of each start


def ms():
    return time.ticks_diff(time.ticks_ms(), T0[0])


async def loop():
    T0[0] = time.ticks_ms()
    await aioschedule.schedule_loop()


async def job(tag, run_ms=0):
    starts.setdefault(tag, []).append(ms())
    if run_ms:
        await asyncio.sleep_ms(run_ms)
    return tag


def show(tag):
    print(tag, " ".join(str(x) for x in starts.get(tag, [])))
