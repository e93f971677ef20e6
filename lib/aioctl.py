# aioctl: create, track, stop, restart and inspect asyncio tasks.
#
# Every task is kept under one name, with the function and arguments that
# made it, so it can be stopped, started again and inspected from the REPL
# (aiorepl) while the application runs.

__version__ = "0.3.0"

import sys
import time
import asyncio
from micropython import const
from aionames import Names

# The asyncio internals the library relies on (tested on MicroPython 1.27
# and 1.29): an older asyncio fails here, with a message, not later.
if not (hasattr(asyncio, "core") and hasattr(asyncio.core, "_task_queue") and hasattr(asyncio, "current_task")):
    raise ImportError("aioctl needs MicroPython 1.27 or later: this asyncio has no core._task_queue or current_task")

# ---- The rules every aio module shares (they import these from here, the
# pure ones only when a call needs them), and the one way modules are loaded
# on first use.

# Modules used now and then (the REPL's, the log's reading side): lazy()
# lets them go as soon as it has imported them, so a call holds one while it
# runs and its RAM comes back after. aiospec (schedule()'s options) is let go
# at schedule_loop's next pass instead, so a batch of schedule() calls at
# boot loads it once.
LET_GO = ("aiostatus", "aioinfo", "aiologread")


def lazy(module, attr=None):
    # Imports module now -> it, or its attribute attr.
    m = __import__(module)
    if module in LET_GO:
        sys.modules.pop(module, None)  # its RAM comes back once nothing holds it (the interned names stay)
    return m if attr is None else getattr(m, attr)


def lazy_attr(table, attr):
    # A public module's __getattr__. table: the module's one table of the
    # names it loads on first use: each module name ("aio...") followed by
    # the names it holds (a tuple takes less RAM than a dict).
    m = None
    for n in table:
        if n.startswith("aio"):
            m = n
        elif n == attr:
            return lazy(m, attr)
    raise AttributeError(attr)


def is_number(v):
    # int or float; never a bool (False == 0 in MicroPython)
    return v is not True and v is not False and isinstance(v, (int, float))


def seconds(what, v):
    # A number of seconds (what names it in the error) -> ms. At most 10**9 s
    # (31 years): dates further out overflow the port's localtime().
    if not is_number(v):
        raise TypeError("aioschedule: %s must be a number of seconds, not %r" % (what, v))
    if not 0 <= v <= 1000000000:
        raise ValueError("aioschedule: %s %r is %s" % (what, v, "negative" if v < 0 else "more than 10**9 s"))
    if type(v) is int:
        return v * 1000  # no float made
    return int(v * 1000 + 0.5)  # 1.001 s is 1001 ms (1.001 * 1000 is 1000.999...)


def match(pattern, text):
    # Glob match of the whole text; "*" is the only wildcard. Both str, or
    # both bytes (the log matches lines before decoding them).
    s = type(pattern)
    if s is not type(text) or s is not str and s is not bytes:
        raise TypeError("match: %r, %r: give two str or two bytes" % (pattern, text))
    parts = pattern.split("*" if s is str else b"*")
    if len(parts) == 1:
        return pattern == text
    head = parts[0]
    tail = parts[-1]
    i = len(head)
    end = len(text) - len(tail)
    if end < i or not text.startswith(head) or not text.endswith(tail):
        return False
    for part in parts[1:-1]:
        j = text.find(part, i, end)
        if j < 0:
            return False
        i = j + len(part)
    return True


def random_ms(ms):
    # A random delay of 0 to ms (jitter=, soft_start=)
    import random

    return random.getrandbits(30) % (ms + 1)


# ---- Tasks

# Task states
NEW = const(0)  # added, not started yet (waiting for its schedule)
RUNNING = const(1)
DONE = const(2)
STOPPED = const(3)
ERROR = const(4)

# Keyword options of add() that control the task and are never passed to it:
# asyncmd's four, and this library's own, with a leading underscore so that
# no task's own keyword (timeout= of network code, say) is taken.
RESERVED = ("name", "_id", "on_stop", "on_error", "_restart", "_timeout", "_heartbeat")

