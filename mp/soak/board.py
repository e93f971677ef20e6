# Soak test, the MicroPython side: 50 aioctl tasks of a realistic mix for a
# given number of seconds, on a small heap:
#
#   micropython -X heapsize=112K -c "import sys; sys.argv[:] = ['board', '180']; import board"
#
# with board.mpy, boardinit.mpy and boardend.mpy (mpy-cross) and lib/ (or its
# .mpy) on MICROPYPATH, as tools/soak.py runs it. argv: seconds [nostall]
# [hog]; with "hog", boardhog.py adds a task that fills the heap every few
# seconds (see there).
# Report lines start with "SOAK "; tools/soak.py turns them into one table
# (the checks are there). Everything goes through the public API (aioctl,
# aioschedule, aiocron.info at the end, aiolog.LogStream, the status tree).
#
# Written for RAM: this script's bytecode and data share the heap with the
# modules and the 50 tasks. So: the one-off code (adding the tasks, the
# report) is in boardinit.py and boardend.py, imported when needed and
# dropped after; counters are arrays indexed by task number (not dicts keyed
# by name); each task gets one argument, its number; task names are string
# literals (interned: no 48 B heap string each), printed words are 10
# characters at most (interned too); tasks are added in one batch with a
# collection before each, and gc.threshold() collects every 4 KB, both
# against fragmentation; the log ring is 256 B; status() is left out if the
# heap is too full for aiostatus (aioctl lets it go after each call), or if
# it fails with MemoryError.
#
# RAM on this 64-bit unix port, from .mpy (gc.mem_alloc after a collect):
# interpreter and asyncio 5.4K, this script about 12K, aiocron + aioctl +
# aioschedule + aiolog 36K, aiojob + aiowatch about 11K, the 50 tasks 23K
# (about 450 B each; aiospec, which parses their options, is let go by
# schedule_loop's first pass), and while running 5-10K more (about 210 B per
# run going on, the exception each failed task keeps, the watcher's and
# aiojob's dicts, schedules next_run() replaced that wait in the heap). It
# fits 112K (128K from lib/*.py; the hog mode 126K); tools/soak.py prints
# the figures of each run.
#
# Tasks (number: names, what they do):
#   0-19  fast0-19   interval 0.1-0.5 s, a few ms (sleep or busy); misfire
#                    or jitter on three
#  20-27  slow0-7    interval 1-1.7 s, every 4th run overruns (next start
#                    skipped); slow7 stopped and started by the conductor
#  28-29  flakyS0-1  scheduled, raise every 3rd run (run again when due)
#  30-32  retry0-2   scheduled, max_retries=2, retry_delay=0.05, fail on
#                    planned attempts; retry1 uses up its retries
#  33-34  flakyU0-1  unscheduled, raise; restarted by watcher_loop (U0 fails
#                    at once every time: a crash loop held by backoff)
#  35-37  tmo0-2     timeout=: tmo0 scheduled, tmo1 scheduled with retries,
#                    tmo2 unscheduled (watcher_loop restarts it)
#  38-39  hang0-1    heartbeat=3: aioctl.heartbeat() while they work, then
#                    they wait for an Event that never comes: watcher_loop
#                    cancels them ("hung") and restarts them
#  40-42  self0-2    aioschedule.next_run() from inside: self0 always picks
#                    its next start, self1 every other run (else the
#                    interval), self2 ends its schedule with next_run(None)
#                    every 5th run and the conductor starts it again
#  43-47  cal0-4     calendars: cron, secs=range(), jitter, times, misfire
#  48-49  plain0-1   while True loops: plain0 (heartbeat=3, beats up to
#                    0.8 s apart, critical) is stopped once for 2.5 s, and
#                    the watchdog must go unfed meanwhile; plain1 is stopped
#                    and started, deleted and added again
# plus "sl" (schedule_loop; from 35% to 65% of the time with
# max_concurrent=6) and "wl" (watcher_loop with a stand-in WDT, fed every
# 0.5 s while plain0 and fast* are healthy), and main(), a plain asyncio
# task: it adds the tasks, beats every 100 ms (measuring how late), looks
# at the heap every 10th beat, conducts every 5th, and reports.

