# aiojob: job policies for aioschedule (priority, retries, a concurrency
# limit, triggers, shutdown, a job's own next run) and aioctl.progress().
#
# Imported on first use only: by a schedule with priority, max_retries or
# retry_delay, by schedule_loop(max_concurrent=N), or by the first use of
# aioschedule.trigger/shutdown/next_run or aioctl.progress. A board that uses
# none of them never loads it. It imports aioschedule (progress too needs it).
#
# Once it is loaded, runs the scheduler starts go through one queue: due
# runs, retries and triggers wait there in priority order, then due order,
# and start while fewer than max_concurrent of them are running.

import sys
import asyncio
from micropython import const
import aioctl
import aioschedule as _s
from aioctl import NAME, TASK, STATE, RUNNING, ERROR
from aioctl import seconds

# aioschedule's record layouts (compile-time copies, checked by tests/test_layers.py)
_S_DUE = const(0)
_S_FLAG = const(4)
_S_RUNS = const(5)
_S_SKIPPED = const(6)
_LIVE = const(0)
_OVER = const(3)
_X_AT = const(1)
_X_LEFT = const(2)
_X_BASE = const(5)

# A policy (schedule() options) is a list: policies[name]. aiostatus and
# aiostore keep compile-time copies of this layout (checked by
# tests/test_layers.py); they read the tables below, never change them.
_J_PRIO = const(0)
_J_MAX = const(1)  # max_retries
_J_DELAY = const(2)  # ms before the first retry; doubles with each one
_J_TRY = const(3)  # retries made for the current run (0: the first try)

_RING = const(8)  # triggers from interrupt handlers not yet seen by the loop
started = 0  # runs this queue started (aiostore saves when it grows)

policies = {}  # name -> policy
queue = []  # names of runs waiting to start, best first
waiting = {}  # name -> scheduler ms when it began to wait (the names in queue)
# name -> scheduler ms when its next retry is due, or None: every policy with
# retries has its key from the start, so a failure (on a full heap, say)
# sets a value and allocates nothing.
retry_at = {}
_inflight = []  # aioctl records of runs started here and maybe still going
progress_of = {}  # name -> (asyncio Task of the run, fraction, message)
max_concurrent = None  # schedule_loop(max_concurrent=): runs started here at most at once
_closing = False  # shutdown() was called: start nothing
_log = None  # schedule_loop's alog
_ring = [None] * _RING
_in = 0  # the next slot trigger() fills
_out = 0  # the next slot tick() reads
_lost = 0  # triggers dropped because the ring was full
_flag = asyncio.ThreadSafeFlag()
_waker = None  # the task that wakes schedule_loop when _flag is set


def policy(name, p):
    # The policy hook: a schedule was made (p: its policy (priority,
    # max_retries, retry_delay ms), or None) or removed (None).
    if p:
        p = policies[name] = [p[_J_PRIO], p[_J_MAX], p[_J_DELAY], 0]
        if p[_J_MAX]:
            retry_at[name] = None
        else:
            retry_at.pop(name, None)
    else:
        policies.pop(name, None)
        stop(name)
        retry_at.pop(name, None)
        progress_of.pop(name, None)


def stop(name):
    # The stop hook (aioctl.stop): forgets the runs of name that wait (also
    # when its schedule is removed).
    if name in retry_at:
        retry_at[name] = None
    if waiting.pop(name, None) is not None:
        queue.remove(name)


def limit(n):
    # schedule_loop(max_concurrent=n) is starting.
    global max_concurrent, _closing
    if n is not None and (type(n) is not int or n < 1):
        raise ValueError("schedule_loop: max_concurrent %r must be a whole number, 1 or more" % (n,))
    max_concurrent = n
    _closing = False


def _prio(name):
    p = policies.get(name)
    return p[_J_PRIO] if p else 0


def want(name, s=None, retry=False):
    # A run of name is due: it waits in the queue for its turn. False if one
    # is waiting already (the due run is dropped, counted as skipped). The
    # allocations come first: on MemoryError nothing has changed, and the
    # loop's next pass tries again.
    if name in waiting:
        if s:
            s[_S_SKIPPED] += 1
        return False
    p = policies.get(name)
    pr = p[_J_PRIO] if p else 0
    i = len(queue)
    while i and _prio(queue[i - 1]) < pr:
        i -= 1
    queue.insert(i, name)
    try:
        waiting[name] = _s.now_ms()
    except MemoryError:
        del queue[i]
        raise
    if p and not retry:
        if retry_at.get(name) is None:
            p[_J_TRY] = 0  # a new run, not a retry of the last one
        else:
            retry_at[name] = None
            p[_J_TRY] += 1  # due with a retry still to come: it is the retry
    return True