# A task record is a list indexed by these (12 fields: 128 B, against 224 B
# for an object, on 64-bit unix). group() gives the records.
SEQ = const(0)  # order of add() (MicroPython dicts keep none): records sort by it
NAME = const(1)
FN = const(2)
ARGS = const(3)
KWARGS = const(4)
OPTS = const(5)  # None, or a tuple of these when any is set (aiowatch and
# aiostatus keep compile-time copies, checked by tests/test_layers.py):
_OPT_STOP = const(0)  # on_stop
_OPT_ERROR = const(1)  # on_error
_OPT_RESTART = const(2)  # _restart
_OPT_TIMEOUT = const(3)  # ms
_OPT_BEAT = const(4)  # heartbeat limit, ms
TASK = const(6)  # asyncio Task of the run going on, else None
STATE = const(7)
SINCE = const(8)  # time.time() of the last start (or of add())
DONE_AT = const(9)  # time.time() of the last end; None while running
RESULT = const(10)
EXC = const(11)  # exception of the last failed run

NO_KWARGS = {}  # shared by tasks added without keyword arguments; never changed

class _Group(Names):
    # name -> record, and asyncmd's view of it: group().tasks[name] has
    # .task, .args, .kwargs.
    @property
    def tasks(self):
        return lazy("aioinfo", "Views")()


_tasks = _Group()  # name -> record
_seq = 0
_fresh = []  # runs add() started whose asyncio Task is not made yet
_starter = None  # the asyncio Task that makes them
log_stream = None  # stream with cat()/follow(), from set_log(): read it, never set it
debug_on = False  # status() shows debug lines; aioctl.debug() (aioinfo) turns it on and off

# The hook protocol: how add-ons attach. aioctl imports no other part of the
# library; an add-on module (aioschedule itself, aiowall, aiojob, aiowatch,
# aiostore) registers each of its hook functions with attach(hook, fn) as
# it is imported. aioctl and aioschedule call them in the order they were
# attached (first=True: before the others):
#   scheduled(name) -> True: name waits for a schedule (add() leaves it)
#   stop(name) -> True: it set aside a schedule of name (aioctl.stop)
#   start(name) -> True: it started name its own way (aioctl.start)
#   forget(name): the task is deleted
#   ended(t): a run of record t ended (must not raise, not even on a full heap)
#   tick(log, wait) -> wait: a pass of schedule_loop; the ms it may sleep
#   due(name, s) -> True: it took the due start of schedule s (aiojob's queue)
#   policy(name, p): a schedule was made with job policy p, or removed (None)
# and one that is data, not a function:
#   clocked: a dict (its values) or list (its items) of times on the
#   scheduler's clock (None: no time), which it shifts when it rebases
hooks = {}  # hook name -> the functions (or containers) attached for it, a tuple: read it, never change it


def attach(hook, fn, first=False):
    fs = hooks.get(hook, ())
    for f in fs:
        if f is fn:
            return  # attached already (by identity: two empty dicts are ==)
    hooks[hook] = (fn,) + fs if first else fs + (fn,)


def _any(name, arg):
    # Calls every hook name(arg): True if one said True.
    r = False
    for f in hooks.get(name, ()):
        if f(arg):
            r = True
    return r


# Loaded on first use (lazy()). aiostatus and aioinfo hold what is
# only for looking at tasks from the REPL: they are let go after each call,
# so a running application does not keep them in RAM.
_LAZY = ("aiojob", "progress", "aiowatch", "heartbeat", "aiostatus", "status", "duration", "aioinfo", "result_all",
         "traceback", "log", "follow", "debug", "reset", "run", "tasks")


def __getattr__(attr):
    if attr == "aioschedule":  # asyncmd's examples use aioctl.aioschedule
        import aioschedule

        return aioschedule
    return lazy_attr(_LAZY, attr)


_WALL_REUSE = const(20)  # ms that a wall_s() reading is used again
_last = 0  # the last wall_s()
_last_at = 0  # time.ticks_ms() when it was read