import sys
import gc
import time
import asyncio
from array import array

gc.collect()
print("SOAK", "ram", "board", gc.mem_alloc(), gc.mem_free())
# aiocron first: from .py source on a small heap, compiling it after the
# others are loaded (aioschedule's lazy import) needs more RAM.
import aiocron
import aioctl
import aioschedule
import aiolog

gc.collect()
print("SOAK", "ram", "libs", gc.mem_alloc(), gc.mem_free())
tm = time.ticks_ms
td = time.ticks_diff
ta = time.ticks_add
sleep = asyncio.sleep_ms


class Planned(Exception):
    pass


class Log:
    # alog of the loops: their lines go to the log ring (micropython-lib
    # logging or examples/minilog.py would cost 1 KB more here)
    def info(self, msg, *args):
        print(msg % args if args else msg, file=LOG)

    error = warning = info


SECS = int(sys.argv[1]) if len(sys.argv) > 1 else 60
STALL = not (len(sys.argv) > 2 and sys.argv[2] == "nostall")
HOG = len(sys.argv) > 3 and sys.argv[3] == "hog"
HOLD = False  # hog: the heap is held full; main() allocates nothing meanwhile
NM = ("fast0", "fast1", "fast2", "fast3", "fast4", "fast5", "fast6", "fast7", "fast8", "fast9",
      "fast10", "fast11", "fast12", "fast13", "fast14", "fast15", "fast16", "fast17", "fast18",
      "fast19", "slow0", "slow1", "slow2", "slow3", "slow4", "slow5", "slow6", "slow7", "flakyS0",
      "flakyS1", "retry0", "retry1", "retry2", "flakyU0", "flakyU1", "tmo0", "tmo1", "tmo2",
      "hang0", "hang1", "self0", "self1", "self2", "cal0", "cal1", "cal2", "cal3", "cal4", "plain0",
      "plain1")
# First task number of each group (const(): the compiler's, no RAM);
# boardinit and boardend get them as LAYOUT.
_N = const(50)
_SL = const(20)
_FS = const(28)
_RT = const(30)
_FU = const(33)
_TM = const(35)
_HG = const(38)
_SF = const(40)
_CA = const(43)
_PL = const(48)
_MAXR = const(2)  # max_retries of retry0-2 and tmo1
LAYOUT = (_N, _SL, _FS, _RT, _FU, _TM, _HG, _SF, _CA, _PL, _MAXR)


def arr(t="H", n=_N):
    return array(t, bytes(n * (4 if t == "i" else 2)))


R = arr("i")  # runs, counted inside the task
A = arr()  # planned: failures raised, overruns begun (tmo: or held past the timeout), hangs begun; self: starts asked for
B = arr()  # retries (runs that were one)
C = arr()  # retry: failures in a row; plain, self2, slow7: starts by the conductor
D = arr()  # conductor's stops; retry: failures with no retry left; tmo2: planned failures
F = arr()  # failures seen by on_error (tmo, hang); self: interval starts in A that passed while it waited
T = arr()  # of which timeouts (tmo) or hung (hang)
G = bytearray(_N)  # a run going on (slow, cal: never two); an overrun or hang going on;
# self2: it ended its schedule (next_run(None)) and waits for the conductor
MB = bytearray(_N)  # hog: the MemoryError that ends this run came from the job's body
P = arr("H", 2 * _HG)  # interval schedules: start_in, repeat (ms) of task i at 2i, 2i+1 (boardinit)
CW = [0] * 5  # cal: wall-clock second when scheduled
seen = {}  # name -> the unexpected exception noted last
LOG = aiolog.LogStream(256)
NEVER = asyncio.Event()
E = [None] * 3  # self: due time (ticks) of the start it asked for
# self1: an interval start that came due while its last run went on. The
# scheduler skips it if it reaches it while the run goes on, but starts it
# if the loop was late and reaches it after the run ended: either is right.
EA = [None] * 3
# V: 0 heartbeats, 1 their lateness summed (ms), 2 the worst one up to 20 ms;
# 3 self starts, 4 the latest one up to 20 ms, 5 the earliest; 6 feeds, 7 the
# longest gap up to 700 ms; 8 unexpected exceptions; 9 conductor steps
# (negative: done). Beyond those limits each is printed with its time, and
# tools/soak.py leaves out those during the planned stall and the other
# windows the conductor prints.
V = arr("i", 10)
PI = arr("i", 4)  # plain: loop iterations; [2:] 2.5 s before the end
del arr, array, aiolog
ALOG = Log()
T0 = 0
HM = None  # boardhog, in hog mode
_seed = 12345


