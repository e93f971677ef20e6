# aiowatch: aioschedule.watcher_loop, which restarts tasks that failed,
# cancels tasks that hang (no heartbeat) and feeds a hardware watchdog while
# the critical tasks are healthy; and aioctl.heartbeat().
#
# Imported on first use of aioschedule.watcher_loop or aioctl.heartbeat: an
# application without them does not load it.

import time
import asyncio
from micropython import const
import aioctl
import aioschedule as _s
from aioctl import NAME, KWARGS, OPTS, TASK, STATE, EXC, RUNNING, ERROR, STOPPED
from aioctl import match, seconds

# aioctl's options tuple (compile-time copies, checked by tests/test_layers.py)
_OPT_RESTART = const(2)
_OPT_BEAT = const(4)

# aiostatus reads these two (and never changes them)
restarts = {}  # name -> restarts by watcher_loop
_waiting = {}  # name -> scheduler ms when watcher_loop restarts it
_streak = {}  # name -> failures in a row
_began = {}  # name -> scheduler ms when watcher_loop last restarted it
hung = {}  # name -> runs cancelled for want of a heartbeat
nap = _s.Nap()  # ended() wakes it when a run fails


def heartbeat():
    # From inside a task added with _heartbeat=seconds: "still working".
    # Cheap enough to call in a busy loop: one store, kept in the run itself
    # (let go with it).
    r = aioctl.current_run()
    if r is None:
        raise RuntimeError("heartbeat: call it from inside an aioctl task")
    r.beat = time.ticks_ms()


def beat_age(t, tick):
    # ms from the last heartbeat of record t's run (or its start) to tick;
    # None if no run of t with _heartbeat= has begun.
    task = t[TASK]
    b = None if task is None else aioctl.run_of(task).beat
    return None if b is None else time.ticks_diff(tick, b)


async def watcher_loop(alog=None, sleep=30, backoff=1, max_backoff=60, wdt=None, critical=(), feed=1):
    # Restarts tasks that ended with an error (unless added with
    # restart=False, or scheduled: those run again when next due). A task
    # that keeps failing waits backoff, 2*backoff, 4*backoff... (at most
    # max_backoff) seconds before each restart. A running task added with
    # heartbeat=s whose last aioctl.heartbeat() is older than s is cancelled
    # as failed (and so restarted). wdt: an object with feed() (machine.WDT),
    # fed every feed seconds while every task named in critical (names or
    # "*" patterns) is healthy: running, or waiting for its schedule, with
    # its heartbeat on time.
    base = seconds("backoff", backoff) or 1
    cap = seconds("max_backoff", max_backoff)
    poll = seconds("sleep", sleep) or 1
    every = seconds("feed", feed) or 1
    if wdt is not None and not callable(getattr(wdt, "feed", None)):
        raise TypeError("watcher_loop: wdt %r has no feed()" % (wdt,))
    if isinstance(critical, str) or not isinstance(critical, (tuple, list)):
        raise TypeError("watcher_loop: critical %r must be a tuple or list of task names" % (critical,))
    nap.claim("watcher_loop")
    await nap.loop(lambda: _pass(alog, base, cap, poll, every, wdt, critical))


def _pass(alog, base, cap, poll, every, wdt, critical):
    # One pass of watcher_loop; returns how long it may sleep (ms).
    waiting = _waiting
    streak = _streak
    now = _s.now_ms()
    tick = time.ticks_ms()
    wait = poll
    healthy = True
    for t in aioctl.group().values():  # nothing in the pass adds or removes tasks
        n = t[NAME]
        st = t[STATE]
        opts = t[OPTS]
        sick = st == ERROR or st == STOPPED
        beat = opts[_OPT_BEAT] if opts else 0
        if beat:
            # A run may begin at any moment (the scheduler, a
            # restart, aioctl.start): look again within the limit.
            age = beat_age(t, tick) if st == RUNNING else None
            left = beat if age is None else beat - age
            if left < 0:
                sick = True
                msg = "hung: no heartbeat for %s s (limit %s s)" % (age / 1000, beat / 1000)
                hung[n] = hung.get(n, 0)  # its room first: on a full heap the count is not lost
                aioctl.fail(t[TASK], RuntimeError(msg))  # ends as failed: restarted below
                hung[n] += 1
                if alog:
                    alog.error("[%s] %s; watcher_loop cancels it" % (n, msg))
            elif left < wait:
                wait = left + 1
        if sick and critical and healthy:
            for p in critical:
                if match(p, n):
                    healthy = False
        # added with _restart=False, or with restart=False for the task (asyncmd's watcher reads it)
        no = opts is not None and not opts[_OPT_RESTART] or t[KWARGS].get("restart") is False
        if st != ERROR or no or n in _s.group() or n in _s.parked:
            if st != ERROR and st != RUNNING:
                streak.pop(n, None)  # ended well, or was stopped: start afresh
            waiting.pop(n, None)
            continue
        if n not in waiting:
            k = streak.get(n, 0)
            if now - _began.get(n, now) >= cap:
                k = 0  # it ran a good while before failing
            streak[n] = k + 1
            delay = min(cap, base << min(k - 1, 24)) if k else 0
            waiting[n] = now + delay
            if alog:
                # Tagged [name] so that aioctl.status(name) shows it.
                e = t[EXC]
                alog.error("[%s] failed: %s: %s; watcher_loop restarts it in %g s" % (
                    n, type(e).__name__, e, delay / 1000))
        left = waiting[n] - now
        if left <= 0:
            _began[n] = now  # the counters' room first: on a full heap a restart is not lost
            restarts[n] = restarts.get(n, 0)
            aioctl.launch(t)  # if it fails (MemoryError), the next pass tries again
            del waiting[n]
            restarts[n] += 1
            if alog:
                alog.info("[%s] restarted by watcher_loop (%d)" % (n, restarts[n]))
        elif left < wait:
            wait = left
    if critical and healthy:
        healthy = _all_there(critical)
    if wdt is not None:
        if healthy:
            wdt.feed()
        wait = min(wait, every)
    return wait


def _all_there(critical):
    # A critical task that does not exist (deleted, never added) is not healthy.
    for p in critical:
        found = False
        for n in aioctl.group():
            if match(p, n):
                found = True
                break
        if not found:
            return False
    return True


def forget(name):
    restarts.pop(name, None)
    _waiting.pop(name, None)
    _streak.pop(name, None)
    _began.pop(name, None)
    hung.pop(name, None)


def ended(t):
    # The ended hook: a failed run is restarted without waiting for the poll.
    if t[STATE] == ERROR:
        nap.wake()




aioctl.attach("forget", forget)
aioctl.attach("ended", ended)
aioctl.attach("clocked", _waiting)  # times on the scheduler's clock
aioctl.attach("clocked", _began)  # times on the scheduler's clock
