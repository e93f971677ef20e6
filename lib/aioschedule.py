# aioschedule: run aioctl tasks later, periodically or at a wall-clock time.
#
# Schedules sit in a heap ordered by due time. schedule_loop sleeps until the
# earliest is due (it is woken early when a schedule changes), starts what is
# due and puts each repeating schedule back at due + repeat, so repeats never
# drift. Due times are ticks_ms values, compared with ticks_diff, so they stay
# right across the ticks wraparound.

import sys
import time
import heapq
import asyncio
from micropython import const
import aioctl
from aiolog import datestr, match

# Longest single wait on ticks: a quarter of a 32-bit board's ticks period,
# so due times in the heap always compare correctly. Longer waits are taken
# in steps (Sched.left).
_HORIZON = const(1 << 28)

# The clock; tests replace these with a stand-in (see clock()).
_ticks = time.ticks_ms
_add = time.ticks_add
_diff = time.ticks_diff


def _wall_ms():
    # time.time() is whole seconds on boards; time_ns() is finer where it exists.
    try:
        return time.time_ns() // 1000000
    except AttributeError:
        return int(time.time() * 1000)


def clock(ticks_ms=None, ticks_add=None, ticks_diff=None, wall_ms=None):
    # Replaces the clock (tests: wraparound, long time spans). No argument:
    # back to the time module.
    global _ticks, _add, _diff, _wall_ms_fn
    _ticks = ticks_ms or time.ticks_ms
    _add = ticks_add or time.ticks_add
    _diff = ticks_diff or time.ticks_diff
    _wall_ms_fn = wall_ms or _wall_ms


_wall_ms_fn = _wall_ms


class Sched:
    def __init__(self, name, every, start_in, repeat):
        self.name = name
        self.every = every  # ms between runs; 0: once
        self.due = 0  # ticks of the next run (or ms after loop start, while pending)
        self.left = 0  # ms still to wait after due (waits over _HORIZON)
        self.start_in = start_in  # as given, for status
        self.repeat = repeat
        self.last = None  # wall-clock seconds of the last run
        self.runs = 0
        self.skipped = 0  # runs not started: still running, or missed while blocked
        self.pending = False  # due counts from schedule_loop's first start
        self.dead = False  # removed or replaced; dropped when it reaches the heap top

    def __lt__(self, other):
        return _diff(self.due, other.due) < 0

    def copy(self):
        s = Sched(self.name, self.every, self.start_in, self.repeat)
        s.due = self.due
        s.left = self.left
        s.pending = self.pending
        s.last = self.last
        s.runs = self.runs
        s.skipped = self.skipped
        return s

    def wait_ms(self, now):
        # ms from now until due (negative: overdue)
        return _diff(self.due, now) + self.left


_heap = []  # Sched objects, earliest due first (dead ones included)
_active = {}  # name -> Sched that is in _heap or _pending
_pending = []  # made before schedule_loop first ran: start_in counts from then
_parked = {}  # name -> Sched set aside by aioctl.stop(), for aioctl.start()
_t0 = None  # ticks when schedule_loop first started
_dead = 0  # dead entries in _heap


class _Nap:
    # An interruptible sleep: wake() ends it early. The sleeping task is
    # cancelled and the CancelledError is swallowed, which allocates nothing
    # in the usual case (sleep until due).
    def __init__(self, owner):
        self.owner = owner
        self.task = None
        self.asleep = False
        self.poked = False

    def claim(self):
        # One schedule_loop (one watcher_loop) at a time: they share state.
        if self.task is not None:
            raise RuntimeError("%s is already running" % self.owner)
        self.task = asyncio.current_task()

    def release(self):
        self.task = None

    async def sleep(self, ms, ctl):
        self.asleep = True
        try:
            await asyncio.sleep_ms(ms)
        except asyncio.CancelledError:
            # A real stop (aioctl.stop) can arrive along with a wake(): the
            # task's aioctl state tells which.
            if not self.poked or (ctl is not None and ctl.state == aioctl.STOPPED):
                raise
        finally:
            self.asleep = False
            self.poked = False

    def wake(self):
        if self.asleep and not self.poked:
            self.poked = True
            self.task.cancel()


_loop_nap = _Nap("schedule_loop")
_watch_nap = _Nap("watcher_loop")


def _push(s):
    global _dead
    heapq.heappush(_heap, s)
    if _dead > 16 and _dead > len(_heap) // 2:
        # Many removed schedules wait to surface: drop them now.
        _heap[:] = [x for x in _heap if not x.dead]
        heapq.heapify(_heap)
        _dead = 0


def _kill(s):
    global _dead
    if s.dead:
        return  # a one-off that has run: in no heap or list
    s.dead = True
    if s.pending:
        _pending.remove(s)
    else:
        _dead += 1
    _loop_nap.wake()


