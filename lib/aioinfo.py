# aioinfo: the small REPL queries and the calls made now and then:
# aioctl.result() of a pattern, result_all(), traceback(), debug(), log(),
# follow(), reset(), run(); and
# aiocron.info() and next_runs() of a schedule.
#
# Imported for each call (aioctl.lazy) and let go after, like aiostatus.

import io
import sys
import asyncio
from micropython import const
import aioctl
from aioctl import NAME, TASK, STATE, RUNNING, SINCE, RESULT, EXC, find, names

# aioschedule's record layouts (compile-time copies, checked by tests/test_layers.py)
_S_DUE = const(0)
_S_EVERY = const(3)
_S_FLAG = const(4)
_S_RUNS = const(5)
_S_SKIPPED = const(6)
_LIVE = const(0)
_OVER = const(3)
_X_SPEC = const(0)
_X_AT = const(1)
_X_LEFT = const(2)
_X_BASE = const(5)


def reset(group=True, log=False):
    # aioctl.reset(): group: stops and forgets every task (and debug mode);
    # log: forgets the log stream too (asyncmd's defaults: the log stays).
    if group:
        aioctl.stop()
        for n in names():
            aioctl.remove(aioctl.group()[n])
        aioctl.debug_on = False
    if log:
        aioctl.set_log(None)


def tasks():
    # aioctl.tasks(): tasks that end when the runs going on now end, for
    # asyncio.gather() or await. A coroutine's run reports its end to aioctl
    # (see aioctl._Run), so its Task cannot also be awaited: a task that
    # waits for that end (it gives True) stands in for it.
    running = []
    for t in aioctl.group().values():
        if t[STATE] == RUNNING:
            task = t[TASK] or aioctl.launch(t)  # add() makes its run's Task a moment later: now
            r = aioctl.run_of(task)
            if task.state is r:
                r.ended = r.ended or asyncio.Event()
                task = asyncio.create_task(r.ended.wait())
            running.append(task)
    return running


def run():
    # aioctl.run(): runs the event loop until no task is running.
    async def main():
        while True:
            running = tasks()
            if not running:
                return
            await asyncio.gather(*running)

    asyncio.run(main())


def debug():
    # aioctl.debug(): debug mode on or off; status() shows each task's args,
    # kwargs, run time and traceback.
    aioctl.debug_on = not aioctl.debug_on
    print("debug mode: %s" % aioctl.debug_on)


def result(name=None):
    if name is None:
        return result_all()
    find(name, _print_result)


def _print_result(t):
    print("%s --> %r" % (t[NAME], t[RESULT]))


def result_all(as_dict=False):
    if as_dict:
        d = {}
        for t in aioctl.group().values():
            d[t[NAME]] = t[RESULT]
        return d
    find(None, _print_result)


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
        for n in names():
            t = aioctl.group()[n]
            if t[EXC] is not None:
                _traceback(t)
        return
    find(name, _traceback)


def log(grep=""):
    if aioctl.log_stream:
        aioctl.log_stream.cat(grep)


async def follow(grep="", wait=0.05):
    if aioctl.log_stream:
        try:
            await aioctl.log_stream.follow(grep, wait)
        except (TypeError, ValueError) as e:
            print("aioctl:", e)  # bad grep or wait, from the REPL: a line, not an exception


# aiocron.next_runs() and aiocron.info() (aiocron forwards them here)


def next_runs(name, n=5):
    # The next n start times of a schedule as time tuples, from the same code
    # that schedules them.
    import aioschedule as sch
    import aiocron
    import aiowall

    s = sch.group().get(name) if isinstance(name, str) else None
    if s is None:
        print("aioschedule: no schedule %r" % (name,))
        return None
    if type(n) is not int or not 0 < n <= 1000:
        print("next_runs: n %r must be a whole number from 1 to 1000" % (n,))
        return None
    x = sch.extras.get(name)
    flag = s[_S_FLAG]
    if flag == _OVER:
        return []
    if x and x[_X_LEFT] is not None:
        n = min(n, x[_X_LEFT])
    out = []
    off = aiowall.offset or 0
    if x and x[_X_SPEC]:
        t = x[_X_AT]
        if t is None:
            t = aiocron.next_time(x[_X_SPEC], sch.wall_ms() // 1000, off)
        for _ in range(n):
            out.append(aiowall.local(t))
            t = aiocron.next_time(x[_X_SPEC], t, off)
        return out
    live = flag == _LIVE
    due = x[_X_BASE] if x and live else s[_S_DUE]
    t = sch.wall_ms() + (due - sch.now_ms() if live else due)
    every = s[_S_EVERY]
    for _ in range(n if every else 1):
        out.append(aiowall.local(t // 1000))
        t += every
    return out


def info(name):
    # A schedule as a dict, for the REPL and tests; times in ms.
    import aioschedule as sch

    ok = isinstance(name, str)
    parked = ok and sch.parked.get(name)
    s = ok and sch.group().get(name) or parked
    if not s:
        print("aioschedule: no schedule %r" % (name,))
        return None
    flag = s[_S_FLAG]
    if parked:
        state = "stopped"
    else:
        state = ("scheduled", "waiting for schedule_loop", "", "over")[flag]
    t = aioctl.group().get(name)
    runs = s[_S_RUNS]
    return {
        "state": state,
        "next_in": s[_S_DUE] - sch.now_ms() if flag == _LIVE and not parked else None,
        "every": s[_S_EVERY],
        "runs": runs,
        "skipped": s[_S_SKIPPED],
        "last": t[SINCE] if t and runs else None,  # the task's own last start
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
            aioctl.launch(t)  # add() makes its run's Task a moment later: now
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
        if t[aioctl.KWARGS] is aioctl.NO_KWARGS:
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