def wall_s():
    # Whole seconds of time.time() (a float on unix, an int on boards). It
    # allocates (a float; on 32-bit boards a long int): on a full heap it
    # gives the last time it read, so a run's bookkeeping never fails. The
    # records of one second share one int object (on a 32-bit board a long
    # int takes 32 B, in every task record). A reading serves for
    # _WALL_REUSE ms: a burst of starts and ends reads the clock once
    # (time.time() takes 60-80 us on an RP2040), and a record's second is
    # at most that much behind.
    global _last, _last_at
    now = time.ticks_ms()
    if _last and 0 <= time.ticks_diff(now, _last_at) < _WALL_REUSE:
        return _last
    try:
        n = int(time.time())
        _last_at = now
        if n != _last:
            _last = n
    except MemoryError:
        pass
    return _last


def aiotask(fn):
    # Marks a function as an aioctl task. The function is returned as it is:
    # aioctl.add() does the tracking, and the function can still be awaited
    # directly.
    if not callable(fn):
        raise TypeError("aiotask: %r is not a function" % (fn,))
    return fn


def _callback(cb, first, t):
    # on_stop/on_error of record t: a callable is called (with t's arguments)
    # and its value becomes the result; anything else is the result itself.
    if not callable(cb):
        return cb
    args, kwargs = t[ARGS], t[KWARGS]
    try:
        if not kwargs and len(args) < 2:
            # A call with no * or ** allocates nothing: on a full heap too
            # (a run's end) the callback is called.
            if args:
                return cb(args[0]) if first is None else cb(first, args[0])
            return cb() if first is None else cb(first)
        if first is None:
            return cb(*args, **kwargs)
        return cb(first, *args, **kwargs)
    except Exception as e:
        return e


def fail(run, exc):
    # Cancels a run (its asyncio Task) so that it ends as a failure
    # with exc, not as a stop: a timeout, or a hung task (aiowatch).
    run_of(run).late = exc
    _cancel(run)


def _cancel(task):
    # task.cancel(), with the CancelledError made now. asyncio throws the
    # class in, made at the job's next step: on a full heap that fails, and a
    # MemoryError would end the run in place of the cancel, skipping the
    # job's own finally: and except: blocks. (A job awaiting another task
    # passes the cancel on to it: that one gets asyncio's own.)
    if task.cancel() and task.data is asyncio.CancelledError:
        try:
            task.data = asyncio.CancelledError()
        except MemoryError:
            task.data = _Run.cancel  # made in advance


async def _overrun(run, ms):
    # Cancels a run that takes longer than its timeout. It cancels the run's
    # own task (not a wrapper, as asyncio.wait_for would make), so code in the
    # job still sees its aioctl task as the current one.
    try:
        await asyncio.sleep_ms(ms)
    except MemoryError:
        return  # cancelled on a full heap (the run ended): asyncio could not make the CancelledError
    try:
        e = asyncio.TimeoutError("timeout: ran for more than %s s" % (ms / 1000))
    except MemoryError:
        e = _TIMEOUT  # the heap is full: the run still ends on time
    fail(run, e)


_TIMEOUT = asyncio.TimeoutError("timeout")


# What a run's first step may give: only a coroutine (a generator object in
# MicroPython) is stepped, and only if fn is not a plain def or lambda, whose
# return value is its result whatever it is (a generator, a socket...).
_GEN = type((lambda: (yield))())
_PLAIN = type(wall_s)  # a def's type
_ASYNC = type(lambda: (yield))  # an async def's type
# What ends a run; any other BaseException (KeyboardInterrupt, SystemExit,
# GeneratorExit) ends the event loop, as in plain asyncio. A tuple made
# once: an except clause that makes it allocates.
_CAUGHT = (asyncio.CancelledError, Exception)


_RETURNED = object()  # for _Run(): a plain function's run returned


