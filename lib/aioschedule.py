# aioschedule: run aioctl tasks later, periodically or at a wall-clock time.
#
# Schedules sit in a heap ordered by due time. schedule_loop sleeps until the
# earliest is due (it is woken early when a schedule changes), starts what is
# due and puts each repeating schedule back at due + repeat, so repeats never
# drift.

import sys
import time
import heapq
import asyncio
from micropython import const
import aioctl
from aioctl import STATE, RUNNING, ERROR
from aiolog import match, _lazy_attr

# A schedule is a list (less RAM than an object, as in aioctl). Lists compare item
# by item: due time first, then a unique number, so the heap never looks
# further.
_DUE = const(0)  # ms on the scheduler's clock, _now()
_SEQ = const(1)
_NAME = const(2)
_EVERY = const(3)  # ms between starts; 0: once
_FLAG = const(4)
_RUNS = const(5)
_SKIPPED = const(6)  # starts dropped: the last run still going, or missed while blocked
_TASK = const(7)  # the task's aioctl record, or None until it is added (schedule_task)
# The last start is the task's own aioctl SINCE: not kept twice.

# _FLAG
_LIVE = const(0)  # in the heap
_PENDING = const(1)  # made before schedule_loop first started: _DUE counts from then
_DEAD = const(2)  # removed or replaced; dropped when it reaches the heap top
_OVER = const(3)  # a one-off that has run: kept for status, in no heap

# The longest sleep. The clock below adds up ticks_ms steps, so it must be
# read more often than half a 32-bit board's ticks period (2**29 ms).
_NAP_MAX = const(1 << 28)
# Keeps clock values small ints on 32-bit boards (they hold up to 2**30 - 1).
_REBASE = const(1 << 29)

# Options of a schedule (times, misfire, jitter, a calendar, a wall-clock
# start), kept only for schedules that have any, so a plain interval schedule
# pays nothing: _extras[name] is a list made by aiospec; aiocron does the
# wall-clock work and is imported only when such a schedule is made.
_X_SPEC = const(0)  # calendar spec, or None
_X_AT = const(1)  # wall-clock second of the next start, while it is a wall-clock one
_X_LEFT = const(2)  # starts left (times=), or None
_X_GRACE = const(3)  # ms a start may be late before it is dropped; None: any
_X_BASE = const(5)  # due time without the jitter
_JOB_OPTS = ("priority", "max_retries", "retry_delay", "conflict")  # aiojob's options
# Functions of aiojob, aiowatch and aiostore, imported on first use
_LAZY = {"trigger": "aiojob", "shutdown": "aiojob", "next_run": "aiojob", "watcher_loop": "aiowatch",
         "persist": "aiostore", "save": "aiostore", "idle_seconds": "aiostore"}
_LATE = const(1000)  # ms late before a start counts as missed
_CHECK = const(60000)  # ms between clock checks while wall-clock schedules exist

_NUMBER = (int, float)  # built once: a tuple in a call would be garbage at each
_TIME = (tuple, list)
_ticks = time.ticks_ms
_diff = time.ticks_diff
_ms = 0  # the scheduler's clock: ms that never wrap
_tick = None  # ticks_ms at the last reading


def _wall_ms():
    # time.time() is whole seconds on boards; time_ns() is finer where it exists.
    try:
        return time.time_ns() // 1000000
    except AttributeError:
        return int(time.time() * 1000)


_wall = _wall_ms


def clock(ticks_ms=None, ticks_diff=None, wall_ms=None):
    # Replaces the clock, for tests: a ticks source that wraps soon, one
    # driven by hand, a wall clock at a chosen time. No argument: the time
    # module again.
    global _ticks, _diff, _wall, _tick
    for f in (ticks_ms, ticks_diff, wall_ms):
        if f is not None and not callable(f):
            raise TypeError("clock: %r is not a function" % (f,))
    _ticks = ticks_ms or time.ticks_ms
    _diff = ticks_diff or time.ticks_diff
    _wall = wall_ms or _wall_ms
    _tick = None