def rnd(n):
    # small ints all the way on 32-bit boards too (no allocation: a job may
    # draw while the heap is full)
    global _seed
    _seed = (_seed * 75 + 74) % 65537
    return _seed % n


def el():
    return td(tm(), T0)


def note(name, e):
    V[8] += 1
    if HOG and HM.keep(name, e):
        return  # the heap is full: printed later
    print("SOAK", "unexpected", name, repr(e))
    if isinstance(e, MemoryError):
        print("SOAK", "memerror", name)


def chk(e, i):
    # on_error of tmo0-2 and hang0-1: counts, checks the kind
    F[i] += 1
    a = e.args  # its message as it is: str(e) makes a string (on a full heap: a MemoryError)
    if (isinstance(e, asyncio.TimeoutError) and i < _HG
            or isinstance(e, RuntimeError) and i >= _HG and a and type(a[0]) is str and a[0].startswith("hung:")):
        T[i] += 1
    elif HOG and isinstance(e, MemoryError):
        HM.memerr(e, i)
    elif not isinstance(e, Planned):
        note(NM[i], e)
    return e


# ---- the task functions --------------------------------------------------------

async def fast(i):
    R[i] += 1
    ms = 2 + i % 7
    if i % 4 == 1:
        t = tm()
        while td(tm(), t) < ms:  # a sensor read that blocks the loop a moment
            pass
    else:
        await sleep(ms)
    try:
        print("[%s] %d" % (NM[i], R[i]), file=LOG)
    except MemoryError:
        MB[i] = 1  # the heap is full (hog)
        raise


async def slow(i):
    # slow0-7 (every 4th run overruns its repeat), cal0-4 (cal4 overruns its
    # 2 s every 4th run): the next start is skipped, never stacked
    n = R[i] = R[i] + 1
    if G[i]:
        note(NM[i], "stacked")
    G[i] = 1
    try:
        if i < _CA:
            await sleep(1100 + 100 * (i - _SL) if (n + i) % 4 == 0 else 100 + rnd(200))
        else:
            await sleep(2500 if i == _CA + 4 and n % 4 == 0 else 50)
    finally:
        G[i] = 0


async def flaky(i):
    # flakyS0-1, flakyU0-1
    n = R[i] = R[i] + 1
    if i == _FU:
        await sleep(5)  # crash loop
    else:
        await sleep(20 if i < _FU else 50 + rnd(200))
        if i < _FU and n % 3:
            return n
    try:
        e = Planned()
    except MemoryError:
        MB[i] = 1  # the heap is full (hog): a failure, not a planned one
        raise
    A[i] += 1
    raise e


