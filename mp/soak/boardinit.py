# Soak test: adds the 50 tasks and the loops of board.py (see there), in one
# batch. board.py imports it once and drops it again, so that its code is
# not kept in RAM while the soak runs.

import gc
import time
import aioctl
import aioschedule
import board as b


def big():
    # the largest block that can be allocated now
    gc.collect()
    lo, hi = 0, gc.mem_free()
    while lo < hi:
        m = (lo + hi + 1) // 2
        try:
            x = bytearray(m)
            x = None
            lo = m
        except MemoryError:
            hi = m - 1
    return lo


def ram(what):
    gc.collect()
    print("SOAK ram", what, gc.mem_alloc(), gc.mem_free(), big())


def add(*a, **k):
    # The garbage each add() and schedule() leaves is collected at once, so
    # that the next task's records fill its holes: the tasks end up packed
    # together, not spread over the heap between holes (which leaves no
    # block large enough when aioctl's task dict has to grow).
    gc.collect()
    if b.HOG and len(a) > 1 and "on_error" not in k:
        k["on_error"] = b.HM.onerr  # a task: its MemoryErrors are counted (boardhog)
    return aioctl.add(*a, **k)


def run():
    import aiojob  # loaded by the options and by watcher_loop below anyway;
    import aiowatch  # here, so that "tasks" below counts the tasks alone

    ram("modules")
    N, SL, FS, RT, FU, TM, HG, SF, CA, PL, MAXR = b.LAYOUT
    sch = aioschedule.schedule
    NM = b.NM
    P = b.P
    for i in range(HG):
        # fast0-19, slow0-7, flakyS0-1, retry0-2, flakyU0-1, tmo0-2
        o = {}
        if i < SL:
            add(b.fast, i, name=NM[i])
            sin, rep = 50 + 13 * i, (1 + i % 5) * 100
            if i == SL - 3:
                o["misfire"] = "skip"
            if i > SL - 3:
                o["jitter"] = 0.05
        elif i < FS:
            add(b.slow, i, name=NM[i])
            sin, rep = 200 + 50 * (i - SL), 1000 + 100 * (i - SL)
            if i < SL + 3:
                o["soft_start"] = 0.5
        elif i < RT or FU <= i < TM:
            add(b.flaky, i, name=NM[i])
            sin, rep = 100 * (i - FS), (500, 800)[i - FS] if i < RT else 0
        elif i < FU:
            add(b.job, i, name=NM[i])
            sin, rep = 100 * (i - FS), (700, 1100, 1500)[i - RT]
        else:
            add(b.job, i, name=NM[i], on_error=b.chk, _timeout=(0.3, 0.25, 0.5)[i - TM])
            sin, rep = 100 * (i - TM), (1000, 1300, 0)[i - TM]
        if RT <= i < FU or i == TM + 1:
            o["max_retries"] = MAXR
            o["retry_delay"] = 0.05
        if rep:
            P[2 * i] = sin
            P[2 * i + 1] = rep
            sch(NM[i], start_in=sin / 1000, repeat=rep / 1000, **o)
    for i in range(HG, SF):
        add(b.hang, i, name=NM[i], on_error=b.chk, _heartbeat=3)
    for j in range(3):
        i = SF + j
        add(b.selfr, i, name=NM[i])
        o = {"priority": 5} if j == 0 else {}  # first when runs wait for a slot
        sch(NM[i], start_in=0.3 + 0.05 * j, repeat=(1, 0.4, 0.7)[j], **o)
        b.E[j] = 300 + 50 * j  # ms from T0: made ticks below
        b.A[i] = 1
    times = 5 if b.SECS < 60 else 20
    for j, o in enumerate((
            {"cron": "* * * * *"},
            {"secs": range(0, 60, 5), "mins": None},
            {"secs": range(0, 60, 5), "mins": None, "jitter": 2},
            {"secs": range(1, 60, 3), "mins": None, "times": times},
            {"secs": range(0, 60, 2), "mins": None, "misfire": "skip"})):
        i = CA + j
        add(b.slow, i, name=NM[i])
        b.CW[j] = int(time.time())
        sch(NM[i], **o)
    add(b.plain, PL, name=NM[PL], _heartbeat=3)
    add(b.plain, PL + 1, name=NM[PL + 1])
    ram("tasks")
    aioctl.set_log(b.LOG)
    add(aioschedule.watcher_loop, alog=b.ALOG, backoff=0.05, max_backoff=1, wdt=b.WDT(),
        critical=("plain0", "fast*"), feed=0.5, name="wl")
    b.T0 = t0 = time.ticks_ms()
    for j in range(3):
        b.E[j] += t0
    add(aioschedule.schedule_loop, alog=b.ALOG, name="sl")
    ram("loops")