class _Run:
    # One run of task t. A coroutine function's coroutine is stepped by
    # asyncio itself, as a plain task's would be, and this object is the
    # Task's completion callback (its state, which asyncio calls with the
    # outcome): a run costs no Python call per step. Any other callable (a
    # plain function, a bound method...) may give anything: asyncio steps this
    # object in place of a coroutine, and send() and throw() call it and step
    # the coroutine it gives, if any. Either way the outcome goes in the
    # record. On 64-bit unix this object takes 64 B against 224 B for a
    # wrapper's frame, for every run going on. Defaults for every run;
    # _task() sets t, the record.
    coro = None  # the coroutine send() steps, once begun
    late = None  # the exception the run fails with once cancelled (_fail)
    guard = None  # the _overrun task of a run with a timeout
    beat = None  # ticks_ms of the last heartbeat (of the start before the first)
    ended = None  # an asyncio.Event set when the run ends (aioinfo.tasks())
    done = StopIteration()  # raised to end the asyncio Task: made once
    cancel = asyncio.CancelledError()  # thrown in by _cancel() when the heap is full

    def __call__(self, task, er):
        # The run ended. asyncio calls this with its Task and er: a
        # StopIteration with the result, a CancelledError, or the Exception
        # the run raised; send() with _RETURNED and a plain function's result.
        # The outcome goes in the record. Nothing here may raise, not even on
        # a full heap: the record would stay RUNNING and the scheduler skip it
        # for ever (wall_s and _callback never raise; the ended hooks keep
        # their own allocations off their essential path).
        if task is _RETURNED:
            state, res = DONE, er
        elif type(er) is StopIteration and task:
            state, res = DONE, er.value
        elif isinstance(er, asyncio.CancelledError):
            res = self.late
            state = STOPPED if res is None else ERROR
        else:
            state, res = ERROR, er
        t = self.t
        if self.coro:
            self.coro = None  # (only a stepped run has it: a new attribute allocates)
        if self.guard:
            self.guard.cancel()
        if self.ended:
            self.ended.set()
        task = t[TASK]
        if task is None or task.state is not self and task.coro is not self:
            return  # stale: stopped and started again (run_of(), without a call)
        if state == STOPPED:
            if t[STATE] != STOPPED:  # cancelled from outside aioctl.stop()
                _stopped(t)
        else:
            if state == ERROR:
                t[EXC] = res
                if t[OPTS] and t[OPTS][_OPT_ERROR] is not None:
                    res = _callback(t[OPTS][_OPT_ERROR], res, t)
            elif res is not None and isinstance(res, Exception):
                # An exception returned (asyncmd's tasks catch and return
                # theirs): a failure too, shown and restarted as one.
                state = ERROR
                t[EXC] = res
            t[STATE] = state
            t[RESULT] = res
            t[DONE_AT] = wall_s()
        t[TASK] = None  # frees the finished asyncio Task and this run
        if "ended" in hooks:
            _any("ended", t)

    def throw(self, exc):
        return self.send(None, exc)

    def send(self, _, exc=None):
        t = self.t
        c = self.coro
        if c is None and exc is None and (t[TASK] is None or run_of(t[TASK]) is not self):
            e = None  # stopped and started again before it began
        else:
            try:
                if c is not None:
                    return c.send(None) if exc is None else c.throw(exc)
                if exc is not None:
                    raise exc  # cancelled before it began
                # The first step: a plain function runs here and now; a
                # callable that gives a coroutine has it stepped.
                fn = t[FN]
                r = fn(*t[ARGS], **t[KWARGS])
                if type(r) is not _GEN or type(fn) is _PLAIN:
                    self(_RETURNED, r)
                else:
                    self.coro = r
                    self._begin(t[TASK])
                    return r.send(None)
            except _CAUGHT as e:  # a StopIteration from a plain function is an error
                self(self.coro, e)
        e = self.done
        e.__traceback__ = None  # raised again and again: no traceback piles up
        raise e

    def _begin(self, task):
        # The run's coroutine begins: its options' part
        o = self.t[OPTS]
        if o:
            if o[_OPT_BEAT]:  # the run counts as beating at its start
                self.beat = time.ticks_ms()
            if o[_OPT_TIMEOUT]:
                self.late = None  # its room now: fail() may come on a full heap
                self.guard = asyncio.create_task(_overrun(task, o[_OPT_TIMEOUT]))

def run_of(task):
    # The run (a _Run: .t is its record) that asyncio Task task is, or None.
    r = task.state
    if type(r) is not _Run:
        r = task.coro
    return r if type(r) is _Run else None


def current_run():
    # The run of the aioctl task that calls this, or None.
    try:
        return run_of(asyncio.current_task())
    except RuntimeError:
        return None  # no event loop running (a plain REPL)


_queue = None  # asyncio's task queue when runs were last started


