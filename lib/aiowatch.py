# aiowatch: aioschedule.watcher_loop, which restarts tasks that failed.
#
# Imported on first use of aioschedule.watcher_loop: an application without a
# watcher does not load it.

import sys
import aioctl
import aioschedule as _s
from aioctl import NAME, OPTS, STATE, EXC, RUNNING, ERROR

_restarts = {}  # name -> restarts by watcher_loop
_waiting = {}  # name -> _s._now() when watcher_loop restarts it
_streak = {}  # name -> failures in a row
_began = {}  # name -> _s._now() when watcher_loop last restarted it
nap = _s._Nap()  # aioschedule.ended() wakes it when a run fails


async def watcher_loop(alog=None, sleep=30, backoff=1, max_backoff=60):
    # Restarts tasks that ended with an error (unless added with
    # restart=False, or scheduled: those run again when next due). A task
    # that keeps failing waits backoff, 2*backoff, 4*backoff... (at most
    # max_backoff) seconds before each restart.
    base = _s._seconds("backoff", backoff) or 1
    cap = _s._seconds("max_backoff", max_backoff)
    poll = _s._seconds("sleep", sleep) or 1
    waiting = _waiting
    streak = _streak
    ctl = nap.claim("watcher_loop")
    try:
        while True:
            now = _s._now()
            wait = poll
            for t in list(aioctl.group().values()):
                n = t[NAME]
                st = t[STATE]
                no = t[OPTS] is not None and not t[OPTS][2]  # added with restart=False
                if st != ERROR or no or n in _s._active or n in _s._parked:
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
                        alog.error("[%s] failed: %s: %s; watcher_loop restarts it in %s" % (
                            n, type(e).__name__, e, aioctl.duration(delay / 1000)))
                left = waiting[n] - now
                if left <= 0:
                    del waiting[n]
                    _began[n] = now
                    _restarts[n] = _restarts.get(n, 0) + 1
                    aioctl.launch(t)
                    if alog:
                        alog.info("[%s] restarted by watcher_loop (%d)" % (n, _restarts[n]))
                elif left < wait:
                    wait = left
            await nap.sleep(wait, ctl)
    finally:
        nap.task = None


# Hooks that aioschedule calls


def show(name, indent):
    n = _restarts.get(name)
    if n:
        print("%s┗━► restarts: %d" % (indent, n))


def forget(name):
    _restarts.pop(name, None)
    _waiting.pop(name, None)
    _streak.pop(name, None)
    _began.pop(name, None)


_s._clocked.extend((_waiting, _began))
_s._watch = sys.modules[__name__]
