# aioschedule: run aioctl tasks later, periodically or at a wall-clock time.
#
# Schedules sit in a heap ordered by due time. schedule_loop sleeps until the
# earliest is due (it is woken early when a schedule changes), starts what is
# due and puts each repeating schedule back at due + repeat, so repeats never
# drift.

import gc
import sys
import time
import asyncio
from micropython import const
import aioctl
from aioctl import STATE, RUNNING, hooks, match, lazy, lazy_attr, seconds
from aionames import Names
import aioheap

# A schedule record is a list (less RAM than an object, as in aioctl). Its
# layout is declared here; the add-ons that read its fields keep
# compile-time copies of these constants (no RAM), which
# tests/test_layers.py checks against these, and they make, drop and replace
# records only through this module's functions (new_schedule, put, forget,
# push, kill). Lists compare item by item: due time first, then a unique
# number, so the heap never looks further.
_S_DUE = const(0)  # ms on the scheduler's clock, now_ms()
_S_SEQ = const(1)
_S_NAME = const(2)
_S_EVERY = const(3)  # ms between starts; 0: once
_S_FLAG = const(4)
_S_RUNS = const(5)
_S_SKIPPED = const(6)  # starts dropped: the last run still going, or missed while blocked
_S_TASK = const(7)  # the task's aioctl record, or None until it is added (schedule_task)
# The last start is the task's own aioctl SINCE: not kept twice.

# _S_FLAG
_LIVE = const(0)  # in the heap
_PENDING = const(1)  # made before schedule_loop first started: _S_DUE counts from then
_DEAD = const(2)  # removed or replaced; dropped when it reaches the heap top
_OVER = const(3)  # a one-off that has run: kept for status, in no heap

# The longest sleep. The clock below adds up ticks_ms steps, so it must be
# read more often than half a 32-bit board's ticks period (2**29 ms).
_NAP_MAX = const(1 << 28)
# Keeps clock values small ints on 32-bit boards (they hold up to 2**30 - 1).
_REBASE = const(1 << 29)

# Options of a schedule (times, misfire, jitter, a calendar, a wall-clock
# start), kept only for schedules that have any, so a plain interval schedule
# pays nothing: extras[name] is a list made by aiospec; aiowall does the
# wall-clock work and is imported only when such a schedule is made.
_X_SPEC = const(0)  # calendar spec (aiocron), or None
_X_AT = const(1)  # wall-clock second of the next start, while it is a wall-clock one
_X_LEFT = const(2)  # starts left (times=), or None
_X_GRACE = const(3)  # ms a start may be late before it is dropped; None: any
_X_JITTER = const(4)  # ms of random delay added to each start
_X_BASE = const(5)  # due time without the jitter
_X_LEN = const(6)
# The names this module loads on first use, and from where
_LAZY = ("aiojob", "trigger", "shutdown", "next_run", "aiowatch", "watcher_loop", "aiostore", "persist", "save",
         "idle_seconds", "aiospec", "schedule_task")
_LATE = const(1000)  # ms late before a start counts as missed

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


wall_ms = _wall_ms  # wall-clock ms now (clock() replaces it)


def clock(ticks_ms=None, ticks_diff=None, wall_ms=None):
    # Replaces the clock, for tests: a ticks source that wraps soon, one
    # driven by hand, a wall clock at a chosen time. No argument: the time
    # module again.
    global _ticks, _diff, _tick
    for f in (ticks_ms, ticks_diff, wall_ms):
        if f is not None and not callable(f):
            raise TypeError("clock: %r is not a function" % (f,))
    _ticks = ticks_ms or time.ticks_ms
    _diff = ticks_diff or time.ticks_diff
    globals()["wall_ms"] = wall_ms or _wall_ms  # its parameter has the same name
    _tick = None


def now_ms():
    global _ms, _tick, t0
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
    # the loop's start, and the add-ons' times (their clocked containers).
    global _ms, t0
    _ms -= _NAP_MAX
    if t0 is not None:
        t0 -= _NAP_MAX
    for s in aioheap.items():
        s[_S_DUE] -= _NAP_MAX
    for s in parked.values():
        if s[_S_FLAG] != _PENDING:
            s[_S_DUE] -= _NAP_MAX
    for x in extras.values():
        x[_X_BASE] -= _NAP_MAX
    for c in hooks.get("clocked", ()):
        if type(c) is dict:
            for k in c:
                if c[k] is not None:
                    c[k] -= _NAP_MAX
        else:
            for i in range(len(c)):
                if c[i] is not None:
                    c[i] -= _NAP_MAX