def _now():
    global _ms, _tick, _t0
    t = _ticks()
    if _tick is not None:
        _ms += _diff(t, _tick)
    _tick = t
    if _ms > _REBASE:
        _rebase()
    return _ms


def _rebase():
    # Shifts every time kept on this clock by the same amount (the heap stays
    # in order): due times in the heap and set aside, jitter-free due times,
    # the loop's start, and the times in _clocked.
    global _ms, _t0
    _ms -= _NAP_MAX
    if _t0 is not None:
        _t0 -= _NAP_MAX
    for s in _heap:
        s[_DUE] -= _NAP_MAX
    for s in _parked.values():
        if s[_FLAG] != _PENDING:
            s[_DUE] -= _NAP_MAX
    for x in _extras.values():
        x[_X_BASE] -= _NAP_MAX
    for c in _clocked:
        for k in (c if type(c) is dict else range(len(c))):
            if c[k] is not None:
                c[k] -= _NAP_MAX


_offset = None  # set by aiocron.utc_offset(); None: the port's own localtime/mktime

_heap = []  # schedules by due time, dead ones included
_active = {}  # name -> schedule (live, pending or over)
_pending = []
_parked = {}  # name -> schedule set aside by aioctl.stop(), for aioctl.start()
_extras = {}  # name -> options (see _X_*)
# Every time other modules keep on this clock is in one of these containers:
# dicts (their values) and lists (their items), None for "no time". _rebase
# shifts them all; a module keeps no such time anywhere else (aiojob's,
# aiowatch's, aiostore's, aiocron's).
_clocked = []
_watch = None  # aiowatch once watcher_loop is used
_addons = []  # aiojob, aiostore once used: schedule_loop calls their tick() each pass
_fired = 0  # due starts handled (aiostore saves when this or _changes grows)
_t0 = None  # _now() when schedule_loop first started
_seq = 0
_dead = 0  # dead schedules in _heap
_changes = 0  # schedules made or removed: aiocron looks again for wall-clock ones


def __getattr__(attr):
    return _lazy_attr(_LAZY, attr)


class _Nap:
    # The sleep of schedule_loop or watcher_loop, which wake() ends early by
    # moving the sleeping task to the front of asyncio's task queue, so the
    # sleep just returns. No exception is used (a wake-up and a real cancel
    # in the same round stay apart), and nothing is allocated (an Event with
    # a timeout would make a task at every sleep).
    def __init__(self):
        self.task = None  # the loop's asyncio Task while it runs
        self.queue = None  # asyncio's task queue then (another: a new event loop)
        self.ctl = None
        self.asleep = False

    def _mine(self):
        # True while the loop's task can still run: a task of an event loop
        # replaced since (asyncio.new_event_loop()) never will.
        return self.task is not None and self.queue is asyncio.core._task_queue and not self.task.done()

    def claim(self, owner):
        # One schedule_loop (one watcher_loop) at a time: they share state.
        # Returns the caller's aioctl record (None if aioctl did not start it).
        if self._mine():
            raise RuntimeError(owner + " is already running")
        self.task = asyncio.current_task()
        self.queue = asyncio.core._task_queue
        self.asleep = False
        r = aioctl.current_run()
        self.ctl = r and r.t
        return self.ctl

    async def loop(self, step):
        # Calls step() (a pass: it returns the ms to sleep) until the task is
        # cancelled. A full heap costs a pass, never the loop: the way from
        # one pass to the next allocates nothing.
        try:
            while True:
                try:
                    wait = step()
                except MemoryError:
                    wait = _LATE // 10  # nothing is lost (see _pass): try again soon
                self.asleep = True
                try:
                    await asyncio.sleep_ms(wait)  # a preallocated generator
                finally:
                    self.asleep = False
        finally:
            self.task = None

    def wake(self):
        t = self.task
        # data is None while it sleeps; a cancel pending (data set) must not
        # be undone: push() clears data.
        if self.asleep and t.data is None and self.queue is asyncio.core._task_queue:
            self.asleep = False
            q = self.queue
            q.remove(t)
            q.push(t)


_loop_nap = _Nap()


