# Soak test: the end of board.py's run (see there): stops starting runs and
# prints the report lines. Imported only then.

import time
import asyncio
import aioctl
import aiocron
import board as b

td = time.ticks_diff


async def run():
    N, SL, FS, RT, FU, TM, HG, SF, CA, PL, MAXR = b.LAYOUT
    el = td(time.ticks_ms(), b.T0)
    w1 = int(time.time())
    aioctl.stop("sl")  # nothing starts from now on
    aioctl.stop("wl")
    it = [b.PI[k] - b.PI[2 + k] for k in range(2)]
    await asyncio.sleep_ms(300)  # runs just started enter their functions
    print("SOAK end", el, -b.V[9])
    NM = b.NM
    for i in range(N):
        x = aiocron.info(NM[i]) if i < FU or TM <= i < TM + 2 or SF <= i < PL else None
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
              x["state"].replace(" ", "_"), b.A[i], b.B[i], b.C[i], b.D[i], b.F[i], b.T[i], b.G[i])
    for k in range(2):
        i = PL + k
        print("SOAK plain", NM[i], b.R[i], b.C[i], b.D[i], it[k],
              int(aioctl.group()[NM[i]][aioctl.STATE] == aioctl.RUNNING))
    print("SOAK v", *b.V)
    aioctl.stop()  # restarts and hangs stay in the status tree; aiostatus needs RAM
    await asyncio.sleep_ms(50)
    print("SOAK status-begin")
    for p in ("flaky*", "tmo*", "hang*", "plain0"):
        b.status(p)
    print("SOAK status-end")
    print("SOAK unexpected_count", b.V[8])
    print("SOAK done")
