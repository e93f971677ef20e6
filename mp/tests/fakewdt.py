# What the health tests share: ms since the script started, a logger to
# stdout, and WDT, a stand-in for machine.WDT (the unix port has none) that
# records when it was fed. A test script takes it all with
# `from fakewdt import *`.
import asyncio, time, aioctl, aioschedule, minilog, sys

T0 = time.ticks_ms()


def ms():
    return time.ticks_diff(time.ticks_ms(), T0)


log = minilog.Logger("w", sys.stdout)


class WDT:
    def __init__(self):
        self.fed = []

    def feed(self):
        self.fed.append(ms())


def gaps(xs):
    return [b - a for a, b in zip(xs, xs[1:])]