def _push(s):
    global _dead
    s[_FLAG] = _LIVE
    heapq.heappush(_heap, s)
    if _dead > 16 and _dead > len(_heap) // 2:
        # Many removed schedules wait to surface: drop them now.
        j = 0
        for x in _heap:
            if x[_FLAG] != _DEAD:
                _heap[j] = x
                j += 1
        del _heap[j:]
        heapq.heapify(_heap)
        _dead = 0


def _kill(s):
    global _dead, _changes
    _changes += 1
    s[_TASK] = None  # a dead record may wait in the heap: it must not keep a deleted task's record
    if s[_FLAG] == _LIVE:
        s[_FLAG] = _DEAD
        _dead += 1
        _loop_nap.wake()
    elif s[_FLAG] == _PENDING:
        _pending.remove(s)


def _seconds(what, v):
    # A number of seconds (int or float, never a bool) as ms. At most 10**9 s
    # (31 years): dates further out overflow the port's localtime().
    if v is True or v is False or not isinstance(v, _NUMBER):
        raise TypeError("aioschedule: %s must be a number of seconds, not %r" % (what, v))
    if not 0 <= v <= 1000000000:
        raise ValueError("aioschedule: %s %r is %s" % (what, v, "negative" if v < 0 else "more than 10**9 s"))
    if type(v) is int:
        return v * 1000  # no float made
    return int(v * 1000 + 0.5)  # 1.001 s is 1001 ms (1.001 * 1000 is 1000.999...)


def schedule(name, start_in=0, repeat=False, **opts):
    # start_in: seconds (from schedule_loop's first start, or from now once it
    # has started) or a time tuple (that wall-clock time). repeat: seconds,
    # False/None for once, True for "every start_in seconds". opts: a
    # calendar (cron= or secs/mins/hrs/mday/month/wday), times, misfire,
    # grace, jitter, soft_start, conflict, priority, max_retries,
    # retry_delay (see the README). False if conflict="ignore" kept the
    # schedule there was.
    if not isinstance(name, str) or name not in aioctl.group():
        raise ValueError("schedule: no aioctl task %r" % (name,))
    if not _make(name, start_in, repeat, opts):
        return False
    # If aioctl.add() has just started it, it waits for its schedule instead.
    aioctl.hold(aioctl.group()[name])
    return True


def schedule_task(start_in=0, repeat=False, **opts):
    # Decorator over @aioctl.aiotask: schedules the task of the function's
    # name, which waits for aioctl.add() and schedule_loop.
    def deco(fn):
        if not callable(fn):
            raise TypeError("schedule_task: %r is not a function" % (fn,))
        _make(fn.__name__, start_in, repeat, dict(opts))
        return fn

    return deco


def _make(name, start_in, repeat, opts):
    global _seq, _changes
    x, soft, job = None, 0, None
    if opts:
        import aiospec  # let go at the loop's next pass (_pass)

        for k in _JOB_OPTS:
            if k in opts:
                import aiojob  # it keeps the policy

                job = aiospec.job_options(name, opts)  # takes its own options out of opts
                if job is False:
                    return False  # conflict="ignore": the schedule there is stays
                break
        x, soft = aiospec.options(start_in, repeat, opts)
    at = None
    if isinstance(start_in, _TIME):
        import aiocron

        at = aiocron.epoch(start_in)  # a wall-clock time: checked, in epoch seconds
        ms = at * 1000 - _wall()
    else:
        ms = _seconds("start_in", start_in)
    once = repeat is None or repeat is False
    if once:
        every = 0
    elif repeat is True:
        if at is not None:
            raise ValueError("schedule: repeat=True needs start_in in seconds, not a time")
        every = ms
    else:
        every = _seconds("repeat", repeat)
    if every == 0 and not once:
        raise ValueError("schedule: repeat %r must be more than 0" % (repeat,))
    if ms < 0:
        if not every:
            raise ValueError("schedule: start_in %r is in the past" % (start_in,))
        n = (-ms + every - 1) // every  # the next start on that cadence
        ms += n * every
        at += n * every // 1000
    if at is not None:
        if x is None:
            x = [None, None, None, None, 0, 0]
        x[_X_AT] = at
    _changes += 1
    _seq += 1
    s = [ms, _seq, name, every, _PENDING, 0, 0, aioctl.group().get(name)]
    old = _active.pop(name, None)
    if old:
        _kill(old)
    _parked.pop(name, None)
    _active[name] = s
    _extras.pop(name, None)
    if x:
        _extras[name] = x
    j = aioctl.jobs
    if j:
        j.policy(name, job)
    s[_DUE] += soft
    if x and x[_X_SPEC]:
        import aiocron

        s[_DUE] = _now()
        aiocron.next_wall(s, x, s[_DUE], True)
        _push(s)
        _loop_nap.wake()
    elif at is not None or _t0 is not None:
        s[_DUE] += _now()
        _base(s, x)
        _push(s)
        _loop_nap.wake()
    else:
        _pending.append(s)
    return True


