# aiostatus: aioctl.status(), the tree of every task, with the lines that
# aioschedule, aiojob and aiowatch add to it.
#
# aioctl imports it for each status() call (aiolog._lazy) and lets it go
# after: an application that only looks at its tasks from the REPL, now and
# then, does not keep this code in RAM while it runs. The other REPL
# queries are in aioinfo, so that each call loads only what it needs.

import time
import aioctl
from aioctl import NAME, ARGS, KWARGS, OPTS, TASK, STATE, SINCE, DONE_AT, RESULT, EXC
from aioctl import NEW, RUNNING, DONE, STOPPED, ERROR, duration, _find
from aiolog import LogStream, datestr, _lazy

_GREEN = "\033[92m"
_YELLOW = "\033[33;1m"
_RED = "\033[31;1m"
_CYAN = "\033[36m"
_END = "\033[0m"


def status(name=None, log=True, debug=False):
    # debug: the lines of aioctl.debug() mode too, with aioinfo's help. The
    # log lines of a LogStream are read with aiologread, imported once here
    # (its cat() method would import it again for each task).
    info = _lazy("aioinfo") if debug or aioctl._debug else None
    st = aioctl._log
    cat = None
    if log and st:
        cat = _lazy("aiologread", "cat") if isinstance(st, LogStream) else _cat
    if name is None and not aioctl.group():
        print("aioctl: no tasks")
        return
    _find(name, show, cat, info)


def _cat(st, grep):
    st.cat(grep)  # a stream of set_log() that is not a LogStream


def show(t, cat, info, indent="    "):
    # One task's entry. Its parts are separate functions: on a full,
    # fragmented heap, loading this module needs no large free block.
    sch = aioctl.sched
    s = sch and sch._active.get(t[NAME])
    _head(t, s, sch and sch._offset)  # dates in the schedules' local time
    if s:
        _schedule(t, s, indent, info)
    if sch and sch._watch:
        _watch(t, indent, sch._watch)
    if aioctl.jobs:
        _jobs(t, indent, aioctl.jobs, sch)
    if info:
        _debug(t, indent, info)
    if cat:
        cat(aioctl._log, "[%s]" % t[NAME])
    print("<" + "-" * 80 + ">")


def _debug(t, indent, info):
    # the lines of debug mode
    print("%s┗━► args: %r" % (indent, t[ARGS]))
    print("%s┗━► kwargs: %r" % (indent, t[KWARGS]))
    if t[DONE_AT] is not None and t[STATE] != NEW:
        print("%s┗━► runtime: %s" % (indent, duration(t[DONE_AT] - t[SINCE])))
    if t[EXC] is not None:
        print("%s┗━► traceback:" % indent)
        info._traceback(t, indent + "      ")


def _head(t, s, off):
    # the first line: state, since when, result
    name = t[NAME]
    st = t[STATE]
    res = t[RESULT]
    now = aioctl._now()
    if st == RUNNING:
        since = t[SINCE]
        print("%s●%s %s: status: %srunning%s since %s; %s ago" % (
            _GREEN, _END, name, _GREEN, _END, datestr(since, off), duration(now - since)))
        return
    if st == ERROR:
        dot, word = _RED, _RED + "ERROR" + _END
        if isinstance(res, Exception):
            res = "%s%s%s: %s" % (_RED, type(res).__name__, _END, res)
        else:
            res = repr(res)
    elif st == STOPPED:
        dot, word, res = _YELLOW, _YELLOW + "stopped" + _END, repr(res)
    elif st == DONE:
        dot, word, res = "", "done", repr(res)
    else:
        dot, word, res = "", "idle", ""
    if s:
        if st == NEW:
            word = _CYAN + "scheduled" + _END
        else:
            word = "scheduled - " + word
        if st != ERROR:
            dot = _CYAN
    when = t[DONE_AT]
    if when is None:
        when = datestr(t[SINCE], off)
    else:
        when = "%s; %s ago" % (datestr(when, off), duration(now - when))
    print("%s●%s %s: status: %s @ %s --> result: %s" % (dot, _END if dot else "", name, word, when, res))


def _schedule(t, s, indent, info):
    # the lines of t's schedule s (see aioschedule's record: _DUE, _FLAG...)
    sch = aioctl.sched
    flag = s[4]
    last = t[SINCE] if s[5] else None
    if flag == 3:  # over
        line = "no next run"
    elif flag == 1:  # pending: schedule_loop has not started
        line = "starts %s after schedule_loop starts" % duration(s[0] / 1000)
    else:
        ms = max(0, s[0] - sch._now())
        x = sch._extras.get(t[NAME])
        if x and x[1] is not None and not x[4]:
            at = x[1]  # a wall-clock start without jitter: its own second
        else:
            at = (sch._wall() + ms + 500) // 1000  # the clocks are read apart: round
        line = "in %s @ %s" % (duration(ms / 1000), datestr(at, sch._offset))
        line = ("next " if last is not None else "starts ") + line
    if last is not None:
        line = "last @ %s --> %s" % (datestr(last, sch._offset), line)
    print("%s┗━► schedule: %s" % (indent, line))
    if info:
        every = s[3]
        x = sch._extras.get(t[NAME])
        kind = "every " + duration(every / 1000) if every else "once"
        if x and x[0]:
            kind = "calendar"
        print("%s┗━► schedule: %s, runs: %d, skipped: %d" % (indent, kind, s[5], s[6]))
        runs = []
        for tm in info.next_runs(t[NAME], 3):
            runs.append("%d-%02d-%02d %02d:%02d:%02d" % tm[:6])
        print("%s┗━► next runs: %s" % (indent, ", ".join(runs)))


def _bar(done):
    n = int(done * 10)
    return "[%s%s] %d%%" % ("#" * n, "-" * (10 - n), int(done * 100))


def _jobs(t, indent, j, sch):
    # aiojob's lines: progress, retries, the wait for a free slot
    name = t[NAME]
    p = j._progress.get(name)
    if p and p[0] is t[TASK] and t[STATE] == RUNNING:
        print("%s┗━► progress: %s%s" % (indent, _bar(p[1]), " " + p[2] if p[2] else ""))
    pol = j._pol.get(name)
    if pol and pol[1]:  # max_retries (see aiojob._PRIO...)
        at = j._retry.get(name)
        if at is not None:
            left = max(0, at - sch._now())
            print("%s┗━► retry %d of %d in %s" % (indent, pol[3] + 1, pol[1], duration(left / 1000)))
        elif pol[3]:
            print("%s┗━► attempt %d of %d" % (indent, pol[3] + 1, pol[1] + 1))
    since = j._since.get(name)
    if since is not None:
        waited = (sch._now() - since) / 1000
        print("%s┗━► waiting for a free slot for %s (%d of %d in line, max_concurrent %s)" % (
            indent, duration(waited), j._queue.index(name) + 1, len(j._queue), j._limit))


def _watch(t, indent, w):
    # aiowatch's lines: restarts, heartbeat
    name = t[NAME]
    n = w._restarts.get(name)
    if n:
        print("%s┗━► restarts: %d" % (indent, n))
    opts = t[OPTS]
    if opts and opts[4]:  # heartbeat ms (see aioctl.OPTS)
        line = "limit %s s" % (opts[4] / 1000)
        age = w.beat_age(t, time.ticks_ms()) if t[STATE] == RUNNING else None
        if age is not None:
            line = "%s ago, %s" % (duration(age / 1000), line)
        if w._hung.get(name):
            line += "; hung %d times" % w._hung[name]
        print("%s┗━► heartbeat: %s" % (indent, line))