def _check_loop():
    # After asyncio.new_event_loop() (a REPL restarting the application) the
    # runs of the old loop never step again: they count as stopped, and the
    # runs add() started but not yet made go to the new loop.
    global _queue, _starter
    q = asyncio.core._task_queue
    if q is _queue:
        return
    if _queue is not None:
        _starter = None
        for t in _tasks.values():
            if t[STATE] == RUNNING and t[TASK] is not None:
                t[TASK] = None
                _stopped(t)
                for f in hooks.get("ended", ()):
                    f(t)
    _queue = q
    if _fresh and _starter is None:
        _starter = asyncio.create_task(_start_fresh())


def _task(t):
    # A new run of record t, as an asyncio Task (a _Run has no __init__: it
    # is quicker to make). Like every function a start goes through, it
    # keeps its frame to 11 words (see aioschedule._pass): so t goes on to
    # hold the run's coroutine, then its Task.
    r = _Run()
    r.t = t
    if type(t[FN]) is _ASYNC:
        try:
            t = t[FN](*t[ARGS], **t[KWARGS])
        except Exception:
            t = None  # bad arguments: as for any other callable, the first step tells
        if t is not None:
            t = asyncio.create_task(t)
            t.state = r
            if r.t[OPTS]:
                try:
                    r._begin(t)
                except MemoryError:
                    _cancel(t)  # it never begins: the start fails as a whole
                    raise
            return t
    return asyncio.create_task(r)


def _stopped(t):
    t[STATE] = STOPPED
    t[DONE_AT] = wall_s()
    t[RESULT] = _callback(t[OPTS] and t[OPTS][_OPT_STOP], None, t)


def launch(t, fresh=False):
    # Start a run of t now. Used by start() and by aioschedule. What may fail
    # with MemoryError on a full heap comes first, so the record is left as
    # it was (not RUNNING with no run: the scheduler would skip it for ever).
    global _starter
    if t[STATE] is None:  # not a record: raises (TypeError, IndexError) before anything changes
        raise ValueError("launch: %r is not an aioctl record" % (t,))
    if asyncio.core._task_queue is not _queue:  # (a call less at each start)
        _check_loop()
    task = None
    if fresh:
        # add(): the asyncio Task is made a moment later, by one task for a
        # whole batch of add() calls, so that a schedule() right after add()
        # takes the run back before anything is allocated for it (garbage
        # between long-lived records fragments a small heap).
        if _starter is None:
            _starter = asyncio.create_task(_start_fresh())
        _fresh.append(t)
    else:
        task = _task(t)  # it begins after this returns
    t[STATE] = RUNNING
    t[SINCE] = wall_s()
    t[DONE_AT] = None
    t[RESULT] = None
    t[TASK] = task
    return task


async def _start_fresh():
    global _starter
    _starter = None
    _flush()


def _flush():
    for t in _fresh:
        # Skip runs taken back (hold), stopped, or started again meanwhile.
        if t[STATE] == RUNNING and t[TASK] is None:
            t[TASK] = _task(t)
    _fresh.clear()


def hold(t):
    # Takes back the run that add() started, if it has not begun yet: a task
    # scheduled right after add() waits for its schedule. True if held.
    if t[STATE] != RUNNING or t[TASK] is not None:
        return False
    t[STATE] = NEW
    return True


def _ms(what, v):
    # _timeout=, _heartbeat=: seconds (more than 0) -> ms; None -> 0
    if v is None:
        return 0
    if not is_number(v) or not 0 < v < 1e6:
        raise ValueError("add: %s %r must be seconds, more than 0" % (what, v))
    return int(v * 1000 + 0.5) or 1


