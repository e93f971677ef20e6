# A job that notes when each of its runs starts (ms from t0), and begin():
# it is added and scheduled so, schedule_loop too; t0 is then. A test script
# takes it all with `from timedjob import *`.
import time
import aioctl
import aioschedule

t0 = [0]
runs = []


async def job():
    runs.append(time.ticks_diff(time.ticks_ms(), t0[0]))


def begin(**schedule):
    aioctl.add(job)
    aioschedule.schedule("job", **schedule)
    aioctl.add(aioschedule.schedule_loop)
    t0[0] = time.ticks_ms()