def _set_due(s, base, ms):
    # due = base + ms, in steps of at most _HORIZON
    if ms > _HORIZON:
        s.due = _add(base, _HORIZON)
        s.left = ms - _HORIZON
    else:
        s.due = _add(base, ms)
        s.left = 0


def _is_time(t):
    if not isinstance(t, tuple) or len(t) not in (8, 9):
        return False
    for v in t:
        if type(v) is not int:
            return False
    return 1 <= t[1] <= 12 and 1 <= t[2] <= 31 and 0 <= t[3] < 24 and 0 <= t[4] < 60 and 0 <= t[5] < 62


def _seconds(what, v):
    # A number of seconds (int or float, never a bool) as ms.
    if v is True or v is False or not isinstance(v, (int, float)):
        raise TypeError("aioschedule: %s must be a number of seconds, not %r" % (what, v))
    if v < 0:
        raise ValueError("aioschedule: %s %r is negative" % (what, v))
    return int(v * 1000)


def schedule(name, start_in=0, repeat=False):
    # start_in: seconds (from schedule_loop's first start, or from now once it
    # has started) or a time tuple (that wall-clock time). repeat: seconds,
    # False/None for once, True for "every start_in seconds".
    if not isinstance(name, str) or name not in aioctl.group():
        raise ValueError("schedule: no aioctl task %r" % (name,))
    _make(name, start_in, repeat)
    # If aioctl.add() has just started it, it waits for its schedule instead.
    aioctl.hold(aioctl.group()[name])
    return True


def schedule_task(start_in=0, repeat=False):
    # Decorator over @aioctl.aiotask: schedules the task of the function's
    # name, which waits for aioctl.add() and schedule_loop.
    def deco(fn):
        _make(fn.__name__, start_in, repeat)
        return fn

    return deco


def _make(name, start_in, repeat):
    at = _is_time(start_in)
    if at:
        ms = int(time.mktime(start_in)) * 1000 - _wall_ms_fn()
    elif isinstance(start_in, (tuple, list)):
        raise ValueError("schedule: start_in %r is not a time tuple" % (start_in,))
    else:
        ms = _seconds("start_in", start_in)
    if repeat is None or repeat is False:
        every = 0
    elif repeat is True:
        if at:
            raise ValueError("schedule: repeat=True needs start_in in seconds, not a time")
        every = ms
    else:
        every = _seconds("repeat", repeat)
    if every == 0 and not (repeat is None or repeat is False):
        raise ValueError("schedule: repeat %r must be more than 0" % (repeat,))
    if ms < 0:
        if not every:
            raise ValueError("schedule: start_in %r is in the past" % (start_in,))
        ms += (-ms + every - 1) // every * every  # next run on the same cadence
    s = Sched(name, every, start_in, repeat)
    old = _active.pop(name, None)
    if old:
        _kill(old)
    _parked.pop(name, None)
    _active[name] = s
    if at or _t0 is not None:
        _set_due(s, _ticks(), ms)
        _push(s)
        _loop_nap.wake()
    else:
        s.due = ms
        s.pending = True
        _pending.append(s)
    return s


def unschedule(name):
    def drop(n):
        s = _active.pop(n, None)
        if s:
            _kill(s)
        _parked.pop(n, None)

    return _each(name, drop)


def _each(name, fn):
    names = [n for n in list(_active) + list(_parked) if match(name, n)] if isinstance(name, str) else []
    if not names:
        print("aioschedule: no schedule %r; scheduled: %s" % (name, ", ".join(_active)))
        return False
    for n in names:
        fn(n)
    return True


def group():
    return _active


def _fire(s, now, log):
    t = aioctl.group().get(s.name)
    if t is None:
        s.skipped += 1
        if log:
            log.warning("[schedule_loop] %s is due but is not an aioctl task", s.name)
    elif t.state == aioctl.RUNNING:
        # The last run has not finished: do not stack another on top.
        s.skipped += 1
    else:
        s.runs += 1
        s.last = _wall_ms_fn() // 1000
        aioctl.launch(t)
    if not s.every:
        # A one-off stays in _active (for status and the watcher), out of the heap.
        s.dead = True
        return False
    late = _diff(now, s.due)
    n = 1
    if late >= s.every:
        # The loop was blocked: the missed runs collapse into this one.
        n = late // s.every + 1
        s.skipped += n - 1
    _set_due(s, s.due, n * s.every)
    return True


async def schedule_loop(alog=None):
    _loop_nap.claim()
    try:
        await _schedule_loop(alog, _ctl_of(asyncio.current_task()))
    finally:
        _loop_nap.release()