def add(coro, *args, name=None, _id=None, on_stop=None, on_error=None, _restart=True, _timeout=None,
        _heartbeat=None, **kwargs):
    if type(coro) is _GEN:
        raise TypeError("add: %r is a coroutine, which runs once: pass the function (job, not job())" % (coro,))
    if not callable(coro):
        raise TypeError("add: %r is not a coroutine function or callable" % (coro,))
    if name is None:
        name = _id
    elif _id is not None and _id != name:
        raise ValueError("add: name %r and _id %r differ" % (name, _id))
    if name is None:
        name = coro.__name__
    if not isinstance(name, str) or not name or "*" in name:
        raise ValueError("add: bad task name %r" % (name,))
    if name in _tasks:
        n = 1
        while "%s@%d" % (name, n) in _tasks:
            n += 1
        name = "%s@%d" % (name, n)
    opts = None
    timeout = _ms("_timeout", _timeout)
    heartbeat = _ms("_heartbeat", _heartbeat)
    if on_stop is not None or on_error is not None or _restart is not True or timeout or heartbeat:
        opts = (on_stop, on_error, _restart, timeout, heartbeat)
    global _seq
    _seq += 1
    t = [_seq, name, coro, args, kwargs or NO_KWARGS, opts, None, NEW, wall_s(), None, None, None]
    _tasks[name] = t
    # A scheduled task waits for its schedule instead of starting now.
    if not _any("scheduled", name):
        launch(t, True)
    return name


def find(name, fn, *args):
    # name: one task, a pattern with "*", or None for all of them.
    # Calls fn(task, *args) for each; an unknown name prints one line.
    _check_loop()
    if name is None:
        found = names()
    elif not isinstance(name, str):
        print("aioctl: task name must be a string, not %r" % (name,))
        return False
    elif "*" in name:
        found = []
        for n in names():
            if match(name, n):
                found.append(n)
    else:
        found = [name] if name in _tasks else []
    if not found:
        if name is not None:
            found = names()
            print("aioctl: no task %r; %s" % (name, "tasks: " + ", ".join(found) if found else "there are no tasks"))
        return False
    ok = True
    for n in found:
        t = _tasks.get(n)
        if t is not None and fn(t, *args) is False:
            ok = False
    return ok


def names():
    # in the order of add(); one list (stop() of all may run on a full heap)
    found = sorted(_tasks.values())
    for i in range(len(found)):
        found[i] = found[i][NAME]
    return found


def group():
    _check_loop()
    return _tasks


def _stop(t, stop_sch=True, all_=False):
    task = t[TASK]
    try:
        cur = asyncio.current_task()
    except RuntimeError:
        cur = None  # no event loop running (a plain REPL)
    if task is not None and task is cur:
        # A task cannot cancel itself; it should return instead. Its
        # schedule is left alone too.
        if not all_:
            print("aioctl: %s cannot stop itself; return from it instead" % t[NAME])
        return False
    if stop_sch and _any("stop", t[NAME]) and t[STATE] != RUNNING:
        t[STATE] = STOPPED  # between runs: it had a schedule, now it has none
        t[DONE_AT] = wall_s()
    if t[STATE] == RUNNING:
        if task:
            _cancel(task)  # safe before its first step too
        # Now, so that status() right after stop() shows it.
        _stopped(t)
    elif t[STATE] == NEW:
        t[STATE] = STOPPED
        t[DONE_AT] = wall_s()


def stop(name=None, stop_sch=True):
    # Stopping everything from inside a task leaves the caller running.
    ok = find(name, _stop, stop_sch, name is None)
    return True if name is None and _tasks else ok


def _start(t):
    if t[STATE] == RUNNING:
        print("aioctl: %s is already running" % t[NAME])
        return False
    if _any("start", t[NAME]):
        return True
    launch(t)


def start(name):
    return find(name, _start)


def remove(t):
    # Takes record t out for good (aioctl.delete, reset), stopped already:
    # its schedule and the add-ons' state of it go too.
    _any("forget", t[NAME])
    _tasks.pop(t[NAME])


def _delete(t):
    if _stop(t, True) is False:
        return False  # a task cannot delete itself
    remove(t)


def delete(*names):
    # delete("a", "b*"): every task named (asyncmd takes several).
    if not names:
        print("aioctl: delete: name the tasks to delete")
        return False
    ok = True
    for n in names:
        if find(n, _delete) is False:
            ok = False
    return ok


def result(name=None):
    # The result of a task's last run. A pattern or None prints
    # "name --> result" lines (aioinfo).
    if isinstance(name, str) and "*" not in name and name in _tasks:
        return _tasks[name][RESULT]
    return lazy("aioinfo", "result")(name)


def set_log(stream):
    global log_stream
    if stream is not None and not hasattr(stream, "cat"):
        raise TypeError("set_log: %r is not a log stream (aiolog.LogStream)" % (stream,))
    log_stream = stream