def tick(log, wait):
    # Called by schedule_loop on each pass: takes in triggers and due
    # retries, starts waiting runs while there is a free slot. Returns how
    # long the loop may sleep (at most wait ms).
    global _out, _log, started
    _log = log
    tasks = aioctl.group()
    if _out != _in:
        _arm()
    while _out != _in:
        name = _ring[_out]
        _ring[_out] = None
        _out = (_out + 1) % _RING
        t = tasks.get(name)
        if t is None:
            if log:
                log.warning("[%s] triggered but not an aioctl task now", name)
        elif t[STATE] == RUNNING:
            s = _s.group().get(name)
            if s:
                s[_S_SKIPPED] += 1
        else:
            want(name, _s.group().get(name))
    now = _s.now_ms()
    for name in retry_at:  # values change, keys do not
        at = retry_at[name]
        if at is None:
            continue
        if at <= now:
            p = policies.get(name)
            t = tasks.get(name)
            if p and t and t[STATE] != RUNNING:
                want(name, None, True)  # on MemoryError the retry stays due
                p[_J_TRY] += 1
            retry_at[name] = None
        else:
            wait = min(wait, at - now)
    if _closing:
        return wait
    i = 0
    for t in _inflight:
        if t[STATE] == RUNNING:
            _inflight[i] = t
            i += 1
    del _inflight[i:]
    while queue and (max_concurrent is None or len(_inflight) < max_concurrent):
        name = queue[0]
        t = tasks.get(name)
        go = t is not None and t[STATE] != RUNNING  # else gone, or running already
        if go:
            # On MemoryError it stays first in line: the next pass tries again.
            _inflight.append(t)
            try:
                aioctl.launch(t)
            except MemoryError:
                _inflight.pop()
                raise
        del queue[0]
        del waiting[name]
        s = _s.group().get(name)
        if not go:
            if t is not None and s:
                s[_S_SKIPPED] += 1  # started meanwhile (aioctl.start): this start is dropped
            continue
        if s:
            s[_S_RUNS] += 1
            started += 1  # a change aiostore saves (with aioschedule's)
    return wait


async def _wake():
    # trigger() may run in an interrupt handler, which must not touch
    # asyncio's queues: it sets a ThreadSafeFlag, and this task wakes the loop.
    while True:
        await _flag.wait()
        _s.loop_nap.wake()


def _arm():
    # Starts _wake once triggers are used, not before: while it waits, the
    # unix port polls every 1 ms (a ThreadSafeFlag is not a file descriptor).
    global _waker
    if _waker is None:
        _waker = asyncio.create_task(_wake())


def ended(t):
    # A run of t ended: a slot is free; a failed run may be retried.
    name = t[NAME]
    p = policies.get(name)
    if t[STATE] == ERROR and p and p[_J_TRY] < p[_J_MAX] and not _closing:
        now = _s.now_ms()
        at = now + min(p[_J_DELAY] << min(p[_J_TRY], 20), 1 << 28)
        s = _s.group().get(name)
        if s and s[_S_FLAG] == _LIVE:
            at = min(at, s[_S_DUE] - 1)  # before the next regular run
        at = max(at, now)
        retry_at[name] = at  # its key is there (policy()): no allocation
        _s.loop_nap.wake()
        if _log:
            try:
                _log.warning("[%s] failed; retry %d of %d in %g s" % (name, p[_J_TRY] + 1, p[_J_MAX], (at - now) / 1000))
            except MemoryError:
                pass  # a run's end must not fail: the line is lost, not the retry
    elif queue:
        _s.loop_nap.wake()  # a slot may be free


def __getattr__(attr):
    # aioschedule.trigger: getting the function (in normal code, before an
    # interrupt handler uses it) starts the task that wakes the loop.
    if attr != "trigger":
        raise AttributeError(attr)
    _arm()
    return _trigger


def _trigger(name):
    # Runs the task now (in its turn, as a due run). Safe in an interrupt
    # handler: it allocates nothing (except for the error of an unknown
    # name) and only sets a ThreadSafeFlag. False if too many triggers wait.
    global _in, _lost
    if not isinstance(name, str) or name not in aioctl.group():
        raise ValueError("trigger: no aioctl task %r" % (name,))
    nxt = (_in + 1) % _RING
    if nxt == _out:
        _lost += 1
        return False
    _ring[_in] = name
    _in = nxt
    _flag.set()
    return True