_active = Names()  # name -> schedule (live, pending or over)
_pending = []
# The add-ons read these (and change them only through the functions below)
parked = {}  # name -> schedule set aside by aioctl.stop(), for aioctl.start()
extras = {}  # name -> options of the schedules that have any (see _X_*)
handled = 0  # due starts handled (aiostore saves when this or changes grows)
idle_gc = True  # schedule_loop collects garbage while idle (see _pass)
_swept = 0  # handled at its last collection
_SWEEP_AFTER = const(64)  # starts handled before it collects again
_IDLE = const(100)  # ms to the next start that leave time for a collection
t0 = None  # now_ms() when schedule_loop first started (a _PENDING due time counts from it)
_seq = 0
_dead = 0  # dead schedules in the heap (aioheap)
changes = 0  # schedules made or removed: aiowall looks again for wall-clock ones


def __getattr__(attr):
    return lazy_attr(_LAZY, attr)


class Nap:
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


loop_nap = Nap()


def _gone(s):
    return s[_S_FLAG] == _DEAD


def push(s):
    # Puts schedule s in the heap (aioheap), live.
    global _dead
    aioheap.put(s)
    s[_S_FLAG] = _LIVE
    if _dead > 16 and _dead > aioheap.size // 2:
        aioheap.drop(_gone)  # many removed schedules wait to surface: dropped now
        _dead = 0


def kill(s):
    # Takes schedule s out (it stays in the heap, dead, until it surfaces).
    global _dead, changes
    changes += 1
    s[_S_TASK] = None  # a dead record may wait in the heap: it must not keep a deleted task's record
    if s[_S_FLAG] == _LIVE:
        s[_S_FLAG] = _DEAD
        _dead += 1
        loop_nap.wake()
    elif s[_S_FLAG] == _PENDING:
        _pending.remove(s)


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
    if not make(name, start_in, repeat, opts):
        return False
    # If aioctl.add() has just started it, it waits for its schedule instead.
    aioctl.hold(aioctl.group()[name])
    return True


def make(name, start_in, repeat, opts):
    # schedule() without its check that the task exists (schedule_task)
    x, soft, job = None, 0, None
    if opts:
        # aiospec is let go at the loop's next pass (_pass)
        opts = lazy("aiospec").options(name, start_in, repeat, opts, name in _active or name in parked)
        if opts is False:
            return False  # conflict="ignore": the schedule there is stays
        x, soft, job = opts
        if job:
            lazy("aiojob")  # it keeps the policy (its policy hook)
    at = None
    if isinstance(start_in, (tuple, list)):
        at = lazy("aiowall").epoch(start_in)  # a wall-clock time: checked, in epoch seconds
        ms = at * 1000 - wall_ms()
    else:
        ms = seconds("start_in", start_in)
    once = repeat is None or repeat is False
    if once:
        every = 0
    elif repeat is True:
        if at is not None:
            raise ValueError("schedule: repeat=True needs start_in in seconds, not a time")
        every = ms
    else:
        every = seconds("repeat", repeat)
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
    s = new_schedule(name, ms + soft, every)
    if x and x[_X_SPEC]:
        s[_S_DUE] = now_ms()
        lazy("aiowall").next_wall(s, x, s[_S_DUE], True)
    elif at is not None or t0 is not None:
        s[_S_DUE] += now_ms()
        base(s, x)
    else:
        s[_S_FLAG] = _PENDING
        _pending.append(s)
    try:
        put(name, s, x)  # all or nothing: on MemoryError the schedule there was stays
    except MemoryError:
        if s[_S_FLAG] == _PENDING:
            _pending.pop()
        raise
    try:
        for f in hooks.get("policy", ()):
            f(name, None)  # the last schedule's waiting runs and retries go
            if job:
                f(name, job)
    except MemoryError:
        forget(name)  # no schedule, rather than one without its policy
        raise
    return True


def base(s, x):
    # Schedule s (options x) is due at s[_S_DUE]: keep that as its jitter-free
    # due time and add this start's jitter.
    if x:
        x[_X_BASE] = s[_S_DUE]
        if x[_X_JITTER]:
            from aioctl import random_ms

            s[_S_DUE] += random_ms(x[_X_JITTER])


def unschedule(name):
    # Removes the schedules that name (a pattern) selects; the tasks stay.
    names = []
    if isinstance(name, str) and "*" not in name:
        if name in _active or name in parked:
            names.append(name)  # one name: no list of every schedule
    elif isinstance(name, str):
        for d in (_active, parked):
            for n in d:
                if match(name, n):
                    names.append(n)
    if not names:
        print("aioschedule: no schedule %r; scheduled: %s" % (name, ", ".join(_active)))
        return False
    for n in names:
        forget(n)
    return True


def group():
    # name -> schedule record (see _S_DUE...); the ones aioctl.stop() set
    # aside are in parked.
    return _active