def _base(s, x):
    if x:
        import aiocron

        aiocron.base(s, x)


def unschedule(name):
    names = []
    if isinstance(name, str):
        for n in list(_active) + list(_parked):
            if match(name, n):
                names.append(n)
    if not names:
        print("aioschedule: no schedule %r; scheduled: %s" % (name, ", ".join(_active)))
        return False
    for n in names:
        s = _active.pop(n, None)
        if s:
            _kill(s)
        _parked.pop(n, None)
        _extras.pop(n, None)
        if aioctl.jobs:
            aioctl.jobs.policy(n, None)
    return True


def group():
    # name -> schedule record (internal lists: aiocron.info(name) reads one)
    return _active


def _fire(s, now, log):
    # Starts the run that is due; False if the schedule has no next run.
    global _fired
    _fired += 1
    name = s[_NAME]
    x = _extras.get(name)
    if x and x[_X_SPEC] and x[_X_AT] is None:
        import aiocron

        aiocron.next_wall(s, x, now, True)  # it was waiting for the wall clock
        return True
    nxt = None
    if x and x[_X_SPEC]:
        import aiocron

        # Its next start first, on copies: that allocates, and on a full heap
        # it fails before this start is made or counted (the pass tries this
        # one again, and would count it twice).
        nxt, xn = s[:], x[:]
        aiocron.next_wall(nxt, xn, now)
        nxt[_SKIPPED] -= s[_SKIPPED]  # the starts it collapsed into this one
    # The record itself, not a look-up by name at each start: a task keeps
    # its record until aioctl.delete() or reset(), which remove its schedule.
    t = s[_TASK]
    if t is None:
        t = s[_TASK] = aioctl.group().get(name)
    ran = False
    if x and x[_X_GRACE] is not None and now - s[_DUE] > max(x[_X_GRACE], _LATE):
        s[_SKIPPED] += 1  # missed by more than its grace: dropped (misfire rule)
    elif t is None:
        s[_SKIPPED] += 1
        if log:
            log.warning("[%s] is due but is not an aioctl task", name)
    elif t[STATE] == RUNNING:
        # The last run has not finished: do not stack another on top.
        s[_SKIPPED] += 1
    elif aioctl.jobs:
        ran = aioctl.jobs.want(name, s)  # it starts in turn (priority, max_concurrent)
    else:
        aioctl.launch(t)  # first: if it fails (MemoryError), no run is counted
        s[_RUNS] += 1
        ran = True
    if ran and x and x[_X_LEFT] is not None:
        x[_X_LEFT] -= 1
        if not x[_X_LEFT]:
            s[_FLAG] = _OVER
            return False
    if nxt:
        s[_DUE] = nxt[_DUE]
        s[_SKIPPED] += nxt[_SKIPPED]
        x[_X_AT] = xn[_X_AT]
        x[_X_BASE] = xn[_X_BASE]
        return True
    if x:
        x[_X_AT] = None  # a wall-clock first start is done: an interval from now on
    every = s[_EVERY]
    if not every:
        s[_FLAG] = _OVER
        return False
    # Due again one period later. If the loop was blocked past more due
    # times, those starts collapse into this one and the grid stays.
    base = x[_X_BASE] if x else s[_DUE]
    n = (now - base) // every + 1
    s[_SKIPPED] += n - 1
    s[_DUE] = base + n * every
    if x:
        _base(s, x)
    return True


