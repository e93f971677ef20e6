# What the calendar spec tests print with: T(y, m, d, ...) is a time
# (mktime: the tests pin TZ=UTC), fmt() prints one with gmtime (UTC on every
# port, whatever the zone), show() the next times of a spec, err() what a
# ValueError says. A test script takes it all with `from cronshow import *`.
import time, aiocron
from aiocron import cron, compile, next_time, next_times
WD = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def T(*a):
    return time.mktime(a + (0,) * (8 - len(a)))


def fmt(t):
    g = time.gmtime(t)
    return "%04d-%02d-%02d %02d:%02d:%02d %s" % (g[:6] + (WD[g[6]],))


def show(spec, after, n=4, offset=0):
    print(" | ".join(fmt(t) for t in next_times(spec, after, n, offset)))


def err(f, *a, **k):
    try:
        f(*a, **k)
    except ValueError as e:
        print("ValueError:", e)
    else:
        print("accepted")