def put(name, s, x, aside=False):
    # Schedule s, with options x (None: none), becomes name's, in place of
    # the one there is (which stays in the heap, dead). aside: set aside, for
    # aioctl.start(). All or nothing: what may fail (MemoryError: a dict or
    # the heap grows) comes first, and a failure puts those back as they
    # were (each key is there then: that allocates nothing).
    d = parked if aside else _active
    was, was_x = d.get(name), extras.get(name)
    try:
        if x:
            extras[name] = x
        d[name] = s
        if not aside and s[_S_FLAG] == _LIVE:
            push(s)
    except MemoryError:
        _back(d, name, was)
        _back(extras, name, was_x)
        raise
    if aside:
        was = _active.pop(name, None)
    else:
        parked.pop(name, None)
    if was is not None and was is not s:
        kill(was)
    if not x:
        extras.pop(name, None)
    loop_nap.wake()


def _back(d, name, v):
    # name's value in d is v again (None: no value)
    if v is None:
        d.pop(name, None)
    else:
        d[name] = v


def new_schedule(name, due, every, runs=0, skipped=0):
    # A live schedule record, due at that ms on the scheduler's clock
    global _seq, changes
    _seq += 1
    changes += 1
    return [due, _seq, name, every, _LIVE, runs, skipped, aioctl.group().get(name)]


def _fire(s, now, log, due):
    # Starts the run that is due; False if the schedule has no next run. A
    # schedule with options (extras) has more to do: _fire_x().
    global handled
    handled += 1
    if extras and s[_S_NAME] in extras:
        return _fire_x(s, now, log, due)
    _start(s, log, due)
    every = s[_S_EVERY]
    if not every:
        s[_S_FLAG] = _OVER
        return False
    # Due again one period later. If the loop was blocked past more due
    # times, those starts collapse into this one and the grid stays.
    n = (now - s[_S_DUE]) // every  # the due times it passed
    s[_S_SKIPPED] += n
    s[_S_DUE] += (n + 1) * every
    return True


def _start(s, log, due):
    # Starts the due run of schedule s, or counts it skipped. True if it
    # started (or aiojob's queue took it).
    t = s[_S_TASK]
    if t is None:
        # The record itself, not a look-up by name at each start: a task
        # keeps its record until aioctl.delete() or reset(), which remove
        # its schedule.
        t = s[_S_TASK] = aioctl.group().get(s[_S_NAME])
        if t is None:
            if log:
                log.warning("[%s] is due but is not an aioctl task", s[_S_NAME])
            s[_S_SKIPPED] += 1
            return False
    if t[STATE] == RUNNING:
        s[_S_SKIPPED] += 1  # the last run has not finished: do not stack another on top
        return False
    if due:
        return due[0](s[_S_NAME], s)  # aiojob: it starts in turn (priority, max_concurrent)
    aioctl.launch(t)  # first: if it fails (MemoryError), no run is counted
    s[_S_RUNS] += 1
    return True


def _fire_x(s, now, log, due):
    # _fire() of a schedule with options
    x = extras[s[_S_NAME]]
    if x[_X_SPEC] and x[_X_AT] is None:
        lazy("aiowall").next_wall(s, x, now, True)  # it was waiting for the wall clock
        return True
    nxt = None
    if x[_X_SPEC]:
        # Its next start first, on copies: that allocates, and on a full heap
        # it fails before this start is made or counted (the pass tries this
        # one again, and would count it twice).
        nxt, xn = s[:], x[:]
        lazy("aiowall").next_wall(nxt, xn, now)
        nxt[_S_SKIPPED] -= s[_S_SKIPPED]  # the starts it collapsed into this one
    if x[_X_GRACE] is not None and now - s[_S_DUE] > max(x[_X_GRACE], _LATE):
        s[_S_SKIPPED] += 1  # missed by more than its grace: dropped (misfire rule)
    elif _start(s, log, due) and x[_X_LEFT] is not None:
        x[_X_LEFT] -= 1
        if not x[_X_LEFT]:
            s[_S_FLAG] = _OVER
            return False
    if nxt:
        s[_S_DUE] = nxt[_S_DUE]
        s[_S_SKIPPED] += nxt[_S_SKIPPED]
        x[_X_AT] = xn[_X_AT]
        x[_X_BASE] = xn[_X_BASE]
        return True
    x[_X_AT] = None  # a wall-clock first start is done: an interval from now on
    every = s[_S_EVERY]
    if not every:
        s[_S_FLAG] = _OVER
        return False
    # As in _fire(), on the due time without the jitter; then this start's jitter
    n = (now - x[_X_BASE]) // every + 1
    s[_S_SKIPPED] += n - 1
    s[_S_DUE] = x[_X_BASE] + n * every
    base(s, x)
    return True