def _me(fn):
    # The aioctl record of the run that calls fn.
    r = aioctl.current_run()
    t = r and r.t
    if t is None:
        raise RuntimeError("%s: call it from inside an aioctl task" % fn)
    return t


def progress(done, msg=None):
    # From inside a task: how far this run has got (0..1) and what it does.
    # aioctl.status() shows it while the run goes on.
    if done is True or done is False or not isinstance(done, (int, float)) or not 0 <= done <= 1:
        raise ValueError("progress: %r is not a fraction from 0 to 1" % (done,))
    if msg is not None and not isinstance(msg, str):
        raise TypeError("progress: message %r is not a string" % (msg,))
    t = _me("progress")
    progress_of[t[NAME]] = (t[TASK], done, msg)


def next_run(when):
    # From inside a scheduled job: its next start, instead of the one its
    # schedule gives. when: seconds from now, a time tuple (wall clock), or
    # None: no next run. The schedule goes on from that start (an interval
    # counts from it, a calendar gives the one after). False if times= is
    # used up.
    t = _me("next_run")
    name = t[NAME]
    s = _s.group().get(name)
    if s is None:
        raise ValueError("next_run: %r has no schedule" % (name,))
    x = _s.extras.get(name)
    at = ms = None
    if isinstance(when, (tuple, list)):
        import aiowall

        at = aiowall.epoch(when)
        ms = at * 1000 - _s.wall_ms()
        if ms < 0:
            raise ValueError("next_run: %r is in the past" % (when,))
    elif when is not None:
        ms = seconds("next_run", when)
    if x and x[_X_LEFT] == 0:
        return False
    # All or nothing: on a full heap (MemoryError) the schedule stays as it
    # was; the new record replaces the old one only once it is in the heap.
    new = s[:]
    if ms is None:
        new[_S_FLAG] = _OVER
        _s.put(name, new, x)
        return True
    new[_S_DUE] = _s.now_ms() + ms
    new[_S_FLAG] = _LIVE
    old = None
    if x:
        # A wall-clock start: kept in wall seconds, so clock changes move it.
        old = (x[_X_AT], x[_X_BASE])
        x[_X_AT] = at if at is not None else (_s.wall_ms() + ms) // 1000
    try:
        _s.base(new, x)
        _s.put(name, new, x)
    except MemoryError:
        if old:
            x[_X_AT], x[_X_BASE] = old
        raise
    return True


async def shutdown(timeout=10):
    # Stops schedule_loop and watcher_loop (nothing new starts), waits up to
    # timeout seconds for the runs of scheduled tasks, then stops the rest.
    # Returns {"finished": [...], "stopped": [...], "dropped": [...]}: names
    # of runs that ended in time, that were stopped, and that were waiting
    # to start and never did. Schedules stay: start schedule_loop again to
    # go on.
    global _closing
    ms = seconds("timeout", timeout)
    _closing = True
    dropped = queue[:]
    queue.clear()
    waiting.clear()
    for name in retry_at:
        retry_at[name] = None
    w = sys.modules.get("aiowatch")
    for nap in (_s.loop_nap, w and w.nap):
        task = nap and nap.task
        if task is not None:
            if nap.ctl is not None and nap.ctl[TASK] is task:
                aioctl.stop(nap.ctl[NAME])  # an aioctl task: its record shows it stopped
            else:
                task.cancel()
    try:
        cur = asyncio.current_task()
    except RuntimeError:
        cur = None
    runs = []
    for t in aioctl.group().values():
        name = t[NAME]
        if t[STATE] == RUNNING and t[TASK] is not cur and (
                t in _inflight or name in _s.group() or name in _s.parked):
            runs.append(t)
    left = ms
    while left > 0:
        going = 0
        for t in runs:
            if t[STATE] == RUNNING:
                going += 1
        if not going:
            break
        await asyncio.sleep_ms(min(left, 10))
        left -= 10
    done, stopped = [], []
    for t in runs:
        if t[STATE] == RUNNING:
            aioctl.stop(t[NAME], False)
            stopped.append(t[NAME])
        else:
            done.append(t[NAME])
    return {"finished": done, "stopped": stopped, "dropped": dropped}


def due(name, s):
    # The due hook: schedule_loop's due starts wait in the queue.
    return want(name, s)




aioctl.attach("stop", stop)
aioctl.attach("ended", ended)
aioctl.attach("tick", tick, True)  # before aiostore's: it saves what this one started
aioctl.attach("due", due)
aioctl.attach("policy", policy)
aioctl.attach("clocked", waiting)  # times on the scheduler's clock
aioctl.attach("clocked", retry_at)  # times on the scheduler's clock
