# Generated bad-input fuzz, the MicroPython side (driven by tools/fuzz.py and
# tests/test_fuzz.py, which describe the rules; summary below).
#
# Every public function of the fuzzed modules (callable names of dir(module)
# not starting with "_" that a lib/ module defines, the names of a
# module-level _LAZY tuple or dict, and the public methods of public classes,
# on a few instances) is called with generated arguments while real tasks
# run:
#
#   bg.beat   heartbeat, unscheduled, runs forever (sleep 2 ms)
#   bg.long   long-running unscheduled task (sleep 100 ms)
#   bg.tick   scheduled every TICK ms, driven by schedule_loop
#   bg.flaky  fails at once each run; watcher_loop restarts it (backoff)
#   bg.cal    a calendar schedule (cron, once a year: never due here), so that
#             schedule_loop's wall-clock checks run on every pass
#   bg.sched  aioschedule.schedule_loop
#   bg.watch  aioschedule.watcher_loop (with a logger)
#   s0 s1 s2  scratch tasks the cases may stop, delete and schedule at will
#             (added again after each case when gone)
#
# Each case: one call (in the main coroutine, or in 1 case of 4 inside an
# aioctl task, "fz.in"), a coroutine result awaited with a timeout, the loops
# woken once, then the invariants checked, a status() probe printed, and the
# settings the case may have changed on purpose put back. Lines starting with
# "@@FZ " are for the host; everything else is what the library printed.
#
# Cases are generated from (seed, case number) alone, so a case's arguments
# are the same in every run; the state it meets depends on the cases before.

import sys
import time
import asyncio
import aioctl
import aiolog

MARK = "@@FZ "
TICK = 20  # ms between starts of bg.tick
AWAIT_MS = 30  # a coroutine result is awaited this long
PROTECTED = ("bg.beat", "bg.long", "bg.tick", "bg.cal", "bg.flaky", "bg.sched", "bg.watch")
CAL = "0 0 1 1 *"  # bg.cal: midnight on January 1st
ALWAYS_RUNNING = ("bg.beat", "bg.long", "bg.sched", "bg.watch")
INSIDE = "fz.in"

# ---------------------------------------------------------------- the rules
# (summed up in tests/test_fuzz.py and in tools/fuzz.py's help text)

# Never called, with why. Everything else public is called.
SKIP = {
    "aioctl.run": "runs asyncio.run(): a second event loop inside the running one, "
    "until no task runs (the fixture's tasks never end)",
    "aioctl.attach": "registers a hook the library calls at every run's end or loop pass: "
    "the add-on API (lib/README.md) trusts the function it is given",
    "aioctl.run_of": "the add-on API: reads the run of the asyncio Task of a record, "
    "which it trusts to be one (lib/README.md)",
    "aioschedule.Nap": "the sleep of schedule_loop and watcher_loop: its methods act on the "
    "loop task that claimed it (the add-on API)",
}
# The add-on API that makes, drops and moves schedule records (lib/README.md,
# "Who owns what"): the library's own modules call it with records they got
# from aioschedule, and it trusts them, as the private functions it replaced
# did. A record that is not one (a name that is not a string, options that
# are not a list) would be kept and break later calls: not called.
for _n in ("put", "new_schedule", "make", "push", "kill", "base", "started", "Nap.claim", "Nap.loop",
           "Nap.wake"):
    SKIP["aioschedule." + _n] = "the add-on API: trusts the records it is given (lib/README.md)"

# Functions whose documented job is to stop/forget tasks or the loops. When
# such a call succeeds and its arguments select a protected task (None = every
# task, or a * pattern that matches one), the invariants are not checked for
# that case; the fixture is put back instead (counted as "rebuilt").
#   value: how to find the selecting argument: (index, keyword), or None = always
DESTRUCTIVE = {
    "aioctl.stop": (0, "name"),
    "aioctl.delete": ("*", None),
    "aioctl.reset": None,
    "aioschedule.unschedule": (0, "name"),
    "aioschedule.shutdown": None,
}
# stop(None)/delete(None) select every task; for unschedule only a string can.
NONE_SELECTS = ("aioctl.stop", "aioctl.delete")

# The add-on API and the hooks (lib/README.md): public names that the
# modules call in each other with their own records. The message rule is
# relaxed for them (any non-empty message); everything else (no crash, no
# loop killed, no task lost, no state poisoned) still holds.
HOOKS = (
    "aioctl.launch", "aioctl.hold", "aioctl.fail", "aioctl.find", "aioctl.remove",
    "aioschedule.stop", "aioschedule.start", "aioschedule.forget", "aioschedule.scheduled",
    "aiospec.options", "aiospec.job_options", "aioctl.lazy", "aioctl.lazy_attr", "aioctl.random_ms",
    "aiowall.epoch", "aiowall.next_wall", "aiowall.latest", "aiowall.resume", "aiowall.check_clock",
    "aiowall.local", "aiocron.scan", "aiocron.has", "aiocron.month_len", "aiocron.check_time",
    "aiospec.check_spec", "aiospec.schedule_task",
)

# Functions for the REPL: the README says they never raise into a running
# app and print one line for a name they do not know. For them any exception
# (but a call-binding TypeError or the bad object's own __repr__ error) is a
# failure, and a False result must come with a printed line naming the value
# (the host checks the printed text).
REPL = (
    "aioctl.status", "aioctl.debug", "aioctl.stop", "aioctl.start", "aioctl.delete",
    "aioctl.result", "aioctl.result_all", "aioctl.traceback", "aioctl.group", "aioctl.tasks",
    "aioctl.log", "aioctl.follow", "aioctl.reset",
    "aioschedule.unschedule", "aiocron.next_runs", "aiocron.info",
)

# Exception types that are clear with an empty message. None: in this API a
# bare exception never says which argument was wrong.
SELF_EXPLANATORY = ()

# Arguments a function never gets, with why.
NO_CALLABLES = {
    # A callable is a valid clock source; what it returns is the test's
    # business (the clock is documented as a test hook).
    "aioschedule.clock": "a function is a valid clock source",
}