async def job(i):
    # retry0-2, tmo0-2. C[i]: failures in a row; 1..MAXR: this run is a retry
    # (the scheduler's attempt is C[i] + 1).
    R[i] += 1
    j = i - _RT if i < _FU else i - _TM + 3
    retries = j < 3 or j == 4
    s = C[i]
    if retries and 0 < s <= _MAXR:
        B[i] += 1
    else:
        s = 0
    k = R[i] - B[i]  # regular runs so far
    if j == 0:
        fail = k % 3 == 0 and s == 0  # the retry succeeds
    elif j == 1:
        fail = k % 4 == 0  # every attempt: the retries are used up
    elif j == 2:
        fail = k % 2 == 0 and s < 2  # the second retry succeeds
    elif j == 3:
        fail = k % 4 == 0
    elif j == 4:
        fail = k % 5 == 0 or k % 3 == 0 and s == 0
    else:
        fail = True  # tmo2: every run fails (watcher_loop restarts it)
    try:
        if j > 2 and fail and (j < 5 or k % 3 == 0):
            A[i] += 1
            G[i] = 1
            try:
                await sleep(5000)  # the timeout cancels it
            finally:
                G[i] = 0
        try:
            await sleep(20 if j < 5 else 100 + rnd(200))
        except asyncio.CancelledError:
            # tmo0-2: a run the loop held up (the planned stall) past its
            # timeout is cancelled here: it overran too
            A[i] += j > 2
            raise
        if fail:
            e = Planned()  # first: on a full heap (hog) a MemoryError instead
            D[i] += j == 5  # tmo2: planned failures raised
            raise e
    except BaseException as x:
        if isinstance(x, MemoryError):
            MB[i] = 1
        if retries:
            s += 1
            C[i] = s
            D[i] += s > _MAXR  # no retry left
        if j < 3:
            A[i] += 1
        raise
    C[i] = 0


async def hang(i):
    R[i] += 1
    n = (10, 5)[i - _HG] + rnd(10)  # beats before it hangs
    beat = aioctl.heartbeat
    while True:
        beat()
        await sleep(100 + rnd(200))
        n -= 1
        if n == 0:
            try:
                w = NEVER.wait()  # a coroutine: on a full heap (hog) a MemoryError, before it is counted
            except MemoryError:
                MB[i] = 1
                raise
            A[i] += 1
            G[i] = 1
            try:
                await w
            finally:
                G[i] = 0


async def selfr(i):
    # A[i]: the starts its schedule was asked for: the times it chose, the
    # interval's (self1) and those of the interval that passed while it
    # waited or ran (skipped: a stall, a wait for a slot)
    R[i] += 1
    j = i - _SF
    e = E[j]
    if e is not None:
        late = td(tm(), e)  # after the time it asked for
        if late < 0 and EA[j] is not None:
            late = td(tm(), EA[j])  # the start that came due while it ran (see EA)
        V[3] += 1
        V[5] = min(V[5], late)
        if late > 20:
            print("SOAK", "slate", td(e, T0), el(), late)
        elif late > V[4]:
            V[4] = late
    await sleep(10 + rnd(20))
    rep = (1000, 400, 700)[j]
    now = tm()
    k = 0 if e is None else td(now, e) // rep
    A[i] += k
    # Of those, the scheduler counts as skipped only the ones it reached
    # before this run replaced its next start (next_run): a run that began
    # late because the loop was stalled after starting it replaces them first.
    F[i] += k
    n = R[i]
    try:
        # next_run() first: on a full heap (hog) it fails, and the schedule
        # goes on as it was (boardhog.interval)
        if j == 2 and n % 5 == 0:
            aioschedule.next_run(None)
            E[j] = None
            G[i] = 1
        elif j == 1 and n % 2 == 0:
            E[j] = ta(e, rep * (k + 1))  # the interval from this start
            EA[j] = ta(e, rep * k) if k else None
            A[i] += 1
        else:
            ms = 100 + rnd(900)
            aioschedule.next_run(ms / 1000)
            E[j] = ta(now, ms)
            EA[j] = None
            A[i] += 1
    except MemoryError:
        if HOG:
            MB[i] = 1
            HM.interval(i, e, k)
        raise


async def plain(i):
    R[i] += 1
    beat = aioctl.heartbeat
    while True:
        if i == _PL:
            beat()  # plain0: heartbeat=3, critical
            await sleep(800 if rnd(50) == 0 else 20)
        else:
            await sleep(43)
        PI[i - _PL] += 1


# ---- watchdog, conductor ---------------------------------------------------------

class WDT:
    # stands in for machine.WDT: counts feeds; gaps between them over 700 ms
    # are printed (tools/soak.py sorts them out)
    last = None

    def feed(self):
        now = tm()
        V[6] += 1
        p = self.last
        if p is not None:
            g = td(now, p)
            if g > 700:
                print("SOAK", "gap", td(p, T0), td(now, T0))
            elif g > V[7]:
                V[7] = g
        self.last = now


