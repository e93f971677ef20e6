# aiostatus: the tree aioctl.status() prints.
#
# Imported by the first status() call: an application that never prints its
# status (or only from the REPL, now and then) does not keep this code in RAM.

import sys
import aioctl
from aioctl import NAME, ARGS, KWARGS, STATE, SINCE, DONE_AT, RESULT, EXC
from aioctl import NEW, RUNNING, DONE, STOPPED, ERROR, duration
from aiolog import datestr

_GREEN = "\033[92m"
_YELLOW = "\033[33;1m"
_RED = "\033[31;1m"
_CYAN = "\033[36m"
_END = "\033[0m"


def show(t, log, debug, indent="    "):
    name = t[NAME]
    st = t[STATE]
    res = t[RESULT]
    sch = aioctl.sched
    s = sch and sch._active.get(name)
    off = sch and sch._offset  # dates in the schedules' local time
    now = aioctl._now()
    if st == RUNNING:
        since = t[SINCE]
        print("%s●%s %s: status: %srunning%s since %s; %s ago" % (
            _GREEN, _END, name, _GREEN, _END, datestr(since, off), duration(now - since)))
    else:
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
    if s:
        _schedule(t, s, indent, debug)
    if sch and sch._watch:
        sch._watch.show(t, indent)
    if aioctl.jobs:
        aioctl.jobs.show(t, indent)
    if debug:
        print("%s┗━► args: %r" % (indent, t[ARGS]))
        print("%s┗━► kwargs: %r" % (indent, t[KWARGS]))
        if t[DONE_AT] is not None and st != NEW:
            print("%s┗━► runtime: %s" % (indent, duration(t[DONE_AT] - t[SINCE])))
        if t[EXC] is not None:
            print("%s┗━► traceback:" % indent)
            aioctl._traceback(t, indent + "      ")
    if log and aioctl._log:
        aioctl._log.cat("[%s]" % name)
    print("<" + "-" * 80 + ">")


def _schedule(t, s, indent, debug):
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
        line = "in %s @ %s" % (duration(ms / 1000), datestr((sch._wall() + ms) // 1000, sch._offset))
        line = ("next " if last is not None else "starts ") + line
    if last is not None:
        line = "last @ %s --> %s" % (datestr(last, sch._offset), line)
    print("%s┗━► schedule: %s" % (indent, line))
    if debug:
        every = s[3]
        x = sch._extras.get(t[NAME])
        kind = "every " + duration(every / 1000) if every else "once"
        if x and x[0]:
            kind = "calendar"
        print("%s┗━► schedule: %s, runs: %d, skipped: %d" % (indent, kind, s[5], s[6]))
        import aiocron

        runs = []
        for tm in aiocron.next_runs(t[NAME], 3):
            runs.append("%d-%02d-%02d %02d:%02d:%02d" % tm[:6])
        print("%s┗━► next runs: %s" % (indent, ", ".join(runs)))