# Parameters that every call gives, with why (never their default).
_FILES = ("aioschedule.persist(path='/schedules.json') writes the host's / on the unix port; "
          "the fuzz runs in a temporary directory and gives relative paths")
MUST_GIVE = {"path": _FILES, "file": _FILES, "filename": _FILES}

# Known failures: bugs in lib/ this fuzz found, each with a minimal
# reproducer in tests/test_fuzz.py (marked xfail there). A failure of
# that kind in that function counts as "known", not failed; any other
# failure of the same function still fails. Kinds: crash (the interpreter
# died), hang, invariant (a fixture task or status() broken after the case),
# repl-raised, unclear (the message names no value), empty.
KNOWN = [
    # None now: the ones it found (a crash in datestr, hangs in aiocron,
    # clock() and set_log() taking junk, unchecked helpers) are fixed, each
    # with a test in tests/test_fuzz.py.
]


# ------------------------------------------------------------------- helpers


class ReprBoom(Exception):
    pass


class BadRepr:
    # An object whose __repr__ (and so str()) raises.
    def __repr__(self):
        raise ReprBoom("repr boom")


class JunkClass:
    def __init__(self, *a, **k):
        self.a = a


def jplain(*a, **k):
    return a[0] if a else len(k)


def jnoarg():
    return 1


def jraise(*a, **k):
    raise ValueError("jraise", *a)


async def jcoro(*a, **k):
    await asyncio.sleep_ms(1)
    return a


async def jforever(*a, **k):
    while True:
        await asyncio.sleep_ms(50)


async def jfail(*a, **k):
    await asyncio.sleep_ms(1)
    raise OSError(5)


def srepr(v, n=120):
    try:
        r = repr(v)
    except Exception as e:
        r = "<repr raised %s>" % type(e).__name__
    if len(r) > n:
        r = "%s...(%d chars)" % (r[:n], len(r))
    return r


def out(*parts):
    print(MARK + " ".join(str(p) for p in parts))


class Rng:
    # xorshift32: the same numbers on every port and build, and it leaves the
    # random module (aiocron's jitter) alone.
    def __init__(self, seed):
        self.s = (seed * 2654435761 + 0x9E3779B9) & 0xFFFFFFFF or 1
        for _ in range(4):
            self.next()

    def next(self):
        x = self.s
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.s = x
        return x

    def below(self, n):
        return self.next() % n

    def pick(self, seq):
        return seq[self.next() % len(seq)]

    def chance(self, pct):
        return self.next() % 100 < pct


# ------------------------------------------------------------ the junk values


def _lt(t):
    return time.localtime(t)


def junk_table():
    # (label, maker): a fresh value per use, so that a case that changes a
    # list in place does not change the next case's.
    now = int(time.time())
    big = "x" * 5000
    J = [
        ("None", lambda: None), ("True", lambda: True), ("False", lambda: False),
        ("0", lambda: 0), ("1", lambda: 1), ("-1", lambda: -1), ("7", lambda: 7),
        ("60", lambda: 60), ("2**30", lambda: 1 << 30), ("2**31", lambda: 1 << 31),
        ("2**63", lambda: 1 << 63), ("10**30", lambda: 10 ** 30), ("-10**30", lambda: -10 ** 30),
        ("-2**31", lambda: -(1 << 31)),
        ("0.0", lambda: 0.0), ("0.25", lambda: 0.25), ("-0.5", lambda: -0.5), ("1e-9", lambda: 1e-9),
        ("1e30", lambda: 1e30), ("-1e30", lambda: -1e30), ("nan", lambda: float("nan")),
        ("inf", lambda: float("inf")), ("-inf", lambda: float("-inf")),
        ("''", lambda: ""), ("'*'", lambda: "*"), ("'**'", lambda: "**"), ("'x'", lambda: "x"),
        ("'nope'", lambda: "nope"), ("'s0'", lambda: "s0"), ("'s*'", lambda: "s*"),
        ("'bg*'", lambda: "bg*"), ("'*.*'", lambda: "*.*"), ("'x'*5000", lambda: big),
        ("non-ascii", lambda: "ñandú ☃ 日本語"), ("ctrl", lambda: "\x00\n\t\x1b[31m"),
        ("'%s%r%d'", lambda: "%s%r%d"), ("'{0}'", lambda: "{0}"), ("'x@1'", lambda: "x@1"),
        ("' '", lambda: " "),
        ("cron */0", lambda: "*/0 * * * *"), ("cron 61", lambda: "61 * * * *"),
        ("cron *", lambda: "* * * * *"), ("cron 31 2", lambda: "0 0 31 2 *"),
        ("cron 29 2", lambda: "0 0 29 2 *"), ("cron 5-1", lambda: "5-1 * * * *"),
        ("cron words", lambda: "a b c d e"), ("cron 4 fields", lambda: "* * * *"),
        ("b''", lambda: b""), ("b'\\xff\\xfe'", lambda: b"\xff\xfe"), ("bytes 300", lambda: b"x" * 300),
        ("bytearray", lambda: bytearray(b"ab")), ("bytes(27)", lambda: bytes(27)),
        ("[]", lambda: []), ("[1, 2]", lambda: [1, 2]), ("[None]", lambda: [None]),
        ("[None]*12", lambda: [None] * 12), ("[0]*7", lambda: [0] * 7), ("['*']", lambda: ["*"]),
        ("[b'x']", lambda: [b"x"]),
        ("()", lambda: ()), ("(1,)", lambda: (1,)), ("(2026,)", lambda: (2026,)),
        ("(0, 0, 0)", lambda: (0, 0, 0)),
        # time tuples: 8 items as boards give them, 9 on unix; good and bad
        ("tm+5s", lambda: _lt(now + 5)), ("tm+5s[:8]", lambda: _lt(now + 5)[:8]),
        ("tm 1970", lambda: _lt(0)), ("tm-100s", lambda: _lt(now - 100)),
        ("tm month 13", lambda: (2026, 13, 1, 0, 0, 0, 0, 0)),
        ("tm Feb 30", lambda: (2026, 2, 30, 0, 0, 0, 0, 0)),
        ("tm hour 24", lambda: (2026, 1, 1, 24, 0, 0, 0, 0)),
        ("tm min 60", lambda: (2026, 1, 1, 0, 60, 0, 0, 0, 0)),
        ("tm sec 62", lambda: (2026, 1, 1, 0, 0, 62, 0, 0)),
        ("tm str year", lambda: ("2026", 1, 1, 0, 0, 0, 0, 0)),
        ("tm float year", lambda: (2026.0, 1, 1, 0, 0, 0, 0, 0)),
        ("tm year -1", lambda: (-1, 1, 1, 0, 0, 0, 0, 0)),
        ("tm year 10**30", lambda: (10 ** 30, 1, 1, 0, 0, 0, 0, 0)),
        ("tm 2199", lambda: (2199, 12, 31, 23, 59, 59, 0, 0, 0)),
        ("tm 2200", lambda: (2200, 1, 1, 0, 0, 0, 0, 0)),
        ("tm Nones", lambda: (None,) * 8), ("tm bools", lambda: (True, 1, 1, 0, 0, 0, 0, 0)),
        ("tm 7 items", lambda: (2026, 1, 1, 0, 0, 0, 0)),
        ("tm 10 items", lambda: (2030, 1, 1, 0, 0, 0, 0, 0, 0, 0)),
        ("tm wday 99", lambda: (2030, 1, 1, 0, 0, 0, 99, 999)),
        ("tm as list", lambda: [2030, 1, 1, 0, 0, 0, 0, 0]),
        ("{}", lambda: {}), ("{'a': 1}", lambda: {"a": 1}), ("{1: 2}", lambda: {1: 2}),
        ("{'name': 'x'}", lambda: {"name": "x"}),
        ("{1, 2}", lambda: {1, 2}), ("range(3)", lambda: range(3)),
        ("range(0, 60, 20)", lambda: range(0, 60, 20)), ("range(-5, 5)", lambda: range(-5, 5)),
        ("range(10**6)", lambda: range(10 ** 6)),
        ("jplain", lambda: jplain), ("jnoarg", lambda: jnoarg), ("jraise", lambda: jraise),
        ("lambda", lambda: lambda *a: None), ("len", lambda: len),
        ("jcoro", lambda: jcoro), ("jforever", lambda: jforever), ("jfail", lambda: jfail),
        ("jcoro()", lambda: jcoro()), ("genexpr", lambda: (x for x in (1, 2))),
        ("JunkClass", lambda: JunkClass), ("Exception", lambda: Exception), ("int", lambda: int),
        ("object()", lambda: object()), ("BadRepr()", lambda: BadRepr()),
        ("ValueError('e')", lambda: ValueError("e")), ("JunkClass()", lambda: JunkClass()),
        ("LogStream(32)", lambda: aiolog.LogStream(32)),
    ]
    return J