def stop(i):
    D[i] += 1
    aioctl.stop(NM[i])


def start(i):
    if aioctl.group()[NM[i]][aioctl.STATE] != aioctl.RUNNING:
        aioctl.start(NM[i])
        C[i] += 1  # once it is started (on a full heap it may not be)


def readd():
    # plain1 added again: deleted by the conductor, or an add() that failed
    # on a full heap (hog)
    if NM[_PL + 1] not in aioctl.group():
        if HOG:
            aioctl.add(plain, _PL + 1, name=NM[_PL + 1], on_error=HM.onerr)
        else:
            aioctl.add(plain, _PL + 1, name=NM[_PL + 1])
        C[_PL + 1] += 1


def status(name, debug=False):
    aioctl.status(name, log=False, debug=debug)  # aiostatus is let go after it


async def swap(limit):
    # schedule_loop again, with another max_concurrent
    print("SOAK", "limit", el(), limit)
    aioctl.delete("sl")
    await sleep(10)  # its run ends: one schedule_loop at a time
    while True:
        while HOLD:  # hog: not on a full heap
            await sleep(10)
        try:
            g = aioctl.group()
            if "sl" not in g:
                aioctl.add(aioschedule.schedule_loop, alog=ALOG, max_concurrent=limit, name="sl")
            elif g["sl"][aioctl.STATE] != aioctl.RUNNING:
                aioctl.start("sl")  # added, but its start failed (MemoryError)
            return
        except MemoryError:
            if not HOG:
                raise
            HM.board()
            await sleep(10)


def monitor():
    # errors nobody expected, free heap after a collect. Tasks (they have
    # args) count their MemoryErrors in hog mode (on_error); a loop's (sl,
    # wl) is noted.
    for n, t in aioctl.group().items():
        e = t[aioctl.EXC]
        a = t[aioctl.ARGS]
        if e is not None and not isinstance(e, Planned) and seen.get(n) is not e and not (
                a and (_TM <= a[0] < _SF or HOG and isinstance(e, MemoryError))):
            seen[n] = e
            note(n, e)
    kept = HM.look() if HOG else 0  # hog: records that keep a MemoryError
    gc.collect()
    print("SOAK", "mem", el(), gc.mem_free(), kept)