def _pass(alog):
    # One pass of schedule_loop: starts what is due; returns how long it may
    # sleep (ms).
    global _dead, _swept
    sys.modules.pop("aiospec", None)  # the schedules are made: its RAM back
    now = now_ms()
    wait = _NAP_MAX
    if extras:
        wait = lazy("aiowall").check_clock(now, wait)  # it checks the wall clock now and then
    fired = handled  # (before this pass)
    # Looked up once a pass, not at each start (a burst starts many)
    due = hooks.get("due")  # aiojob's: its queue starts the runs
    settle = aioheap.settle
    s = aioheap.first()
    while s is not None:
        if s[_S_FLAG] == _DEAD:
            _dead -= 1
            again = False
        elif s[_S_DUE] > now:
            break
        else:
            # s stays first in the heap while it fires: if starting its run
            # fails (MemoryError), it goes back in order, still due.
            try:
                again = _fire(s, now, alog, due)
            except BaseException:
                settle(s, True)
                raise
        s = settle(s, again)
    for f in hooks.get("tick", ()):
        wait = f(alog, wait)  # aiojob: queued runs...; aiostore: saves
    s = aioheap.first()
    if s is not None:
        if idle_gc and handled - _swept >= _SWEEP_AFTER and wait >= _IDLE and s[_S_DUE] - now_ms() >= _IDLE:
            # Garbage collected now, while there is time, not by an
            # allocation in the middle of the next starts (a collection of
            # a full heap took 15 ms on an RP2040, emulated). Once the runs
            # this pass started have begun: the next pass, 1 ms on.
            if handled != fired:
                return 1
            gc.collect()
            _swept = handled
        wait = max(0, min(wait, s[_S_DUE] - now_ms()))
        if wait > 20:
            # A long sleep can end late (Linux lets poll() overrun by
            # 0.1%): wake a little early, then sleep the short rest.
            wait -= wait // 500 + 2
    return wait


async def schedule_loop(alog=None, max_concurrent=None):
    # max_concurrent: at most that many runs started by the scheduler at once
    # (aiojob queues the rest). None: no limit.
    global t0
    if max_concurrent is not None or hooks.get("due", ()):
        lazy("aiojob").limit(max_concurrent)
    loop_nap.claim("schedule_loop")
    if t0 is None:
        t0 = now_ms()
        for s in _pending:
            s[_S_DUE] += t0
            base(s, extras.get(s[_S_NAME]))
            push(s)
        _pending.clear()
    await loop_nap.loop(lambda: _pass(alog))


# The hooks of aioschedule (see aioctl's hook protocol)


def scheduled(name):
    return name in _active


def stop(name):
    s = _active.get(name)
    if s is None:
        return False
    parked[name] = s[:]  # first: on MemoryError nothing has changed (the original may stay in the heap, dead)
    _active.pop(name)
    kill(s)
    return True


def start(name):
    # The schedule set aside goes on; all or nothing (put), so the changes
    # are made on copies.
    global changes
    if name not in parked:
        return False
    now = now_ms()  # first: it may shift the clock, and the record with it
    s = parked[name][:]
    flag = s[_S_FLAG]
    x = extras.get(name)
    if x:
        x = x[:]
    if flag == _PENDING:
        if t0 is None:
            _pending.append(s)
            try:
                put(name, s, x)
            except MemoryError:
                _pending.pop()
                raise
            return True
        s[_S_DUE] += t0
    s[_S_FLAG] = _LIVE
    every = s[_S_EVERY]
    if x and x[_X_LEFT] == 0:
        x[_X_LEFT] = 1  # it ran its times: start() gives it one more go
    # A start that came due while it was set aside runs at once (once: the
    # others are not caught up), then the schedule keeps its grid.
    if x and x[_X_SPEC]:
        lazy("aiowall").resume(s, x, now)
    else:
        if flag == _OVER or s[_S_DUE] < now and not every:
            s[_S_DUE] = now
        elif s[_S_DUE] < now:
            s[_S_DUE] += (now - s[_S_DUE]) // every * every  # the last start of its grid
        base(s, x)
    put(name, s, x)
    changes += 1
    return True


def forget(name):
    # Removes the schedule of name, live or set aside, its options and policy.
    s = _active.pop(name, None)
    if s:
        kill(s)
    parked.pop(name, None)
    extras.pop(name, None)
    for f in hooks.get("policy", ()):
        f(name, None)


aioctl.attach("scheduled", scheduled)
aioctl.attach("stop", stop)
aioctl.attach("start", start)
aioctl.attach("forget", forget)