def valid_table(spec):
    # Values that are right for a parameter of that name, so that the junk in
    # the other parameters gets further in.
    now = int(time.time())
    V = {
        "name": ["s0", "s1", "s2", "s*"], "_id": ["s0"], "coro": [jcoro, jplain],
        "fn": [jcoro, jplain], "start_in": [0, 0.05, 1, 3600], "repeat": [False, None, 0.05, 1, True],
        "n": [1, 3], "grep": ["", "[s0]", "x"], "stop_sch": [True, False], "log": [True, False],
        "debug": [True, False], "as_dict": [True, False], "seconds": [None, 3600, -18000],
        "year": [2024, 2000], "secs": [0, None, range(0, 60, 15)], "mins": [0, 30, None],
        "hrs": [6, None, (8, 9)], "mday": [1, None], "month": [None, 2], "wday": [None, 0],
        "text": ["*/15 8-18 * * 1-5", "0 0 * * *"], "spec": [spec], "after": [now],
        "offset": [0, 3600], "t": [now], "tm": [_lt(now)], "timeout": [0.05, 1, None], "_timeout": [0.05, 1, None],
        "done": [0.5, 0, 1], "msg": ["half", None], "when": [None, 0.05, 3600], "size": [64],
        "data": ["[s0] line\n", b"bytes\n"], "stream": [None], "alog": [None],
        "sleep": [0.05], "backoff": [0.01], "max_backoff": [0.05], "max_concurrent": [None],
        "pattern": ["s*", "*"], "wait": [0.005], "ms": [0], "now": [0], "first": [False],
        "indent": ["  "], "on_stop": [None, 5], "on_error": [None, jplain], "_restart": [True, False],
        "ticks_ms": [None], "ticks_diff": [None], "wall_ms": [None], "path": ["fz_sched.json"],
        "every": [0.05, 60],
    }
    return V


# Keyword names a generated call may add: options of schedule() and add(),
# and names nothing takes.
EXTRA_KW = ["cron", "secs", "mins", "hrs", "mday", "month", "wday", "times", "misfire", "grace",
            "jitter", "soft_start", "conflict", "priority", "max_retries", "retry_delay",
            "name", "_id", "on_stop", "on_error", "_restart", "_timeout", "_heartbeat", "restart", "timeout",
            "colour", "zz", "self"]
EXTRA_VAL = {"misfire": ["run", "skip"], "conflict": ["replace", "ignore", "raise"],
             "times": [1, 3], "priority": [1, -1], "max_retries": [0, 2], "retry_delay": [0.01]}


# ------------------------------------------------------------- the functions


class Fn:
    def __init__(self, qual, obj, sig, cls=None):
        self.qual = qual  # module that defines it . name
        self.names = [qual]  # every module.name it is reachable by
        self.obj = obj
        self.sig = sig
        self.cls = cls  # for methods: called on an instance of it from the pool


def isin(f, table):
    for n in f.names:
        if n in table:
            return n
    return None


