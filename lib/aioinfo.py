# aioinfo: the small REPL queries: aioctl.result() of a pattern,
# result_all(), traceback(), debug(), log(), follow(), and aiocron.info()
# and next_runs() of a schedule.
#
# Imported for each call (aiolog._lazy) and let go after, like aiostatus.

import io
import sys
import aioctl
from aioctl import NAME, SINCE, RESULT, EXC, _find, _names, _tasks


def debug():
    aioctl._debug = not aioctl._debug
    print("debug mode: %s" % aioctl._debug)


def result(name=None):
    if name is None:
        return result_all()
    _find(name, _print_result)


def _print_result(t):
    print("%s --> %r" % (t[NAME], t[RESULT]))


def result_all(as_dict=False):
    if as_dict:
        d = {}
        for t in _tasks.values():
            d[t[NAME]] = t[RESULT]
        return d
    _find(None, _print_result)


def _traceback(t, indent=""):
    if t[EXC] is None:
        print("%s%s: no error" % (indent, t[NAME]))
        return
    print("%s%s: Traceback" % (indent, t[NAME]))
    # print_exception writes to a stream: indent each of its lines.
    buf = io.StringIO()
    sys.print_exception(t[EXC], buf)
    for line in buf.getvalue().split("\n"):
        if line:
            print(indent + line)


def traceback(name=None):
    if name is None:
        for n in _names():
            if _tasks[n][EXC] is not None:
                _traceback(_tasks[n])
        return
    _find(name, _traceback)


def log(grep=""):
    if aioctl._log:
        aioctl._log.cat(grep)


async def follow(grep="", wait=0.05):
    if aioctl._log:
        try:
            await aioctl._log.follow(grep, wait)
        except (TypeError, ValueError) as e:
            print("aioctl:", e)  # bad grep or wait, from the REPL: a line, not an exception


# aiocron.next_runs() and aiocron.info() (aiocron forwards them here). The
# schedule record is aioschedule's: due 0, every 3, flag 4, runs 5, skipped 6;
# flag: 0 live, 1 pending, 3 over. Its extras: spec 0, at 1, times left 2,
# base 5.


def next_runs(name, n=5):
    # The next n start times of a schedule as time tuples, from the same code
    # that schedules them.
    import aioschedule as sch
    import aiocron

    s = sch._active.get(name) if isinstance(name, str) else None
    if s is None:
        print("aioschedule: no schedule %r" % (name,))
        return None
    if type(n) is not int or not 0 < n <= 1000:
        print("next_runs: n %r must be a whole number from 1 to 1000" % (n,))
        return None
    x = sch._extras.get(name)
    flag = s[4]
    if flag == 3:
        return []
    if x and x[2] is not None:
        n = min(n, x[2])
    out = []
    if x and x[0]:
        t = x[1]
        if t is None:
            t = aiocron.next_time(x[0], sch._wall() // 1000, sch._offset or 0)
        for _ in range(n):
            out.append(aiocron._local(t))
            t = aiocron.next_time(x[0], t, sch._offset or 0)
        return out
    live = flag == 0
    due = x[5] if x and live else s[0]
    t = sch._wall() + (due - sch._now() if live else due)
    every = s[3]
    for _ in range(n if every else 1):
        out.append(aiocron._local(t // 1000))
        t += every
    return out


def info(name):
    # A schedule as a dict, for the REPL and tests; times in ms.
    import aioschedule as sch

    s = (sch._active.get(name) or sch._parked.get(name)) if isinstance(name, str) else None
    if s is None:
        print("aioschedule: no schedule %r" % (name,))
        return None
    flag = s[4]
    if name in sch._parked:
        state = "stopped"
    else:
        state = ("scheduled", "waiting for schedule_loop", "", "over")[flag]
    t = _tasks.get(name)
    return {
        "state": state,
        "next_in": s[0] - sch._now() if flag == 0 and state != "stopped" else None,
        "every": s[3],
        "runs": s[5],
        "skipped": s[6],
        "last": t[SINCE] if t and s[5] else None,  # the task's own last start
    }


# aioctl.group().tasks: asyncmd's view of the tasks (name -> an object with
# .task, .args, .kwargs...). The classes live here, loaded on use.
class Views:
    # group().tasks: name -> _View, made on each lookup (nothing is kept).
    def __contains__(self, name):
        return name in aioctl.group()

    def __getitem__(self, name):
        v = _View()
        v.t = aioctl.group()[name]
        return v

    def __iter__(self):
        return iter(aioctl.group())

    def __len__(self):
        return len(aioctl.group())

    def keys(self):
        return aioctl.group().keys()

    def values(self):
        return [self[n] for n in aioctl.group()]

    def items(self):
        return [(n, self[n]) for n in aioctl.group()]


class _Ended:
    # .task of a run that has ended: its asyncio Task is let go (RAM), and
    # this stands in for it.
    def done(self):
        return True

    def cancel(self):
        return False


_ENDED = _Ended()


class _View:
    # asyncmd's Taskctl over a record: .args and .kwargs are the record's own
    # (kwargs.update() before start() changes the next run).
    @property
    def name(self):
        return self.t[aioctl.NAME]

    @property
    def task(self):
        t = self.t
        if t[aioctl.TASK] is None and t[aioctl.STATE] == aioctl.RUNNING:
            aioctl.tasks()  # add() makes its run's Task a moment later: now
        if t[aioctl.TASK] is not None:
            return t[aioctl.TASK]
        return None if t[aioctl.STATE] == aioctl.NEW or t[aioctl.STATE] == aioctl.RUNNING else _ENDED

    @property
    def args(self):
        return self.t[aioctl.ARGS]

    @property
    def kwargs(self):
        # the task's own dict, to change before start() (tasks added without
        # keyword arguments share one empty dict)
        t = self.t
        if t[aioctl.KWARGS] is aioctl._NOKW:
            t[aioctl.KWARGS] = {}
        return t[aioctl.KWARGS]

    @property
    def since(self):
        return self.t[aioctl.SINCE]

    @property
    def done_at(self):
        return self.t[aioctl.DONE_AT]

    @property
    def cancelled(self):
        return self.t[aioctl.STATE] == aioctl.STOPPED