async def main():
    # Adds the tasks (boardinit), then beats every 100 ms, measuring how
    # late it wakes; every 10th beat the monitor, every 5th the conductor:
    # plain1 stopped/started every 2 s and deleted and added again every
    # 7 s, slow7 down 2.5 s every 10 s, self2 started again when its
    # schedule is over. Once: max_concurrent=6 from 35% to 65%, a 1.5 s
    # stall at 45%, plain0 down for 2.5 s at 55%, status() at 1/3 and 2/3.
    # Stops conducting 3 s before the end, with all it touched running
    # again; then the report (boardend).
    #
    # A collection every 4 KB allocated (not only when the heap is full):
    # garbage is reclaimed while it is still next to what is allocated now,
    # so long-lived objects are not strewn over the heap between holes.
    gc.threshold(4096)
    global HM
    if HOG:
        import boardhog as HM
    import boardinit

    boardinit.run()
    del sys.modules["boardinit"]
    del boardinit
    gc.collect()
    print("SOAK", "ram", "running", gc.mem_alloc(), gc.mem_free())
    at = [SECS * 350, SECS * 450 if STALL else -1, SECS * 550, SECS * 650, SECS * 1000 // 3, SECS * 2000 // 3]
    over = 0
    down = None
    mid = False
    beats = 0
    mdue = cdue = False  # the monitor's, the conductor's turn (put off while the hog holds the heap)
    if HOG:
        asyncio.create_task(HM.hog())
    prev = tm()
    while True:
        await sleep(100)
        now = tm()
        late = td(now, prev) - 100
        V[0] += 1
        V[1] += late
        if late > 20:
            print("SOAK", "late", td(now, T0), late)  # small ints: no allocation
        elif late > V[2]:
            V[2] = late
        beats += 1
        if beats % 10 == 0:
            mdue = True
        if beats % 5 == 0:
            cdue = True
        if HOLD:
            # hog: the heap is full; the rest allocates, so it waits
            prev = tm()
            continue
        try:
            if mdue:
                mdue = False
                monitor()
            if HOG:
                HM.flush()
            now = el()
            if now >= SECS * 1000:
                break
            if now >= SECS * 1000 - 2500 and not mid:
                mid = True
                for k in range(2):
                    PI[2 + k] = PI[k]  # plain: iterations 2.5 s before the end
            if cdue and V[9] >= 0 and now >= SECS * 1000 - 3000:
                readd()
                for i in (_PL + 1, _SL + 7, _PL):
                    start(i)
                V[9] = -V[9]  # done: all it touched running again
            if cdue and V[9] >= 0:
                cdue = False
                V[9] += 1
                step = V[9]
                readd()
                if step % 4 == 0:
                    if aioctl.group()[NM[_PL + 1]][aioctl.STATE] == aioctl.RUNNING:
                        stop(_PL + 1)
                    else:
                        start(_PL + 1)
                if step % 20 == 7:
                    stop(_SL + 7)
                if step % 20 == 12:
                    start(_SL + 7)
                if step % 14 == 9:
                    aioctl.delete(NM[_PL + 1])
                    readd()
                # self2 ended its schedule: start it again once that run is over
                # (boardend checks the schedule's state with aiocron.info)
                over = over + 1 if G[_SF + 2] else 0
                if over >= 2:
                    start(_SF + 2)
                    G[_SF + 2] = 0
                if 0 <= at[0] <= now:
                    at[0] = -1
                    await swap(6)
                if 0 <= at[3] <= now:
                    at[3] = -1
                    await swap(None)
                if 0 <= at[1] <= now:
                    at[1] = -1
                    t = el()
                    time.sleep_ms(1500)  # a blocking flash write, say: starts are missed
                    print("SOAK", "stall", t, el())
                if 0 <= at[2] <= now:
                    at[2] = -1
                    down = el()
                    stop(_PL)  # critical: the watchdog must go unfed
                if down is not None and el() - down >= 2500:
                    print("SOAK", "outage", down, el())
                    down = None
                    start(_PL)
                for k in (4, 5):
                    if 0 <= at[k] <= now:
                        at[k] = -1
                        gc.collect()
                        free = gc.mem_free()
                        if free < 10000:
                            # aiostatus and aiologread are about 7 KB of code
                            # (let go after the call); printing takes some more
                            print("SOAK", "statusskip", free)
                            continue
                        print("SOAK", "status-mid")  # the tree follows; the host ignores it
                        t = el()
                        try:
                            status(None, k == 5)
                        except MemoryError:
                            gc.collect()  # the REPL's modules need more (printed partly)
                            print("SOAK", "statusskip", free, "MemoryError")
                        print("SOAK", "statuscall", t, el())
        except MemoryError:
            if not HOG:
                raise
            HM.board()  # counted; the step is tried again at the next beat
        prev = tm()  # the next beat measures its own sleep
    # The end: the loops as they are, then nothing starts from now on; the
    # runs that end meanwhile leave room for boardend (the report)
    end = (el(), int(time.time()), live("sl"), live("wl"), PI[0] - PI[2], PI[1] - PI[3])
    aioctl.stop("sl")
    aioctl.stop("wl")
    await sleep(300)  # runs just started enter their functions
    gc.collect()
    import boardend

    await boardend.run(end)


def live(n):
    # loop n: running (a live run), never failed
    t = aioctl.group().get(n)
    return int(t is not None and t[aioctl.STATE] == aioctl.RUNNING and t[aioctl.EXC] is None
               and t[aioctl.TASK] is not None and not t[aioctl.TASK].done())


try:
    asyncio.get_event_loop().set_exception_handler(
        lambda loop, ctx: note("asyncio", ctx.get("exception", ctx.get("message"))))
    asyncio.run(main())
except BaseException as e:
    print("SOAK", "fatal", repr(e))
    sys.print_exception(e)
    if isinstance(e, MemoryError):
        print("SOAK", "memerror", "top")
    sys.exit(3)
sys.exit(0)