def _pass(alog):
    # One pass of schedule_loop: starts what is due; returns how long it may
    # sleep (ms).
    global _dead
    if "aiospec" in sys.modules:
        del sys.modules["aiospec"]  # the schedules are made: its RAM back
    now = _now()
    walls = False
    if _extras:
        import aiocron

        walls = aiocron.check_clock(now)
    while _heap:
        s = _heap[0]
        if s[_FLAG] == _DEAD:
            heapq.heappop(_heap)
            _dead -= 1
        elif s[_DUE] > now:
            break
        else:
            heapq.heappop(_heap)
            try:
                again = _fire(s, now, alog)
            except BaseException:
                _push(s)  # starting its run failed: still due, not lost
                raise
            if again:
                _push(s)
    wait = _CHECK if walls else _NAP_MAX
    for m in _addons:
        wait = m.tick(alog, wait)  # aiojob: queued runs...; aiostore: saves
    if _heap:
        wait = max(0, min(wait, _heap[0][_DUE] - _now()))
        if wait > 20:
            # A long sleep can end late (Linux lets poll() overrun by
            # 0.1%): wake a little early, then sleep the short rest.
            wait -= wait // 500 + 2
    return wait


async def schedule_loop(alog=None, max_concurrent=None):
    # max_concurrent: at most that many runs started by the scheduler at once
    # (aiojob queues the rest). None: no limit.
    global _t0
    if max_concurrent is not None or aioctl.jobs:
        import aiojob

        aiojob.limit(max_concurrent)
    _loop_nap.claim("schedule_loop")
    if _t0 is None:
        _t0 = _now()
        for s in _pending:
            s[_DUE] += _t0
            _base(s, _extras.get(s[_NAME]))
            _push(s)
        _pending.clear()
    await _loop_nap.loop(lambda: _pass(alog))


# Hooks that aioctl calls (see aioctl.sched).




def stop(name):
    if aioctl.jobs:
        aioctl.jobs.drop(name)  # its runs waiting to start
    s = _active.pop(name, None)
    if s is None:
        return False
    _kill(s)
    _parked[name] = s[:]  # the original may stay in the heap, dead
    return True


def start(name):
    global _changes
    s = _parked.pop(name, None)
    if s is None:
        return False
    _changes += 1
    now = _now()  # first: it may shift the clock, and s with it
    flag = s[_FLAG]
    _active[name] = s
    if flag == _PENDING:
        if _t0 is None:
            _pending.append(s)
            return True
        s[_DUE] += _t0
    every = s[_EVERY]
    x = _extras.get(name)
    if x and x[_X_LEFT] == 0:
        x[_X_LEFT] = 1  # it ran its times: start() gives it one more go
    # A start that came due while it was set aside runs at once (once: the
    # others are not caught up), then the schedule keeps its grid.
    if x and x[_X_SPEC]:
        import aiocron

        at = x[_X_AT]
        wall = _wall()
        if at is not None and at * 1000 <= wall:
            at = x[_X_AT] = aiocron.latest(x, wall // 1000)
            s[_DUE] = now - (wall - at * 1000)  # late by that much: misfire/grace decide
            _base(s, x)
        else:
            aiocron.next_wall(s, x, now, True)
    else:
        if flag == _OVER or s[_DUE] < now and not every:
            s[_DUE] = now
        elif s[_DUE] < now:
            s[_DUE] += (now - s[_DUE]) // every * every  # the last start of its grid
        _base(s, x)
    _push(s)
    _loop_nap.wake()
    return True


def forget(name):
    s = _active.pop(name, None)
    if s:
        _kill(s)
    _parked.pop(name, None)
    _extras.pop(name, None)
    if _watch:
        _watch.forget(name)
    if aioctl.jobs:
        aioctl.jobs.policy(name, None)


def ended(t):
    if aioctl.jobs:
        aioctl.jobs.ended(t)
    if t[STATE] == ERROR and _watch:
        _watch.nap.wake()


aioctl.sched = sys.modules[__name__]