def _origin(obj, libmods):
    # The lib module that defines obj, or None (builtins, other modules).
    g = getattr(obj, "__globals__", None)
    if g is not None:
        m = g.get("__name__")
        return m if m in libmods else None
    if isinstance(obj, type):
        m = getattr(obj, "__module__", None)
        return m if m in libmods else None
    return None


def enumerate_functions(modules, libmods, sigs):
    # The public callables of each module: names in dir() not starting with
    # "_", and the names of its _LAZY (a tuple: each module name, then the
    # names it holds, loaded by a module __getattr__). MicroPython's dir() asks __getattr__ too, so the
    # lazy modules load here either way. A function reachable under several
    # names (aiolog.match as aioctl.match, aiojob.progress as
    # aioctl.progress) is one entry, named after the module that defines it.
    fns = []
    classes = []
    for m in modules:
        mod = sys.modules[m]
        names = [n for n in dir(mod) if not n.startswith("_")]
        for n in getattr(mod, "_LAZY", ()):
            if n not in names and not n.startswith("aio"):  # "aio...": the module that holds the names after it
                names.append(n)
        for n in sorted(names):
            obj = getattr(mod, n)
            if not callable(obj):
                continue
            home = _origin(obj, libmods)
            if home is None:
                continue  # a builtin or a function of another module (const, ...)
            alias = m + "." + n
            dup = None
            for f in fns:
                if f.obj is obj:
                    dup = f
            if dup is not None:
                if alias not in dup.names:
                    dup.names.append(alias)
                continue
            qual = home + "." + obj.__name__
            f = Fn(qual, obj, sigs.get(qual) or sigs.get(alias))
            if alias != qual:
                f.names.append(alias)
            fns.append(f)
            if isinstance(obj, type):
                classes.append((qual, obj))
    for qual, cls in classes:
        for n in sorted(dir(cls)):
            if n.startswith("_"):
                continue
            obj = getattr(cls, n)
            if callable(obj) and not isinstance(obj, type):
                fns.append(Fn(qual + "." + n, None, sigs.get(qual + "." + n), cls=cls))
    return fns


# --------------------------------------------------------------- the fixture


class Fixture:
    def __init__(self):
        self.beats = 0
        self.ticks = []  # ticks_ms of each start of bg.tick
        self.tick_runs = 0
        self.flaky_runs = 0
        self.long_runs = 0
        self.recs = {}  # name -> (record, fn, args)
        self.tick_hold = -1  # tick_runs when rebuild() last put bg.tick back
        self.rebuilt = 0
        self.stream = aiolog.LogStream(1024)


F = None


async def _beat():
    while True:
        F.beats += 1
        await asyncio.sleep_ms(2)


async def _long():
    F.long_runs += 1
    while True:
        await asyncio.sleep_ms(100)


async def _tick():
    t = time.ticks_ms()
    F.tick_runs += 1
    F.ticks.append(t)
    if len(F.ticks) > 200:
        del F.ticks[:100]


async def _flaky():
    F.flaky_runs += 1
    await asyncio.sleep_ms(1)
    raise OSError("flaky")


def _add_protected(name):
    import aioschedule
    from minilog import Logger

    if name == "bg.beat":
        aioctl.add(_beat, name=name)
    elif name == "bg.long":
        aioctl.add(_long, name=name)
    elif name == "bg.tick":
        aioctl.add(_tick, name=name)
        aioschedule.schedule(name, start_in=0, repeat=TICK / 1000)
    elif name == "bg.flaky":
        aioctl.add(_flaky, name=name)
    elif name == "bg.cal":
        aioctl.add(jcoro, name=name)
        aioschedule.schedule(name, cron=CAL)
    elif name == "bg.sched":
        aioctl.add(aioschedule.schedule_loop, name=name)
    elif name == "bg.watch":
        aioctl.add(aioschedule.watcher_loop, Logger("watch", F.stream), name=name,
                   backoff=0.01, max_backoff=0.05)
    t = aioctl.group()[name]
    F.recs[name] = (t, t[aioctl.FN], t[aioctl.ARGS])


def _add_scratch():
    import aioschedule

    g = aioctl.group()
    if "s0" not in g:
        aioctl.add(jforever, name="s0")
    if "s1" not in g:
        aioctl.add(jcoro, 1, name="s1")
        aioschedule.schedule("s1", start_in=0.05, repeat=0.05)
    if "s2" not in g:
        aioctl.add(jfail, name="s2", _restart=False)


async def setup():
    global F
    F = Fixture()
    aioctl.set_log(F.stream)
    for n in PROTECTED:
        _add_protected(n)
    _add_scratch()
    await asyncio.sleep_ms(3 * TICK)


def _selects(f, args, kw):
    qual = isin(f, DESTRUCTIVE)
    if qual is None:
        return False
    where = DESTRUCTIVE[qual]
    if where is None:
        return True
    i, k = where
    if k in kw:
        vals = (kw[k],)
    elif i == "*":
        vals = args  # delete(*names): every argument names tasks
    elif len(args) > i:
        vals = (args[i],)
    elif qual in NONE_SELECTS:
        vals = (None,)  # the default: every task
    else:
        return False
    for v in vals:
        if v is None:
            if qual in NONE_SELECTS:
                return True
        elif isinstance(v, str):
            for p in PROTECTED:
                if aiolog.match(v, p) if "*" in v else v == p:
                    return True
    return False


def _state_word(st):
    return ("NEW", "RUNNING", "DONE", "STOPPED", "ERROR")[st] if isinstance(st, int) and 0 <= st <= 4 else repr(st)


