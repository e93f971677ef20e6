# aiostatus: aioctl.status(), the tree of every task, with the lines that
# aioschedule, aiojob and aiowatch add to it.
#
# aioctl imports it for each status() call (aioctl.lazy) and lets it go
# after: an application that only looks at its tasks from the REPL, now and
# then, does not keep this code in RAM while it runs. The other REPL
# queries are in aioinfo, so that each call loads only what it needs.

import sys
import time
from micropython import const
import aioctl
from aioctl import NAME, ARGS, KWARGS, OPTS, TASK, STATE, SINCE, DONE_AT, RESULT, EXC
from aioctl import NEW, RUNNING, DONE, STOPPED, ERROR, find, is_number, lazy
from aiolog import LogStream, datestr

# aioctl's options tuple and aiojob's policy (compile-time copies, checked by tests/test_layers.py)
_J_MAX = const(1)
_J_TRY = const(3)
_OPT_BEAT = const(4)

_GREEN = "\033[92m"
_YELLOW = "\033[33;1m"
_RED = "\033[31;1m"
_CYAN = "\033[36m"
_END = "\033[0m"

# aioschedule's record layouts (compile-time copies, checked by tests/test_layers.py)
_S_DUE = const(0)
_S_EVERY = const(3)
_S_FLAG = const(4)
_S_RUNS = const(5)
_S_SKIPPED = const(6)
_PENDING = const(1)
_OVER = const(3)
_X_SPEC = const(0)
_X_AT = const(1)
_X_JITTER = const(4)


def duration(s):
    # 0.5 s, 4 s, 00:01:56, 2 days, 03:00:00
    if not is_number(s):
        raise TypeError("duration: %r is not a number of seconds" % (s,))
    if s < 59.5:
        return ("%d s" if s == int(s) or s >= 10 else "%.1f s") % s
    s = int(s)
    days, s = divmod(s, 86400)
    hms = "%02d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60)
    if days:
        return "%d day%s, %s" % (days, "" if days == 1 else "s", hms)
    return hms


def status(name=None, log=True, debug=False):
    # debug: the lines of aioctl.debug() mode too, with aioinfo's help. The
    # log lines of a LogStream are read with aiologread, imported once here
    # (its cat() method would import it again for each task).
    info = lazy("aioinfo") if debug or aioctl.debug_on else None
    st = aioctl.log_stream
    cat = None
    if log and st:
        cat = lazy("aiologread", "cat") if isinstance(st, LogStream) else _cat
    if name is None and not aioctl.group():
        print("aioctl: no tasks")
        return
    find(name, show, cat, info)


def _cat(st, grep):
    st.cat(grep)  # a stream of set_log() that is not a LogStream


def show(t, cat, info, indent="    "):
    # One task's entry. Its parts are separate functions: on a full,
    # fragmented heap, loading this module needs no large free block. The
    # add-ons' lines come from their view functions, if they are loaded.
    mods = sys.modules
    sch = mods.get("aioschedule")
    wall = mods.get("aiowall")
    off = wall and wall.offset  # dates in the schedules' local time
    s = sch and sch.group().get(t[NAME])
    _head(t, s, off)
    if s:
        _schedule(t, s, indent, info, sch, off)
    if "aiowatch" in mods:
        _watch(t, indent, mods["aiowatch"])
    if "aiojob" in mods:
        _jobs(t, indent, mods["aiojob"])
    if info:
        _debug(t, indent, info)
    if cat:
        cat(aioctl.log_stream, "[%s]" % t[NAME])
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
    now = aioctl.wall_s()
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


def _schedule(t, s, indent, info, sch, off):
    # the lines of t's schedule s (see aioschedule.S_DUE...)
    flag = s[_S_FLAG]
    runs = s[_S_RUNS]
    last = t[SINCE] if runs else None
    x = sch.extras.get(t[NAME])
    if flag == _OVER:
        line = "no next run"
    elif flag == _PENDING:  # schedule_loop has not started
        line = "starts %s after schedule_loop starts" % duration(s[_S_DUE] / 1000)
    else:
        ms = max(0, s[_S_DUE] - sch.now_ms())
        if x and x[_X_AT] is not None and not x[_X_JITTER]:
            at = x[_X_AT]  # a wall-clock start without jitter: its own second
        else:
            at = (sch.wall_ms() + ms + 500) // 1000  # the clocks are read apart: round
        line = "in %s @ %s" % (duration(ms / 1000), datestr(at, off))
        line = ("next " if last is not None else "starts ") + line
    if last is not None:
        line = "last @ %s --> %s" % (datestr(last, off), line)
    print("%s┗━► schedule: %s" % (indent, line))
    if info:
        every = s[_S_EVERY]
        kind = "every " + duration(every / 1000) if every else "once"
        if x and x[_X_SPEC]:
            kind = "calendar"
        print("%s┗━► schedule: %s, runs: %d, skipped: %d" % (indent, kind, runs, s[_S_SKIPPED]))
        runs = []
        for tm in info.next_runs(t[NAME], 3):
            runs.append("%d-%02d-%02d %02d:%02d:%02d" % tm[:6])
        print("%s┗━► next runs: %s" % (indent, ", ".join(runs)))


def _bar(done):
    n = int(done * 10)
    return "[%s%s] %d%%" % ("#" * n, "-" * (10 - n), int(done * 100))


def _jobs(t, indent, j):
    # aiojob's lines: progress, retries, the wait for a free slot
    name = t[NAME]
    p = j.progress_of.get(name)
    if p and p[0] is t[TASK] and t[STATE] == RUNNING:
        print("%s┗━► progress: %s%s" % (indent, _bar(p[1]), " " + p[2] if p[2] else ""))
    pol = j.policies.get(name)
    sch = sys.modules["aioschedule"]
    if pol and pol[_J_MAX]:
        at = j.retry_at.get(name)
        if at is not None:
            left = max(0, at - sch.now_ms())
            print("%s┗━► retry %d of %d in %s" % (indent, pol[_J_TRY] + 1, pol[_J_MAX], duration(left / 1000)))
        elif pol[_J_TRY]:
            print("%s┗━► attempt %d of %d" % (indent, pol[_J_TRY] + 1, pol[_J_MAX] + 1))
    since = j.waiting.get(name)
    if since is not None:
        waited = (sch.now_ms() - since) / 1000
        print("%s┗━► waiting for a free slot for %s (%d of %d in line, max_concurrent %s)" % (
            indent, duration(waited), j.queue.index(name) + 1, len(j.queue), j.max_concurrent))


def _watch(t, indent, w):
    # aiowatch's lines: restarts, heartbeat
    name = t[NAME]
    n = w.restarts.get(name)
    if n:
        print("%s┗━► restarts: %d" % (indent, n))
    opts = t[OPTS]
    if opts and opts[_OPT_BEAT]:
        line = "limit %s s" % (opts[_OPT_BEAT] / 1000)
        age = w.beat_age(t, time.ticks_ms()) if t[STATE] == RUNNING else None
        if age is not None:
            line = "%s ago, %s" % (duration(age / 1000), line)
        n = w.hung.get(name)
        if n:
            line += "; hung %d times" % n
        print("%s┗━► heartbeat: %s" % (indent, line))
