# A boot of the persistence tests' application: the wall clock starts at the
# seconds in sys.argv[1] (the host moves it on between boots, a reset being
# a new process), and job(tag) counts its runs in runs. A test script takes
# it all with `from appboot import *`.
import sys, asyncio, time, aioctl, aioschedule, wallclock

W = int(sys.argv[1]) * 1000
wallclock.start(W)
runs = {}


async def job(tag):
    runs[tag] = runs.get(tag, 0) + 1