def check_fixture():
    # The invariants after each case; returns a list of what is broken.
    import aioschedule

    errs = []
    g = aioctl.group()
    for name in PROTECTED:
        t = g.get(name)
        if t is None:
            errs.append("lost task %s" % name)
            continue
        rec, fn, args = F.recs[name]
        if t is not rec:
            errs.append("record of %s replaced" % name)
        if t[aioctl.NAME] != name or t[aioctl.FN] is not fn or t[aioctl.ARGS] is not args:
            errs.append("record of %s changed: name %s fn %s args %s" % (
                name, srepr(t[aioctl.NAME]), srepr(t[aioctl.FN]), srepr(t[aioctl.ARGS])))
        st = t[aioctl.STATE]
        bad = None
        if name in ALWAYS_RUNNING:
            if st != aioctl.RUNNING or t[aioctl.TASK] is None:
                bad = "not running"
        elif name == "bg.tick":
            ok = (aioctl.NEW, aioctl.RUNNING, aioctl.DONE)
            if F.tick_runs == F.tick_hold:
                ok += (aioctl.STOPPED,)  # put back by rebuild(): scheduled, stopped until next due
            if st not in ok:
                bad = "not between runs or running"
            elif name not in aioschedule.group():
                bad = "has no schedule"
        elif name == "bg.flaky":
            if st not in (aioctl.RUNNING, aioctl.ERROR):
                bad = "neither running nor failed"
        elif name == "bg.cal":
            if name not in aioschedule.group():
                bad = "has no schedule"
        if bad:
            errs.append("%s %s: state %s, result %s, exc %s" % (
                name, bad, _state_word(st), srepr(t[aioctl.RESULT]), srepr(t[aioctl.EXC])))
            e = t[aioctl.EXC]
            if isinstance(e, Exception) and name in ("bg.sched", "bg.watch"):
                sys.print_exception(e)
    return errs


def diagnose():
    # What a liveness report shows of bg.tick and its scheduler.
    import aioschedule

    t = aioctl.group().get("bg.tick")
    d = ["bg.tick state %s" % (_state_word(t[aioctl.STATE]) if t else None)]
    try:
        d.append("info %s" % srepr(sys.modules["aiocron"].info("bg.tick"), 300))
    except Exception as e:
        d.append("info raised %s" % srepr(e))
    h = sys.modules.get("aioheap")
    if h is not None:
        h = sorted(h.items())
        d.append("in heap %s" % srepr([x for x in h if x[2] == "bg.tick"]))
        d.append("heap top %s" % srepr(h[:3], 300))
    n = getattr(aioschedule, "loop_nap", None)
    if n is not None:
        d.append("nap asleep %s poked %s task %s" % (n.asleep, n.poked, srepr(n.task)))
    j = sys.modules.get("aiojob")
    if j is not None:
        for a in ("max_concurrent", "_closing", "queue", "waiting", "retry_at", "_inflight"):
            v = getattr(j, a, None)
            if a == "_inflight" and v is not None:
                v = [x[aioctl.NAME] for x in v]
            d.append("aiojob.%s %s" % (a, srepr(v, 200)))
    return "; ".join(d)


async def rebuild(fresh=False):
    # Puts the fixture back after a case that stopped or forgot parts of it
    # on purpose (or, fresh=True, after a failure, so that the next cases are
    # judged on their own: the schedules are made again, as a loop that died
    # in the middle of a pass can lose the one it was starting).
    import aioschedule

    F.rebuilt += 1
    if fresh:
        aioschedule.schedule("bg.tick", start_in=0, repeat=TICK / 1000)
        aioschedule.schedule("bg.cal", cron=CAL)
    g = aioctl.group()
    for name in PROTECTED:
        t = g.get(name)
        if t is None:
            _add_protected(name)
            continue
        F.recs[name] = (t, t[aioctl.FN], t[aioctl.ARGS])
        st = t[aioctl.STATE]
        if name == "bg.tick":
            if name not in aioschedule.group():
                if st != aioctl.RUNNING:
                    aioctl.start(name)  # a schedule set aside by stop() comes back
                if name not in aioschedule.group():
                    aioschedule.schedule(name, start_in=0, repeat=TICK / 1000)
                F.tick_hold = F.tick_runs
        elif name == "bg.flaky":
            if st not in (aioctl.RUNNING, aioctl.ERROR):
                aioctl.start(name)
        elif name == "bg.cal":
            if name not in aioschedule.group():
                aioschedule.schedule(name, cron=CAL)
        elif st != aioctl.RUNNING:
            aioctl.start(name)
    aioctl.set_log(F.stream)
    await asyncio.sleep_ms(2)


def scrub():
    # Forgets what the cases added (tasks, schedules), so that the junk does
    # not pile up; the scratch tasks come back fresh.
    import aioschedule

    keep = PROTECTED + (INSIDE,)
    for n in list(aioctl.group()):
        if n not in keep:
            aioctl.delete(n)
    for n in list(aioschedule.group()):
        if n not in keep:
            aioschedule.unschedule(n)
    _add_scratch()


def restore(f):
    # Puts back a setting that the case changed by calling its setter.
    import aioschedule

    qual = isin(f, ("aioctl.set_log", "aioctl.reset", "aioctl.debug", "aioschedule.clock",
                    "aiocron.utc_offset", "aiocron.clock_check"))

    if qual == "aioctl.set_log" or qual == "aioctl.reset":
        aioctl.set_log(F.stream)
    elif qual == "aioctl.debug":
        if getattr(aioctl, "_debug", False):
            aioctl.debug()
    elif qual == "aioschedule.clock":
        aioschedule.clock()
    elif qual == "aiocron.utc_offset":
        sys.modules["aiocron"].utc_offset(None)
    elif qual == "aiocron.clock_check":
        sys.modules["aiocron"].clock_check(2024)


_naps = []


def wake_loops():
    # Wakes schedule_loop and watcher_loop (aioschedule's _Nap objects, in
    # whichever lib module holds them), so that a clock or setting a case
    # broke shows in the case that broke it.
    for n in _naps:
        n.wake()


def find_naps(libmods):
    del _naps[:]
    for m in libmods:
        mod = sys.modules.get(m)
        if mod is None:
            continue
        for a in dir(mod):
            try:
                o = getattr(mod, a)
            except Exception:
                continue
            if type(o).__name__ == "_Nap" and hasattr(o, "wake") and o not in _naps:
                _naps.append(o)