async def _schedule_loop(alog, ctl):
    global _t0
    if _t0 is None:
        _t0 = _ticks()
        for s in _pending:
            s.pending = False
            _set_due(s, _t0, s.due)
            _push(s)
        _pending.clear()
    while True:
        now = _ticks()
        while _heap:
            s = _heap[0]
            if s.dead:
                heapq.heappop(_heap)
                _dead_less()
                continue
            if _diff(s.due, now) > 0:
                break
            heapq.heappop(_heap)
            if s.left:
                _set_due(s, s.due, s.left)
            elif not _fire(s, now, alog):
                continue
            _push(s)
        wait = _HORIZON
        if _heap:
            wait = max(0, _diff(_heap[0].due, _ticks()))
        await _loop_nap.sleep(wait, ctl)


def _dead_less():
    global _dead
    if _dead:
        _dead -= 1


def _ctl_of(task):
    for t in aioctl.group().values():
        if t.task is task:
            return t


async def watcher_loop(alog=None, sleep=30, backoff=1, max_backoff=60):
    # Restarts tasks that ended with an error (unless added with
    # restart=False, or scheduled: those run again when next due). A task
    # that keeps failing waits backoff, 2*backoff, 4*backoff... (at most
    # max_backoff) seconds before each restart.
    base = _seconds("backoff", backoff) or 1
    cap = _seconds("max_backoff", max_backoff)
    poll = _seconds("sleep", sleep) or 1
    _watch_nap.claim()
    try:
        await _watch(alog, _ctl_of(asyncio.current_task()), base, cap, poll, max_backoff)
    finally:
        _watch_nap.release()


async def _watch(alog, ctl, base, cap, poll, max_backoff):
    waiting = {}  # name -> ticks of its restart
    streak = {}  # name -> failures in a row
    while True:
        now = _ticks()
        wait = poll
        for t in list(aioctl.group().values()):
            n = t.name
            if t.state != aioctl.ERROR or not t.restart or n in _active or n in _parked:
                if t.state != aioctl.ERROR and n in streak and t.state != aioctl.RUNNING:
                    del streak[n]  # ended well (or was stopped): start afresh
                waiting.pop(n, None)
                continue
            if n not in waiting:
                k = streak.get(n, 0)
                if t.done_at - t.since >= max_backoff:
                    k = 0  # it ran a good while before failing
                streak[n] = k + 1
                delay = min(cap, base << min(k - 1, 24)) if k else 0
                waiting[n] = _add(now, delay)
                if alog:
                    # Tagged [name] so that aioctl.status(name) shows it.
                    alog.error("[%s] failed: %s: %s; watcher_loop restarts it in %s" % (
                        n, type(t.error).__name__, t.error, aioctl.duration(delay / 1000)))
            left = _diff(waiting[n], now)
            if left <= 0:
                del waiting[n]
                t.restarts += 1
                aioctl.launch(t)
                if alog:
                    alog.info("[%s] restarted by watcher_loop (%d)" % (n, t.restarts))
            elif left < wait:
                wait = left
        await _watch_nap.sleep(wait, ctl)


# Hooks that aioctl calls (see aioctl.sched).


def has(name):
    return name in _active


def show(name, indent, debug):
    s = _active[name]
    if s.dead:
        line = "no next run"
        if s.last is not None:
            line = "last @ %s --> %s" % (datestr(s.last), line)
    elif s.pending:
        line = "starts %s after schedule_loop starts" % aioctl.duration(s.due / 1000)
    else:
        ms = s.wait_ms(_ticks())
        nxt = "in %s @ %s" % (aioctl.duration(max(0, ms) / 1000), datestr((_wall_ms_fn() + ms) // 1000))
        line = ("last @ %s --> next " % datestr(s.last)) + nxt if s.last is not None else "starts " + nxt
    print("%s┗━► schedule: %s" % (indent, line))
    if debug:
        print("%s┗━► schedule: start_in=%r, repeat=%r, runs: %d, skipped: %d" % (
            indent, s.start_in, s.repeat, s.runs, s.skipped))


def stop(name):
    s = _active.pop(name, None)
    if s:
        _kill(s)
        _parked[name] = s
        return True
    return False


def start(name):
    s = _parked.pop(name, None)
    if s is None:
        return False
    s = s.copy()
    _active[name] = s
    if s.pending:
        if _t0 is None:
            _pending.append(s)
            return True
        s.pending = False
        _set_due(s, _t0, s.due)
    now = _ticks()
    ms = s.wait_ms(now)
    if ms < 0 and s.every:
        # Keep the cadence: the next due time on the old grid.
        ms += (-ms + s.every - 1) // s.every * s.every
    _set_due(s, now, max(0, ms))
    _push(s)
    _loop_nap.wake()
    return True


def forget(name):
    s = _active.pop(name, None)
    if s:
        _kill(s)
    _parked.pop(name, None)


def ended(t):
    if t.state == aioctl.ERROR:
        _watch_nap.wake()


def reset():
    # Forgets every schedule and the loop's start time (tests, REPL).
    global _t0, _dead
    _heap.clear()
    _active.clear()
    _pending.clear()
    _parked.clear()
    _t0 = None
    _dead = 0


aioctl.sched = sys.modules[__name__]
