# Soak test: the end of board.py's run (see there): stops starting runs and
# prints the report lines. Imported only then.

import gc
import sys
import time
import asyncio
import aioctl
import board as b

td = time.ticks_diff


async def run(end):
    # end: ms from the start, wall clock, the loops alive (sl, wl), plain0-1's
    # iterations in the last 2.5 s, as main() found them; the loops are
    # stopped since
    N, SL, FS, RT, FU, TM, HG, SF, CA, PL, MAXR = b.LAYOUT
    el, w1, sl, wl = end[:4]
    it = end[4:]
    print("SOAK end", el, -b.V[9])
    # records RUNNING with no live run, now and after every run is stopped
    g = aioctl.group()
    stuck = [n for n, t in g.items() if t[aioctl.STATE] == aioctl.RUNNING and (
        t[aioctl.TASK] is None or t[aioctl.TASK].done())]
    NM = b.NM
    for k in range(2):
        i = PL + k
        print("SOAK plain", NM[i], b.R[i], b.C[i], b.D[i], it[k],
              int(aioctl.group()[NM[i]][aioctl.STATE] == aioctl.RUNNING))
    # Every run ends (schedules stay as they are): aiocron.info loads
    # aioinfo, which needs the RAM. G first: a hang or overrun going on.
    going = bytes(b.G)
    aioctl.stop(None, False)
    await asyncio.sleep_ms(50)
    left = [n for n, t in g.items() if t[aioctl.STATE] == aioctl.RUNNING or t[aioctl.TASK] is not None]
    print("SOAK", "endcheck", sl, wl, len(stuck), len(left), *(stuck + left))
    gc.collect()
    print("SOAK", "ram", "end", gc.mem_alloc(), gc.mem_free())
    info = sys.modules["aiocron"].info  # aioinfo loaded once, let go after the loop
    for i in range(N):
        x = info(NM[i]) if i < FU or TM <= i < TM + 2 or SF <= i < PL else None
        tol = 1
        if x is None:
            x = {"runs": -1, "skipped": -1, "state": "-"}
            exp = -1
        elif i < HG:
            sin, rep = b.P[2 * i], b.P[2 * i + 1]
            exp = 0 if el < sin else (el - sin) // rep + 1  # due starts
            tol += SL - 3 <= i < SL + 3  # misfire, jitter, soft_start
            if i == SL + 7:
                exp = -1  # stopped and started: not on its whole grid
        elif i < CA:
            e = b.E[i - SF]
            exp = b.A[i] - (e is not None and td(e, b.T0 + el) > 0)  # asked for, due
        else:
            j = i - CA
            off = j == 3
            ev = (60, 5, 5, 3, 2)[j]
            exp = (w1 - off) // ev - (b.CW[j] - off) // ev  # calendar matches
            if j == 3:
                exp = min(exp, 5 if b.SECS < 60 else 20)
            tol += j == 2
        print("SOAK t", NM[i], NM[i].rstrip("0123456789"), b.R[i], x["runs"], x["skipped"], exp, tol,
              x["state"].replace(" ", "_"), b.A[i], b.B[i], b.C[i], b.D[i], b.F[i], b.T[i], going[i])
    print("SOAK v", *b.V)
    if b.HOG:
        b.HM.report()
    info = x = None
    # The status() lines of flaky*, tmo*, hang* and plain0: the other tasks
    # are deleted first, for the RAM aiostatus needs (5.5 KB while it
    # prints), and one call loads it once.
    for n in list(aioctl.group()):
        if not (n[:5] == "flaky" or n[:3] == "tmo" or n[:4] == "hang" or n[:5] == "plain"):
            aioctl.delete(n)
    gc.collect()
    print("SOAK", "ram", "status", gc.mem_alloc(), gc.mem_free())
    print("SOAK status-begin")
    b.status(None)
    print("SOAK status-end")
    print("SOAK unexpected_count", b.V[8])
    print("SOAK done")