# --------------------------------------------------------- generating a call

# MicroPython's messages for a call that does not bind to the signature
_BIND = ("positional argument", "keyword argument", "multiple values for argument",
         "extra keyword arguments", "extra positional arguments", "take keyword arguments")


def make_value(rng, pname, J, V, f, valid=30):
    # Junk, or (valid % of the time) a right value for a parameter of that name.
    while True:
        if pname in V and rng.chance(valid):
            v = rng.pick(V[pname])
        else:
            v = rng.pick(J)[1]()
        if isin(f, NO_CALLABLES) and callable(v):
            continue
        return v


def make_call(rng, f, J, V):
    # -> (args, kwargs, note)
    sig = f.sig
    args = []
    kw = {}
    if sig is None:
        # No signature known (a function not in lib/*.py source): 0-3 values.
        for _ in range(rng.below(4)):
            args.append(make_value(rng, "", J, V, f))
        return args, kw, "nosig"
    pos, vararg, kwonly, varkw = sig[0], sig[1], sig[2], sig[3]
    mode = rng.below(20)
    note = ""
    must = [p for p in pos if p[0] in MUST_GIVE]
    if mode == 0:
        # wrong arity: one too many, or none at all (not without MUST_GIVE ones)
        if must or rng.chance(50):
            for p in pos:
                args.append(make_value(rng, p[0], J, V, f))
            args.append(make_value(rng, "", J, V, f))
            note = "arity+1"
        else:
            note = "noargs"
        return args, kw, note
    as_kw = mode >= 14  # by keyword, where the parameter allows it
    # One call in three has one bad value only: right values (where there is
    # a pool for that name) everywhere else, to get to the checks further in.
    single = mode % 3 == 1
    valid = 100 if single else 30
    # How many of the parameters with defaults to give
    required = [p for p in pos if not p[1]]
    optional = [p for p in pos if p[1]]
    given = len(required) + rng.below(len(optional) + 1)
    for p in must:
        given = max(given, pos.index(p) + 1)
    for i, p in enumerate(pos[:given]):
        v = make_value(rng, p[0], J, V, f, valid)
        if (as_kw or kw) and i >= len(required) // 2 and rng.chance(70):
            kw[p[0]] = v
        elif kw:
            kw[p[0]] = v
        else:
            args.append(v)
    if vararg and rng.chance(30):
        for _ in range(1 + rng.below(2)):
            if kw:
                break  # positional after keyword is not possible
            args.append(make_value(rng, "", J, V, f))
    for p in kwonly:
        if not p[1] or p[0] in MUST_GIVE or rng.chance(35):
            kw[p[0]] = make_value(rng, p[0], J, V, f, valid)
    if rng.chance(25 if varkw else 8):
        k = rng.pick(EXTRA_KW)
        if k not in kw:
            if k in EXTRA_VAL and rng.chance(50):
                kw[k] = rng.pick(EXTRA_VAL[k])
            else:
                kw[k] = make_value(rng, k, J, V, f)
            note = "kw:" + k
    if single and (args or kw):
        n = rng.below(len(args) + len(kw))
        v = make_value(rng, "", J, V, f)
        if n < len(args):
            args[n] = v
        else:
            kw[sorted(kw)[n - len(args)]] = v
        note = (note + ",one-bad") if note else "one-bad"
    return args, kw, note


# --------------------------------------------------------- judging a result


def renderings(v, depth=0):
    # How a message can name v: its repr (the first 40 characters are
    # enough), a string's own text, and the same of an item of a container.
    r = []
    try:
        s = repr(v)
        r.append(s[:40])
        if isinstance(v, str) and len(v) > 1:
            r.append(v[:40])
        if isinstance(v, (bytes, bytearray)):
            r.append(repr(v.decode())[:40])  # a message may show the text
        if isinstance(v, float):
            r.append(repr(int(v)) if v == v and v not in (float("inf"), float("-inf")) else s)
    except Exception:
        pass
    if depth == 0 and isinstance(v, (tuple, list, set, range, dict)):
        n = 0
        for x in v:
            r.extend(renderings(x, 1))
            if isinstance(v, dict):
                r.extend(renderings(v[x], 1))
            n += 1
            if n >= 30:
                break
    return r


def has_badrepr(v, depth=0):
    if isinstance(v, BadRepr):
        return True
    if depth == 0 and isinstance(v, (tuple, list, set, dict)):
        for x in v:
            if has_badrepr(x, 1) or isinstance(v, dict) and has_badrepr(v[x], 1):
                return True
    return False


def judge_exc(f, e, args, kw, destructive):
    # -> (verdict, reason); verdict "ok" or a failure kind.
    repl = isin(f, REPL)
    if not isinstance(e, Exception):
        if destructive and isinstance(e, asyncio.CancelledError):
            return "ok", "cancelled by a stop it asked for"
        return "baseexc", "raised %s (not an Exception)" % type(e).__name__
    try:
        msg = str(e)
    except Exception as e2:
        return "unclear", "str() of the exception raised %s" % type(e2).__name__
    vals = list(args) + list(kw.values())
    if isinstance(e, ReprBoom):
        for v in vals:
            if has_badrepr(v):
                return "ok", "the bad value's own __repr__ error"
        return ("repl-raised" if repl else "unclear"), "a __repr__ error of an earlier case's value"
    if isinstance(e, TypeError) and any(p in msg for p in _BIND):
        return "ok", "call binding"
    if not msg and not repl:
        for T in SELF_EXPLANATORY:
            if isinstance(e, T):
                return "ok", "self-explanatory"
        return "empty", "empty message"
    if repl:
        return "repl-raised", "a REPL function raised"
    if isin(f, HOOKS):
        return "ok", "hook: any message"
    if isinstance(e, RuntimeError):
        return "ok", "a state error"
    low = msg.lower()
    words = msg
    for ch in ",:;()[]{}=":
        words = words.replace(ch, " ")
    words = words.split()
    for v in vals:
        for c in renderings(v):
            if not c:
                continue
            if len(c) <= 3 and c.lstrip("-").isdigit():
                if c in words:  # a short number: as a word ("1" is not in "1-12")
                    return "ok", "names the value"
            elif c.lower() in low:
                return "ok", "names the value"
    for k in kw:
        if repr(k) in msg or k in words:
            return "ok", "names the keyword"
    # A message may name the parameter ("empty hrs") or a part of a string
    # argument ("impossible: mday 31 never occurs in month 2" for cron text).
    if f.sig:
        for p in f.sig[0][:len(args)]:
            if p[0] in words:
                return "ok", "names the parameter"
    for v in vals:
        if isinstance(v, str):
            for tok in v.split():
                if len(tok) > 1 and tok in words or repr(tok) in msg:
                    return "ok", "names a part of the string"
    return "unclear", "the message names none of the values"


def known(f, kind):
    for q, k, why in KNOWN:
        if q in f.names and k == kind:
            return why
    return None


# ------------------------------------------------------------- running cases


_job = [None]
_done = [None]
_go = None


async def perform(fn, args, kw):
    # -> (kind, value): "ret", "exc" or "timeout"
    try:
        r = fn(*args, **kw)
    except BaseException as e:
        return "exc", e
    if type(r).__name__ == "generator" and not any(r is a for a in args) \
            and not any(r is a for a in kw.values()):
        try:
            r = await asyncio.wait_for_ms(r, AWAIT_MS)
        except asyncio.TimeoutError:
            return "timeout", None
        except BaseException as e:
            return "exc", e
    return "ret", r


async def _executor():
    while True:
        await _go.wait()
        _go.clear()
        job = _job[0]
        _job[0] = None
        if job is not None:
            _done[0] = await perform(*job)


async def ensure_inside():
    import aioschedule

    t = aioctl.group().get(INSIDE)
    if t is not None and t[aioctl.STATE] == aioctl.RUNNING:
        return
    if t is not None:
        aioctl.delete(INSIDE)
    aioctl.add(_executor, name=INSIDE)
    await asyncio.sleep_ms(1)  # it begins; then the schedule does not hold it
    aioschedule.schedule(INSIDE, start_in=3600, repeat=3600)


async def run_inside(fn, args, kw):
    await ensure_inside()
    _done[0] = None
    _job[0] = (fn, args, kw)
    _go.set()
    t0 = time.ticks_ms()
    while _done[0] is None and time.ticks_diff(time.ticks_ms(), t0) < 2000:
        await asyncio.sleep_ms(1)
    if _done[0] is None:
        return "lost", None
    return _done[0]


def _resolve(f, pool, cfg):
    if f.cls is not None:
        mine = pool[f.cls]
        inst = mine[_rr[0] % len(mine)]
        _rr[0] += 1
        return getattr(inst, f.qual.rsplit(".", 1)[1]), inst
    return f.obj, None


_rr = [0]


async def main(cfg):
    global _go
    import aioschedule
    import aiocron

    seed = cfg["seed"]
    first = cfg["first"]
    cases = cfg["cases"]
    modules = cfg["modules"]
    _go = asyncio.Event()
    for m in modules:
        __import__(m)
    fns = enumerate_functions(modules, cfg["libmods"], cfg["sigs"])
    out("FUNCS", len(fns), " ".join("=".join(f.names) + ("" if f.sig else "?") for f in fns))
    for q in sorted(SKIP):
        out("SKIP", q, SKIP[q])
    for q, k, why in KNOWN:
        out("KNOWN", q, k, why)
    fns = [f for f in fns if not isin(f, SKIP)]
    await setup()
    find_naps(cfg["libmods"])
    errs = check_fixture()
    if errs:
        out("FATAL", "fixture broken before the first case:", "; ".join(errs))
        return
    J = junk_table()
    V = valid_table(aiocron.compile(hrs=6))
    # Instances whose methods are called. Names: a fresh one (group() is one
    # the library owns: read it, never change it).
    pool = {aiolog.LogStream: [aiolog.streamlog, aiolog.LogStream(64)], aioctl.Names: [aioctl.Names()]}
    t_start = time.ticks_ms()
    last = (F.beats, F.tick_runs, F.flaky_runs, time.ticks_ms())
    for i in range(first, first + cases):
        rng = Rng(seed * 1000003 + i)
        f = fns[i % len(fns)]  # round robin: every function gets its share
        inside = rng.chance(25)
        try:
            fn, inst = _resolve(f, pool, cfg)
        except Exception as e:
            out("B", i, f.qual, "main", "resolve", "() \x03 {}")
            out("R", i, "exc", type(e).__name__, 0, srepr(str(e), 200))
            out("V", i, "unclear", "the name could not be resolved:", srepr(e))
            continue
        args, kw, note = make_call(rng, f, J, V)
        ctx = "task" if inside else "main"
        out("B", i, f.qual, ctx, note or "-", srepr(tuple(args), 300) + " \x03 " + srepr(kw, 300))
        destructive = _selects(f, args, kw)
        t0 = time.ticks_ms()
        if inside:
            kind, val = await run_inside(fn, args, kw)
        else:
            kind, val = await perform(fn, args, kw)
        ms = time.ticks_diff(time.ticks_ms(), t0)
        verdict, why = "ok", ""
        if kind == "exc":
            try:
                emsg = srepr(str(val), 200)
            except Exception:
                emsg = "<str raised>"
            out("R", i, "exc", type(val).__name__, ms, emsg)
            verdict, why = judge_exc(f, val, args, kw, destructive)
            if verdict != "ok" and not isinstance(val, Exception):
                sys.print_exception(val)
        elif kind == "lost":
            out("R", i, "lost", "-", ms)
            if not destructive:
                verdict, why = "lost", "the aioctl task running the case stopped during it"
        else:
            out("R", i, kind, type(val).__name__ if kind == "ret" else "-", ms)
            if kind == "ret" and val is False and isin(f, REPL):
                # The host checks that a printed line names a value: the
                # renderings it may look for ("*": any line will do, as a
                # pattern's lines name the tasks it matched).
                c = []
                for v in list(args) + list(kw.values()):
                    if v is None or isinstance(v, str) and "*" in v:
                        c = ["*"]  # every task, or a pattern
                        break
                    c.extend(renderings(v))
                out("P", i, "\x02".join(x.replace("\n", " ") for x in c if x))
            if kind == "ret":
                if isinstance(val, aiolog.LogStream) and len(pool[aiolog.LogStream]) < 6:
                    pool[aiolog.LogStream].append(val)
                elif callable(val) and not isinstance(val, type) and _origin(val, cfg["libmods"]) \
                        and not any(val is a for a in args):
                    # A returned function (a decorator): called with junk too
                    f2 = Fn(f.qual + "()", val, cfg["sigs"].get(
                        val.__globals__["__name__"] + "." + val.__name__))
                    a2, k2, _ = make_call(rng, f2, J, V)
                    out("B2", i, f2.qual, srepr(tuple(a2), 300) + " \x03 " + srepr(k2, 300))
                    kind2, val2 = await perform(val, a2, k2)
                    if kind2 == "exc":
                        out("R2", i, "exc", type(val2).__name__, srepr(str(val2), 200))
                        v2, why2 = judge_exc(f2, val2, list(args) + list(a2), dict(kw, **k2), False)
                        if v2 != "ok":
                            verdict, why = v2, "the function it returned: " + why2
                    else:
                        out("R2", i, kind2)
        # settle: the loops run one pass each
        wake_loops()
        await asyncio.sleep_ms(0)
        await asyncio.sleep_ms(0)
        rebuilt = False
        # (a CancelledError: the call stopped the task that made it, as
        # shutdown() stops a scheduled run: destructive too)
        if destructive and (kind != "exc" or isinstance(val, asyncio.CancelledError)):
            await rebuild()
            rebuilt = True
        errs = check_fixture()
        try:
            aioctl.status("bg.tick")
        except Exception as e:
            errs.append("status('bg.tick') raised %s: %s" % (type(e).__name__, srepr(str(e))))
        if errs and verdict == "ok":
            verdict, why = "invariant", "; ".join(errs)
        try:
            restore(f)
            _add_scratch()  # so that the next cases find s0, s1, s2
        except Exception as e:
            out("NOTE", i, "restore failed:", type(e).__name__, srepr(str(e)))
        if errs:
            await rebuild(True)  # judge the next cases on their own
            rebuilt = True
            errs = check_fixture()
            if errs:
                out("V", i, verdict, why)
                out("FATAL", "fixture could not be rebuilt:", "; ".join(errs))
                return
        if verdict != "ok":
            k = known(f, verdict)
            if k:
                out("V", i, "known", verdict, "--", k, "--", why)
            else:
                out("V", i, verdict, why)
        else:
            out("V", i, "ok", "rebuilt" if rebuilt else "-", why)
        if (i - first) % 25 == 24:
            # Liveness: the heartbeat, the schedule and the watcher went on.
            now = time.ticks_ms()
            span = time.ticks_diff(now, last[3])
            lv = []
            if F.beats == last[0]:
                lv.append("heartbeat did not beat in %d ms" % span)
            if span > 4 * TICK and F.tick_runs == last[1]:
                lv.append("bg.tick did not start in %d ms" % span)
            if span > 400 and F.flaky_runs == last[2]:
                lv.append("watcher_loop did not restart bg.flaky in %d ms" % span)
            if lv:
                out("LIVE", i, "; ".join(lv), "-- cases", i - 24, "to", i, "--", diagnose())
            last = (F.beats, F.tick_runs, F.flaky_runs, now)
        if (i - first) % 40 == 39:
            try:
                scrub()
            except Exception as e:
                out("NOTE", i, "scrub failed:", type(e).__name__, srepr(str(e)))
    elapsed = time.ticks_diff(time.ticks_ms(), t_start)
    await final(elapsed)


async def final(elapsed):
    # After all cases: the fixture is whole and bg.tick starts on time.
    scrub()
    errs = check_fixture()
    out("FIXTURE", "ok" if not errs else "; ".join(errs))
    b0, f0 = F.beats, F.flaky_runs
    # Quiet time to settle, then a window in which every start is timed
    # against the schedule's own grid (its next due time, from aiocron.info).
    await asyncio.sleep_ms(5 * TICK)
    info = sys.modules["aiocron"].info("bg.tick")
    ref = None
    if info and info["next_in"] is not None and info["every"] == TICK:
        ref = time.ticks_add(time.ticks_ms(), info["next_in"])
    F.ticks.clear()
    w0 = time.ticks_ms()
    await asyncio.sleep_ms(20 * TICK)
    window = time.ticks_diff(time.ticks_ms(), w0)
    ticks = F.ticks[:]
    late = []
    if ref is not None:
        for t in ticks:
            d = time.ticks_diff(t, ref) % TICK
            if d >= TICK - 2:
                d -= TICK  # a ms early: the two clocks' rounding
            late.append(d)
    # On time: every due start happens (2 may fall at the window's edges),
    # each within 10 ms of its grid time; on a loaded machine 2 of them may
    # be later, none more than 50 ms.
    expect = window // TICK
    over = [x for x in late if abs(x) > 10]
    ok = (ref is not None and len(ticks) >= expect - 2 and len(over) <= 2
          and all(abs(x) <= 50 for x in late))
    out("TIMING", "ok" if ok else "fail", "info", srepr(info), "starts", len(ticks), "expected", expect,
        "window_ms", window, "lateness_ms", " ".join(str(x) for x in late))
    live = F.beats > b0 and F.flaky_runs > f0
    out("ALIVE", "ok" if live else "fail", "beats", F.beats - b0, "flaky_restarts", F.flaky_runs - f0)
    out("END", "elapsed_ms", elapsed, "rebuilt", F.rebuilt, "tick_runs", F.tick_runs)


def run(cfg):
    asyncio.run(main(cfg))
