# asyncmd compatibility: the call forms asyncmd (github Carglglz/asyncmd)
# documents for aioctl, aioschedule and aiolog (its README, docs/*.md, its
# examples, and the seed document), each run as an asyncmd user would write
# it, with the behaviour asyncmd documents asserted concretely.
#
# Where this library deliberately differs, the test expects the library's
# behaviour (README "Differences from the reference implementation" and
# issue 17): a scheduled task does not run at add() before it is due; start()
# of a running task is refused; watcher_loop backs off; add() keeps timeout=,
# heartbeat=, restart= for the task (the library's own options are
# _timeout=, _heartbeat=, _restart=); group() is a dict of records that also
# has asyncmd's .tasks view; a task stopped (schedule set aside) and started
# again after it was due runs once at once, then keeps its grid.
#
# Output formats are matched loosely where asyncmd's and this library's
# differ only in spacing (kwargs: {'a': 1} against { 'a': 1 }), so each test
# checks the documented behaviour, not the look.
#
# Nothing of asyncmd's code is here: the scripts below are written for these
# tests and only perform the same calls. Board modules (machine.Pin, pyb.LED,
# pyb.Switch) and aiorepl are stand-ins (mp/tests/asyncmd_board.py), put in
# sys.modules.

import re
import textwrap

import pytest

from helpers import DATE, plain

# asyncmd's API as a board user calls it: also on the virtual Pico (the
# stand-ins for machine, pyb and aiorepl are put in sys.modules there too).
pytestmark = pytest.mark.board

DUR = r"(?:\d+(?:\.\d)? s|\d\d:\d\d:\d\d)"  # 0.5 s, 4 s, 00:01:56

# First lines of a script that uses the stand-ins (mp/tests/asyncmd_board.py).
USE_BOARD = """
import sys
import asyncmd_board as board
sys.modules["machine"] = board
sys.modules["pyb"] = board
sys.modules["aiorepl"] = board
"""


def lines(out):
    return plain(out).splitlines()


def sections(out):
    # status() output -> {task name: its lines, the "● name: ..." one first}
    secs = {}
    cur = None
    for line in lines(out):
        m = re.match(r"● (\S+): status: ", line)
        if m:
            cur = secs.setdefault(m.group(1), [])
        elif line.startswith("<-"):
            cur = None
            continue
        if cur is not None:
            cur.append(line)
    return secs


def between(out, start, end=None):
    # The output lines after the line `start` (up to the line `end`).
    ls = lines(out)
    i = ls.index(start) + 1
    j = ls.index(end, i) if end is not None else len(ls)
    return "\n".join(ls[i:j])


def has(sec, pattern):
    return any(re.fullmatch(pattern, line) for line in sec)


# ------------------------------------------------------------------ README


def test_readme_blink_repl_transcript(mp):
    # asyncmd's README example (async_blink.py) and the REPL session under
    # it: status, debug, stop, kwargs.update() then start, a second copy.
    out = mp.run(
        USE_BOARD
        + """
from machine import Pin
import asyncio
import aiorepl
import aioctl

calls = []


@aioctl.aiotask
async def blink(pin, sleep=5):
    calls.append((pin, sleep))
    led = Pin(pin, Pin.OUT)
    while True:
        led.on()
        await asyncio.sleep_ms(500)
        led.off()
        await asyncio.sleep(sleep)


async def main():
    print("Starting tasks...")
    aioctl.add(blink, 2, sleep=5)
    aioctl.add(aiorepl.task, name="repl")
    await asyncio.gather(*aioctl.tasks())


board.env = globals()
board.typed[:] = [
    "import aioctl",
    "aioctl.status()",
    "aioctl.debug()",
    "aioctl.status()",
    'aioctl.stop("blink")',
    "aioctl.status()",
    'aioctl.group().tasks["blink"].kwargs.update(sleep=3)',
    'aioctl.start("blink")',
    "aioctl.status()",
    "aioctl.add(blink, 3, sleep=6)",
    "aioctl.status()",
]
asyncio.run(main())
print("CALLS", calls)
print("PINS", board.pins)
""",
    )
    ls = lines(out)
    assert ls[:2] == ["Starting tasks...", "Starting asyncio REPL"]
    cmds = [n for n, line in enumerate(ls) if line.startswith("--> ")]
    assert len(cmds) == 11, out
    bounds = cmds + [next(i for i, line in enumerate(ls) if line.startswith("CALLS"))]
    block = [ls[a + 1 : b] for a, b in zip(bounds, bounds[1:])]
    running = r"● %s: status: running since " + DATE + "; " + DUR + " ago"
    # --> aioctl.status()
    s = sections("\n".join(block[1]))
    assert sorted(s) == ["blink", "repl"]
    assert re.fullmatch(running % "blink", s["blink"][0])
    assert re.fullmatch(running % "repl", s["repl"][0])
    assert not has(s["blink"], r".*args: .*")  # debug mode is off
    # --> aioctl.debug()
    assert block[2] == ["debug mode: True"]
    # --> aioctl.status(): args and kwargs shown
    s = sections("\n".join(block[3]))
    assert re.fullmatch(running % "blink", s["blink"][0])
    assert has(s["blink"], r"\s+┗━► args: \(2,\)")
    assert has(s["blink"], r"\s+┗━► kwargs: ?\{ ?'sleep': 5 ?\}")
    assert has(s["repl"], r"\s+┗━► args: \(\)")
    assert has(s["repl"], r"\s+┗━► kwargs: ?\{\}")
    # --> aioctl.stop("blink")
    assert block[4] == ["True"]
    # --> aioctl.status(): blink stopped, with its run time
    s = sections("\n".join(block[5]))
    assert re.fullmatch(r"● blink: status: stopped @ " + DATE + "; " + DUR + r" ago --> result:.*", s["blink"][0])
    assert has(s["blink"], r"\s+┗━► runtime: " + DUR)
    assert has(s["blink"], r"\s+┗━► args: \(2,\)")
    assert has(s["blink"], r"\s+┗━► kwargs: ?\{ ?'sleep': 5 ?\}")
    assert re.fullmatch(running % "repl", s["repl"][0])
    # --> aioctl.group().tasks["blink"].kwargs.update(sleep=3): no output
    assert block[6] == []
    # --> aioctl.start("blink")
    assert block[7] == ["True"]
    # --> aioctl.status(): running again, with the new kwargs
    s = sections("\n".join(block[8]))
    assert re.fullmatch(running % "blink", s["blink"][0])
    assert has(s["blink"], r"\s+┗━► kwargs: ?\{ ?'sleep': 3 ?\}")
    # --> aioctl.add(blink, 3, sleep=6) (the echo of add's value is not checked)
    # --> aioctl.status(): a second copy, blink@1
    s = sections("\n".join(block[10]))
    assert sorted(s) == ["blink", "blink@1", "repl"]
    assert re.fullmatch(running % "blink@1", s["blink@1"][0])
    assert has(s["blink@1"], r"\s+┗━► args: \(3,\)")
    assert has(s["blink@1"], r"\s+┗━► kwargs: ?\{ ?'sleep': 6 ?\}")
    assert has(s["blink"], r"\s+┗━► kwargs: ?\{ ?'sleep': 3 ?\}")
    # The task itself got the arguments: sleep=3 after update() and start().
    assert "CALLS [(2, 5), (2, 3), (3, 6)]" in ls
    pins = eval(ls[-1][len("PINS ") :])
    assert pins[2][:1] == [1] and pins[3][:1] == [1]


def test_task_interrupt_example(mp):
    # asyncmd's examples/example_aioctl_task_interrupt.py: the user button's
    # interrupt callback sets a flag; a task sees it and adds the REPL task,
    # or starts it again through aioctl.group().tasks once it has ended, or
    # says it is running. Times scaled down (200 ms poll -> 20 ms).
    out = mp.run(
        USE_BOARD
        + """
import pyb
import random
import aiorepl
import asyncio
import aioctl
from aiolog import streamlog
from minilog import Logger

log = Logger("pybV1.1", stream=streamlog)
state = 20
aioctl.set_log(streamlog)
sw = pyb.Switch()
_TOGGLE_AIOREPL = False
exits = [0]


def start_aiorepl_cb(x=None):
    global _TOGGLE_AIOREPL
    _TOGGLE_AIOREPL = not _TOGGLE_AIOREPL


sw.callback(start_aiorepl_cb)


def toggle_sysprint():
    exits[0] += 1


@aioctl.aiotask
async def dbg_repl():
    await aiorepl.task(prompt=">>> ", shutdown_on_exit=False, exit_cb=toggle_sysprint)


@aioctl.aiotask
async def start_aiorepl():
    global _TOGGLE_AIOREPL
    while True:
        if _TOGGLE_AIOREPL:
            _TOGGLE_AIOREPL = not _TOGGLE_AIOREPL
            if "repl" not in aioctl.group().tasks:
                aioctl.add(dbg_repl, name="repl")
            else:
                if aioctl.group().tasks["repl"].task.done():
                    print("restart:", aioctl.start("repl"))
                else:
                    print("aiorepl is running...")
        await asyncio.sleep_ms(20)


@aioctl.aiotask
async def task_led(n, t, alog=log):
    try:
        i = 10 - n
        while state:
            await asyncio.sleep_ms(t)
            pyb.LED(n).toggle()
            await asyncio.sleep_ms(5)
            pyb.LED(n).toggle()
            alog.info(f"[task_led_{n}] toggled LED {n}")
            if n > 3:
                i = round(i / (i - 1))
        pyb.LED(n).off()
        return random.random()
    except asyncio.CancelledError:
        pyb.LED(n).off()
        return random.random()
    except Exception as e:
        log.error(f"[task_led_{n}] {e.__class__.__name__}")
        pyb.LED(n).off()
        return e


_watcher_loop = aioctl.aioschedule.watcher_loop


@aioctl.aiotask
async def watcher_loop(alog=log):
    await _watcher_loop(alog=alog)


async def finger():
    # The user: press, press again while the REPL runs, wait for it to end,
    # press again.
    await asyncio.sleep_ms(100)
    board.press()
    await asyncio.sleep_ms(60)
    board.press()
    await asyncio.sleep_ms(300)
    print("ended:", aioctl.group().tasks["repl"].task.done())
    board.press()
    await asyncio.sleep_ms(300)
    print("sessions:", board.sessions[0], "exits:", exits[0])
    print("states:", [aioctl.group()[n][aioctl.STATE] for n in ("task_led_1", "aiotoggle", "repl", "watcher_loop")])
    aioctl.stop()


async def main():
    print("starting tasks...")
    aioctl.add(task_led, 1, 105, name="task_led_1", _id="task_led_1")
    aioctl.add(task_led, 2, 104, name="task_led_2", _id="task_led_2")
    aioctl.add(task_led, 3, 103, name="task_led_3", _id="task_led_3")
    aioctl.add(task_led, 4, 102, name="task_led_4", _id="task_led_4")
    aioctl.add(start_aiorepl, name="aiotoggle")
    aioctl.add(watcher_loop, alog=log)
    asyncio.create_task(finger())
    await asyncio.gather(*aioctl.tasks())


asyncio.run(main())
print("LEDS", sorted(board.leds))
""",
    )
    ls = lines(out)
    assert ls[0] == "starting tasks..."
    assert ls.count("aiorepl is running...") == 1
    assert "ended: True" in ls
    assert "restart: True" in ls
    assert "sessions: 2 exits: 2" in ls
    # task_led_1 and aiotoggle running, repl done, watcher running
    assert "states: [1, 1, 2, 1]" in ls
    assert "LEDS [1, 2, 3, 4]" in ls


# ------------------------------------------------------------------ aioctl

# A task that runs until it is stopped, for the scripts that add some.
FOREVER = """
import asyncio


async def forever():
    while True:
        await asyncio.sleep_ms(5)
"""


def with_forever(code):
    return FOREVER + textwrap.dedent(code)


def with_timed_job(code):
    # mp/tests/timedjob.py: job() notes its starts, begin(**schedule) starts it
    return "from timedjob import *\n" + textwrap.dedent(code)


def test_aiotask_add_args_kwargs_and_second_copy(mp):
    # @aioctl.aiotask; add(coro, *args, **kwargs); the name is the
    # function's; a second add() of the same name is name@1.
    out = mp.run(
        """
        import asyncio, aioctl

        got = []

        @aioctl.aiotask
        async def blink(pin, sleep=5):
            got.append((pin, sleep))
            await asyncio.sleep_ms(1)
            return pin * 10

        async def main():
            aioctl.add(blink, 2, sleep=5)
            aioctl.add(blink, 3)
            await asyncio.sleep_ms(20)
            print(sorted(aioctl.group()))
            print(sorted(got))
            print(aioctl.result("blink"), aioctl.result("blink@1"))

        asyncio.run(main())
        """
    )
    assert out.splitlines() == ["['blink', 'blink@1']", "[(2, 5), (3, 5)]", "20 30"]


def test_add_name_and_id(mp):
    # aioctl.add(test, "from", b=20, name="test_from", _id="test_from",
    # logid="test_from"): named test_from; name and _id do not reach it.
    out = mp.run(
        """
        import asyncio, aioctl

        @aioctl.aiotask
        async def test(a, b=1, **kw):
            return (a, b, sorted(kw.items()))

        async def main():
            aioctl.add(test, "from", b=20, name="test_from", _id="test_from", logid="test_from")
            await asyncio.sleep_ms(10)
            print(list(aioctl.group()), aioctl.result("test_from"))

        asyncio.run(main())
        """
    )
    assert out.strip() == "['test_from'] ('from', 20, [('logid', 'test_from')])"


def test_add_on_stop(mp):
    # on_stop: called as on_stop(*args, **kwargs) when the task is stopped,
    # its value the result; a value that is not callable is the result.
    out = mp.run(
        """
        import asyncio, aioctl

        @aioctl.aiotask
        async def task_led(n, t, alog=None):
            while True:
                await asyncio.sleep_ms(t)

        def _stop_cb(n, t, alog=None):
            return ("stopped", n, t, alog)

        async def main():
            aioctl.add(task_led, 1, 5, name="task_led_1", _id="task_led_1", on_stop=_stop_cb, alog="L")
            aioctl.add(task_led, 2, 5, name="task_led_2", on_stop="bye")
            await asyncio.sleep_ms(20)
            print(aioctl.stop("task_led_1"), aioctl.stop("task_led_2"))
            await asyncio.sleep_ms(10)
            print(aioctl.result("task_led_1"))
            print(aioctl.result("task_led_2"))

        asyncio.run(main())
        """
    )
    assert out.splitlines() == ["True True", "('stopped', 1, 5, 'L')", "bye"]


def test_add_on_error(mp):
    # on_error: called as on_error(e, *args, **kwargs) when the task raises,
    # its value the result; without it the result is the exception.
    out = mp.run(
        """
        import asyncio, aioctl

        @aioctl.aiotask
        async def task_led(n, t):
            await asyncio.sleep_ms(t)
            raise ValueError("bad %d" % n)

        def _error_cb(e, n, t):
            return ("error", type(e).__name__, n, t)

        async def main():
            aioctl.add(task_led, 4, 5, name="task_led_4", on_error=_error_cb)
            aioctl.add(task_led, 5, 5, name="task_led_5")
            await asyncio.sleep_ms(30)
            print(aioctl.result("task_led_4"))
            r = aioctl.result("task_led_5")
            print(type(r).__name__, r)

        asyncio.run(main())
        """
    )
    assert out.splitlines() == ["('error', 'ValueError', 4, 5)", "ValueError bad 5"]


def test_add_log_reaches_the_task(mp):
    # aioctl.add(task_button, log=log): the logger is the task's log=.
    out = mp.run(
        """
        import asyncio, aioctl
        from aiolog import streamlog
        from minilog import Logger

        log = Logger("pyb", stream=streamlog)

        @aioctl.aiotask
        async def task_button(log=None):
            log.info("[task_button] button pressed!")
            return True

        async def main():
            aioctl.add(task_button, log=log)
            await asyncio.sleep_ms(10)
            print(aioctl.result("task_button"))
            streamlog.cat("[task_button]")

        asyncio.run(main())
        """
    )
    ls = out.splitlines()
    assert ls[0] == "True"
    assert ls[1].endswith("[pyb] [INFO] [task_button] button pressed!")


def test_add_timeout_heartbeat_restart_reach_the_task(mp):
    # Issue 17: timeout=, heartbeat=, restart= are the task's own keywords
    # (aioctl.add(connect, host, timeout=1)); the library's options are
    # _timeout=, _heartbeat=, _restart= and never reach the task.
    out = mp.run(
        """
        import asyncio, aioctl

        async def connect(host, timeout=5, heartbeat=None, restart=None):
            await asyncio.sleep_ms(1)
            return (host, timeout, heartbeat, restart)

        async def opts(**kw):
            return sorted(kw)

        async def slow():
            await asyncio.sleep_ms(500)

        async def main():
            aioctl.add(connect, "example.com", timeout=1, heartbeat=2, restart=False)
            aioctl.add(opts, _timeout=5, _heartbeat=5, _restart=False)
            aioctl.add(slow, _timeout=0.05)
            await asyncio.sleep_ms(150)
            print(aioctl.result("connect"))
            print(aioctl.result("opts"))
            print(aioctl.group()["slow"][aioctl.STATE] == aioctl.ERROR)

        asyncio.run(main())
        """
    )
    assert out.splitlines() == ["('example.com', 1, 2, False)", "[]", "True"]


def test_restart_false_for_the_task_also_keeps_the_watcher_away(mp):
    # asyncmd's watcher reads the task's own restart=False keyword: a task
    # added so gets it and is not restarted, as with _restart=False.
    out = mp.run(
        """
        import asyncio, aioctl, aioschedule

        runs = {"kw": 0, "opt": 0, "plain": 0}

        async def fails(tag, restart=True):
            runs[tag] += 1
            raise OSError(5)

        async def main():
            aioctl.add(fails, "kw", name="kw", restart=False)
            aioctl.add(fails, "opt", name="opt", _restart=False)
            aioctl.add(fails, "plain", name="plain")
            aioctl.add(aioschedule.watcher_loop, sleep=0.02, backoff=0.01, max_backoff=0.01)
            await asyncio.sleep_ms(150)
            print(runs["kw"], runs["opt"], runs["plain"] > 2)

        asyncio.run(main())
        """
    )
    assert out.strip() == "1 1 True"


def test_tasks_for_gather(mp):
    # aioctl.tasks(): the tasks running now; asyncio.gather(*aioctl.tasks())
    # returns when they end, also when one of them is stopped meanwhile.
    out = mp.run(
        with_forever(
            """
        import asyncio, aioctl

        async def short(n):
            await asyncio.sleep_ms(30)
            return n

        async def stopper():
            await asyncio.sleep_ms(10)
            aioctl.stop("forever")

        async def main():
            aioctl.add(short, 1)
            aioctl.add(short, 2)
            aioctl.add(forever)
            ts = aioctl.tasks()
            print(len(ts))
            asyncio.create_task(stopper())
            await asyncio.gather(*ts)
            print("gathered", aioctl.result("short"), aioctl.result("short@1"))
            print(len(aioctl.tasks()))

        asyncio.run(main())
        """
        )
    )
    assert out.splitlines() == ["3", "gathered 1 2", "0"]


STATES_SCRIPT = """
import asyncio, aioctl
from aiolog import streamlog
from minilog import Logger

log = Logger("linux", stream=streamlog)
aioctl.set_log(streamlog)


async def hello():
    log.info("[hello] hi there")
    while True:
        await asyncio.sleep_ms(5)


async def answer():
    return 42


async def fails():
    raise ValueError("bad")


async def stoppable():
    while True:
        await asyncio.sleep_ms(5)


async def main():
    aioctl.add(hello)
    aioctl.add(answer)
    aioctl.add(fails)
    aioctl.add(stoppable)
    await asyncio.sleep_ms(30)
    aioctl.stop("stoppable")
    await asyncio.sleep_ms(10)
    print("== all")
    aioctl.status()
    print("== nolog")
    aioctl.status(log=False)
    print("== pattern")
    aioctl.status("st*")
    print("== one")
    aioctl.status("answer")
    print("== debug")
    aioctl.status("fails", debug=True)
    print("== end")


asyncio.run(main())
"""


def test_status_states(mp):
    # status(): one entry per task: running since / done / ERROR / stopped.
    out = mp.run(STATES_SCRIPT)
    s = sections(between(out, "== all", "== nolog"))
    assert sorted(s) == ["answer", "fails", "hello", "stoppable"]
    assert re.fullmatch(r"● hello: status: running since " + DATE + "; " + DUR + " ago", s["hello"][0])
    assert re.fullmatch(r"● answer: status: done @ " + DATE + "; " + DUR + " ago --> result: 42", s["answer"][0])
    assert re.fullmatch(r"● fails: status: ERROR @ " + DATE + "; " + DUR + " ago --> result: ValueError: bad",
                        s["fails"][0])
    assert re.fullmatch(r"● stoppable: status: stopped @ " + DATE + "; " + DUR + " ago --> result:.*",
                        s["stoppable"][0])


def test_status_log_and_name(mp):
    # status(name, log=True): the log lines that name the task ([name]) under
    # it; log=False leaves them out; a name with * shows the tasks matching.
    out = mp.run(STATES_SCRIPT)
    s = sections(between(out, "== all", "== nolog"))
    assert any(line.endswith("[linux] [INFO] [hello] hi there") for line in s["hello"][1:])
    assert not any("hi there" in line for line in s["answer"])
    nolog = between(out, "== nolog", "== pattern")
    assert sorted(sections(nolog)) == ["answer", "fails", "hello", "stoppable"]
    assert "hi there" not in nolog
    assert sorted(sections(between(out, "== pattern", "== one"))) == ["stoppable"]
    assert sorted(sections(between(out, "== one", "== debug"))) == ["answer"]


def test_status_debug(mp):
    # status(name, debug=True): args, kwargs, run time and the traceback of
    # a task that failed.
    out = mp.run(STATES_SCRIPT)
    sec = sections(between(out, "== debug", "== end"))["fails"]
    assert has(sec, r"\s+┗━► args: \(\)")
    assert has(sec, r"\s+┗━► kwargs: ?\{\}")
    assert has(sec, r"\s+┗━► runtime: " + DUR)
    assert has(sec, r"\s+┗━► traceback:.*")
    assert has(sec, r"\s*ValueError: bad")


def test_debug_toggles(mp):
    # aioctl.debug(): prints "debug mode: True"; status() then shows args and
    # kwargs; a second call turns it off.
    out = mp.run(
        """
        import asyncio, aioctl

        async def job(n, k=0):
            await asyncio.sleep_ms(100)

        async def main():
            aioctl.add(job, 7, k=1)
            await asyncio.sleep_ms(5)
            aioctl.debug()
            print("== on")
            aioctl.status()
            aioctl.debug()
            print("== off")
            aioctl.status()

        asyncio.run(main())
        """
    )
    ls = lines(out)
    assert ls[0] == "debug mode: True"
    on = sections(between(out, "== on", "debug mode: False"))["job"]
    assert has(on, r"\s+┗━► args: \(7,\)")
    assert has(on, r"\s+┗━► kwargs: ?\{ ?'k': 1 ?\}")
    off = sections(between(out, "== off"))["job"]
    assert not has(off, r".*args:.*")


def test_group_maps_names_to_records_with_a_tasks_view(mp):
    # group(): name -> record (a Names: a dict made of small dicts); group().tasks: name -> an
    # object with .task (the latest asyncio Task, or one whose done() is True
    # once the run has ended; None only before the first start), .args,
    # .kwargs, .name; `"repl" in group().tasks`, keys(), iteration.
    out = mp.run(
        """
        import asyncio, aioctl, aioschedule

        async def repl(prompt=">>> "):
            await asyncio.sleep_ms(60)

        async def later():
            pass

        async def main():
            aioctl.add(repl, name="repl", prompt="$ ")
            g = aioctl.group()
            print(isinstance(g, aioctl.Names) and dict(g.items()) == {"repl": g["repl"]}, g["repl"][aioctl.STATE] == aioctl.RUNNING)
            print("repl" in g.tasks, "nope" in g.tasks)
            v = g.tasks["repl"]
            print(v.task is not None and not v.task.done())  # started by add()
            await asyncio.sleep_ms(10)
            first = aioctl.group().tasks["repl"].task
            print(len(aioctl.tasks()) == 1, first.done())  # tasks(): to gather, not the runs' own
            print(v.name, v.args, v.kwargs)
            await asyncio.sleep_ms(100)
            print(aioctl.group().tasks["repl"].task.done())
            print(aioctl.start("repl"))
            await asyncio.sleep_ms(10)
            again = aioctl.group().tasks["repl"].task
            print(again is not first, again.done())
            aioctl.add(later)
            aioschedule.schedule("later", start_in=5)
            print(aioctl.group().tasks["later"].task)
            print(sorted(aioctl.group().tasks), sorted(aioctl.group().tasks.keys()))

        asyncio.run(main())
        """
    )
    assert out.splitlines() == [
        "True True",
        "True False",
        "True",
        "True False",
        "repl () {'prompt': '$ '}",
        "True",
        "True",
        "True False",
        "None",
        "['later', 'repl'] ['later', 'repl']",
    ]


def test_group_tasks_kwargs_update_before_start(mp):
    # aioctl.group().tasks[name].kwargs.update(...) then aioctl.start(name):
    # the new run gets the new keyword arguments; also for a task added
    # without any (and no other task's change with it).
    out = mp.run(
        """
        import asyncio, aioctl

        got = []

        async def blink(pin, sleep=5):
            got.append((pin, sleep))
            await asyncio.sleep_ms(1000)

        async def plain(**kw):
            got.append(sorted(kw.items()))

        async def main():
            aioctl.add(blink, 2, sleep=5)
            aioctl.add(plain)
            aioctl.add(plain, name="other")
            await asyncio.sleep_ms(10)
            aioctl.stop("blink")
            aioctl.group().tasks["blink"].kwargs.update(sleep=3)
            aioctl.group().tasks["plain"].kwargs.update(x=1)
            print(aioctl.start("blink"), aioctl.start("plain"), aioctl.start("other"))
            await asyncio.sleep_ms(10)
            print(got)

        asyncio.run(main())
        """
    )
    assert out.splitlines() == ["True True True", "[(2, 5), [], [], (2, 3), [('x', 1)], []]"]


def test_delete_several_and_pattern(mp):
    # aioctl.delete(*names): several names, and * patterns; the tasks stop.
    out = mp.run(
        with_forever(
            """
        import asyncio, aioctl

        async def main():
            for n in ("a", "b", "c", "tick.1", "tick.2"):
                aioctl.add(forever, name=n)
            await asyncio.sleep_ms(10)
            aioctl.delete("a", "b")
            print(sorted(aioctl.group()))
            aioctl.delete("tick.*")
            await asyncio.sleep_ms(10)
            print(sorted(aioctl.group()), len(aioctl.tasks()))

        asyncio.run(main())
        """
        )
    )
    assert out.splitlines() == ["['c', 'tick.1', 'tick.2']", "['c'] 1"]


def test_stop_name_pattern_and_all(mp):
    # aioctl.stop(name): True; a * pattern; no name: every task.
    out = mp.run(
        with_forever(
            """
        import asyncio, aioctl

        def states():
            return [aioctl.group()[n][aioctl.STATE] for n in ("tick.a", "tick.b", "other")]

        async def main():
            for n in ("tick.a", "tick.b", "other"):
                aioctl.add(forever, name=n)
            await asyncio.sleep_ms(10)
            print(aioctl.stop("tick.*"), states(), len(aioctl.tasks()))
            print(aioctl.stop(), states(), len(aioctl.tasks()))

        asyncio.run(main())
        """
        )
    )
    assert out.splitlines() == ["True [3, 3, 1] 1", "True [3, 3, 3] 0"]


def test_start_name_pattern_and_none(mp):
    # aioctl.start(name): a stopped task runs again (True); a * pattern; None
    # starts every task (docs/aioctl.md).
    out = mp.run(
        """
        import asyncio, aioctl

        runs = {}

        async def tick(n):
            runs[n] = runs.get(n, 0) + 1
            while True:
                await asyncio.sleep_ms(5)

        async def main():
            aioctl.add(tick, "a", name="tick.a")
            aioctl.add(tick, "b", name="tick.b")
            aioctl.add(tick, "c", name="other")
            await asyncio.sleep_ms(10)
            aioctl.stop()
            await asyncio.sleep_ms(5)
            print(aioctl.start("tick.a"))
            await asyncio.sleep_ms(5)
            print(sorted(runs.items()))
            aioctl.stop()
            print(aioctl.start("tick.*"))
            await asyncio.sleep_ms(5)
            print(sorted(runs.items()), len(aioctl.tasks()))
            aioctl.stop()
            aioctl.start(None)
            await asyncio.sleep_ms(5)
            print(sorted(runs.items()), len(aioctl.tasks()))

        asyncio.run(main())
        """
    )
    assert out.splitlines() == [
        "True",
        "[('a', 2), ('b', 1), ('c', 1)]",
        "True",
        "[('a', 3), ('b', 2), ('c', 1)] 2",
        "[('a', 4), ('b', 3), ('c', 2)] 3",
    ]


def test_result_name_pattern_and_none(mp):
    # aioctl.result(name): the value (None while it runs); a * pattern and no
    # name print "name --> value" lines.
    out = mp.run(
        with_forever(
            """
        import asyncio, aioctl

        async def r(n):
            return n

        async def main():
            aioctl.add(r, 1, name="r1")
            aioctl.add(r, 2, name="r2")
            aioctl.add(forever, name="fv")
            await asyncio.sleep_ms(10)
            print(aioctl.result("r1"), aioctl.result("fv"))
            print("== pattern")
            aioctl.result("r*")
            print("== all")
            aioctl.result()

        asyncio.run(main())
        """
        )
    )
    assert lines(out)[0] == "1 None"
    assert sorted(between(out, "== pattern", "== all").splitlines()) == ["r1 --> 1", "r2 --> 2"]
    assert sorted(between(out, "== all").splitlines()) == ["fv --> None", "r1 --> 1", "r2 --> 2"]


def test_result_all(mp):
    # aioctl.result_all(): prints "name --> result" for every task;
    # as_dict=True returns them as a dict.
    out = mp.run(
        """
        import asyncio, aioctl

        async def r(n):
            return n

        async def main():
            aioctl.add(r, 1, name="r1")
            aioctl.add(r, 2, name="r2")
            await asyncio.sleep_ms(10)
            print(aioctl.result_all(as_dict=True) == {"r1": 1, "r2": 2})
            aioctl.result_all()

        asyncio.run(main())
        """
    )
    ls = out.splitlines()
    assert ls[0] == "True"
    assert sorted(ls[1:]) == ["r1 --> 1", "r2 --> 2"]


def test_traceback_name_pattern_and_none(mp):
    # aioctl.traceback(name): "name: Traceback" and the exception's lines; a
    # * pattern; no name: every task that failed.
    out = mp.run(
        """
        import asyncio, aioctl

        async def fail1():
            raise ValueError("bad 1")

        async def fail2():
            raise OSError(5)

        async def ok():
            return 1

        async def main():
            aioctl.add(fail1)
            aioctl.add(fail2)
            aioctl.add(ok)
            await asyncio.sleep_ms(10)
            print("== one")
            aioctl.traceback("fail1")
            print("== pattern")
            aioctl.traceback("fail*")
            print("== all")
            aioctl.traceback()

        asyncio.run(main())
        """
    )
    one = between(out, "== one", "== pattern").splitlines()
    assert one[0] == "fail1: Traceback" and one[-1] == "ValueError: bad 1"
    for part in (between(out, "== pattern", "== all"), between(out, "== all")):
        ls = part.splitlines()
        assert "fail1: Traceback" in ls and "fail2: Traceback" in ls
        assert "ValueError: bad 1" in ls and any(line.startswith("OSError:") for line in ls)
        assert not any(line.startswith("ok") for line in ls)


def test_set_log_and_log_grep(mp):
    # aioctl.set_log(streamlog); aioctl.log(grep): the lines of the log
    # (cat), or those that contain grep; "*text*" matches too.
    out = mp.run(
        """
        import aioctl
        from aiolog import streamlog
        from minilog import Logger

        aioctl.set_log(streamlog)
        log = Logger("linux")
        log.info("[a] one")
        log.info("[b] two")
        print("== a")
        aioctl.log("[a]")
        print("== all")
        aioctl.log()
        print("== wild")
        aioctl.log("*two*")
        """
    )
    a = between(out, "== a", "== all").splitlines()
    assert len(a) == 1 and a[0].endswith("[linux] [INFO] [a] one")
    assert len(between(out, "== all", "== wild").splitlines()) == 2
    w = between(out, "== wild").splitlines()
    assert len(w) == 1 and w[0].endswith("[b] two")


FOLLOW = """
import asyncio, aioctl
from aiolog import streamlog
from minilog import Logger

log = Logger("linux")
aioctl.set_log(streamlog)


async def main():
    log.info("[a] old")
    f = asyncio.create_task(%s)
    await asyncio.sleep_ms(20)
    log.info("[a] new")
    log.info("[b] other")
    await asyncio.sleep_ms(150)
    print("MARK1")
    await asyncio.sleep_ms(350)
    print("MARK2")
    f.cancel()
    await asyncio.sleep_ms(5)


asyncio.run(main())
"""


def follow_check(out):
    # wait=0.3 is seconds: the new line comes 0.3 s after it was written,
    # between the marks; old lines and lines without [a] never come.
    ls = out.splitlines()
    assert len(ls) == 3, out
    assert ls[0] == "MARK1" and ls[1].endswith("[linux] [INFO] [a] new") and ls[2] == "MARK2"


def test_aioctl_follow_grep_wait_seconds(mp):
    # await aioctl.follow(grep, wait=...): like tail -F | grep; wait in s.
    follow_check(mp.run(FOLLOW % 'aioctl.follow("[a]", wait=0.3)'))


def test_stream_follow_grep_wait_seconds(mp):
    # await streamlog.follow(grep, wait=...), the stream's own.
    follow_check(mp.run(FOLLOW % 'streamlog.follow("[a]", wait=0.3)'))


def test_reset_group_and_log(mp):
    # aioctl.reset(group=True, log=False): group forgets every task, log
    # forgets the log stream; the defaults keep the log.
    out = mp.run(
        with_forever(
            """
        import asyncio, aioctl
        from aiolog import streamlog

        async def main():
            aioctl.set_log(streamlog)
            streamlog.write("[x] a log line\\n")
            aioctl.add(forever, name="x")
            await asyncio.sleep_ms(10)
            aioctl.reset()
            await asyncio.sleep_ms(10)
            print(len(aioctl.group()), len(aioctl.tasks()))
            print("== kept")
            aioctl.log("[x]")
            print("== log gone")
            aioctl.add(forever, name="x")
            aioctl.reset(group=False, log=True)
            aioctl.log()
            print(sorted(aioctl.group()))
            aioctl.set_log(streamlog)
            aioctl.reset(group=True, log=True)
            aioctl.log()
            print(len(aioctl.group()))

        asyncio.run(main())
        """
        )
    )
    ls = out.splitlines()
    assert ls[0] == "0 0"
    assert ls[1] == "== kept" and ls[2] == "[x] a log line"
    assert ls[3:] == ["== log gone", "['x']", "0"]


def test_run_starts_the_tasks_added(mp):
    # aioctl.run() (asyncmd's source): tasks added before the event loop
    # runs, then run() runs them.
    out = mp.run(
        """
        import asyncio, aioctl

        async def job(n):
            await asyncio.sleep_ms(10)
            return n * 2

        aioctl.add(job, 1)
        aioctl.add(job, 2)
        aioctl.run()
        print(aioctl.result_all(as_dict=True) == {"job": 2, "job@1": 4})
        """
    )
    assert out.strip() == "True"


def test_aioctl_aioschedule_is_the_module(mp):
    # aioctl.aioschedule.watcher_loop, as the interrupt example uses it,
    # with only aioctl imported.
    out = mp.run(
        """
        import aioctl
        w = aioctl.aioschedule.watcher_loop
        import aioschedule
        print(aioctl.aioschedule is aioschedule, w is aioschedule.watcher_loop)
        """
    )
    assert out.strip() == "True True"


# ------------------------------------------------------------- aioschedule


def test_schedule_task_decorator(mp):
    # @aioschedule.schedule_task(start_in=1, repeat=1) over @aioctl.aiotask:
    # the task waits (it does not run at add()), runs 1 s after schedule_loop
    # starts, then every second; status shows its schedule.
    out = mp.run(
        """
        import asyncio, time, aioctl, aioschedule

        t0 = [0]
        runs = []

        @aioschedule.schedule_task(start_in=1, repeat=1)
        @aioctl.aiotask
        async def test(a, b=1):
            runs.append((time.ticks_diff(time.ticks_ms(), t0[0]), a, b))
            return 42

        async def main():
            aioctl.add(test, "world", b=10)
            aioctl.add(aioschedule.schedule_loop)
            t0[0] = time.ticks_ms()
            await asyncio.sleep_ms(500)
            print(runs)
            print("== before")
            aioctl.status("test")
            print("== wait")
            await asyncio.sleep_ms(1700)
            print([r[1:] for r in runs], [abs(r[0] - 1000 * (i + 1)) < 120 for i, r in enumerate(runs)])
            print("== after")
            aioctl.status("test")

        asyncio.run(main())
        """
    )
    ls = lines(out)
    assert ls[0] == "[]"
    sec = sections(between(out, "== before", "== wait"))["test"]
    assert re.fullmatch(r"● test: status: scheduled @ " + DATE + r" --> result:\s*", sec[0])
    assert has(sec, r"\s+┗━► schedule: starts in " + DUR + " @ " + DATE)
    assert "[('world', 10), ('world', 10)] [True, True]" in ls
    sec = sections(between(out, "== after"))["test"]
    assert re.fullmatch(r"● test: status: scheduled - done @ " + DATE + "; " + DUR + " ago --> result: 42", sec[0])
    assert has(sec, r"\s+┗━► schedule: last @ " + DATE + " --> next in " + DUR + " @ " + DATE)


def test_seed_status_of_scheduled_tasks(mp):
    # The seed document's example: test (schedule_task start_in=10) and
    # test_from (schedule() at a time tuple 20 s on) shown as scheduled, with
    # "starts in ~10 s" and "~20 s", before they run.
    out = mp.run(
        """
        import asyncio, time, aioctl, aioschedule
        from aiolog import streamlog
        from minilog import Logger

        log = Logger("linux")
        aioctl.set_log(streamlog)

        @aioschedule.schedule_task(start_in=10, repeat=120)
        @aioctl.aiotask
        async def test(a, b=1, alog=log, logid=""):
            return 42

        async def repl():
            await asyncio.sleep_ms(2000)

        async def main():
            aioctl.add(test, "world", b=10)
            aioctl.add(test, "from", b=20, name="test_from", _id="test_from", logid="test_from")
            aioschedule.schedule("test_from", start_in=time.localtime(time.time() + 20), repeat=30)
            aioctl.add(repl, name="repl")
            aioctl.add(aioschedule.watcher_loop)
            aioctl.add(aioschedule.schedule_loop)
            await asyncio.sleep_ms(300)
            aioctl.status()
            aioctl.stop()

        asyncio.run(main())
        """
    )
    s = sections(out)
    assert sorted(s) == ["repl", "schedule_loop", "test", "test_from", "watcher_loop"]
    for n in ("repl", "schedule_loop", "watcher_loop"):
        assert re.fullmatch(r"● %s: status: running since " % n + DATE + "; " + DUR + " ago", s[n][0])
    for n, low, high in (("test", 9, 10), ("test_from", 18, 20)):
        assert re.fullmatch(r"● %s: status: scheduled @ " % n + DATE + r" --> result:\s*", s[n][0])
        m = [re.fullmatch(r"\s+┗━► schedule: starts in (\d+(?:\.\d)?) s @ " + DATE, line) for line in s[n]]
        m = [x for x in m if x]
        assert len(m) == 1 and low <= float(m[0].group(1)) <= high, s[n]


def test_schedule_seconds_and_schedule_loop_alog(mp):
    # aioschedule.schedule(name, start_in=s, repeat=s), schedule_loop added
    # as aioctl.add(aioschedule.schedule_loop, alog=None); name in
    # aioschedule.group().
    out = mp.run(
        """
        import asyncio, time, aioctl, aioschedule

        t0 = [0]
        runs = []

        @aioctl.aiotask
        async def my_task(var):
            runs.append(time.ticks_diff(time.ticks_ms(), t0[0]))

        async def main():
            aioctl.add(my_task, "Foo", name="greeting")
            aioschedule.schedule("greeting", start_in=0.2, repeat=0.3)
            print("greeting" in aioschedule.group())
            aioctl.add(aioschedule.schedule_loop, alog=None)
            t0[0] = time.ticks_ms()
            await asyncio.sleep_ms(100)
            print(runs)
            await asyncio.sleep_ms(780)
            print([abs(r - (200 + 300 * i)) < 60 for i, r in enumerate(runs)])

        asyncio.run(main())
        """
    )
    assert out.splitlines() == ["True", "[]", "[True, True, True]"]


def test_schedule_at_a_time_tuple(mp):
    # aioschedule.schedule(name, start_in=time.localtime(time.time() + 2),
    # repeat=1): the first run at that wall-clock second (1 to 2 s from now;
    # asyncmd checks once a second, so a few ms either side), then every
    # second.
    out = mp.run(
        """
        import asyncio, time, aioctl, aioschedule

        runs = []

        async def job():
            runs.append((time.time(), time.ticks_ms()))

        async def main():
            aioctl.add(job)
            at = time.localtime(time.time() + 2)
            aioschedule.schedule("job", start_in=at, repeat=1)
            aioctl.add(aioschedule.schedule_loop)
            await asyncio.sleep_ms(900)
            print(len(runs))
            await asyncio.sleep_ms(2400)
            print(len(runs) in (2, 3), abs(runs[0][0] - time.mktime(at)) < 0.05 if runs else None,
                  abs(time.ticks_diff(runs[1][1], runs[0][1]) - 1000) < 100 if len(runs) > 1 else None)

        asyncio.run(main())
        """
    )
    assert out.splitlines() == ["0", "True True True"]


def test_unschedule(mp):
    # aioschedule.unschedule(name): no more scheduled runs.
    out = mp.run(
        """
        import asyncio, aioctl, aioschedule

        runs = [0]

        async def job():
            runs[0] += 1

        async def main():
            aioctl.add(job)
            aioschedule.schedule("job", start_in=0.05, repeat=0.1)
            aioctl.add(aioschedule.schedule_loop)
            await asyncio.sleep_ms(280)
            aioschedule.unschedule("job")
            n = runs[0]
            await asyncio.sleep_ms(300)
            print(n >= 2, runs[0] == n, "job" in aioschedule.group())

        asyncio.run(main())
        """
    )
    assert out.strip() == "True True False"


def test_stop_then_start_before_due_keeps_schedule(mp):
    # docs/aioctl.md, start(): stop and start again before the time is due
    # does not change the scheduled time.
    out = mp.run(
        with_timed_job(
            """
        import asyncio, aioctl

        async def main():
            begin(start_in=0.5)
            await asyncio.sleep_ms(200)
            print(aioctl.stop("job"))
            await asyncio.sleep_ms(100)
            print(aioctl.start("job"), runs)
            await asyncio.sleep_ms(400)
            print(len(runs), abs(runs[0] - 500) < 60 if runs else None)

        asyncio.run(main())
        """
        )
    )
    assert out.splitlines() == ["True", "True []", "1 True"]


def test_stop_then_start_after_due_runs_at_once_then_grid(mp):
    # docs/aioctl.md, start(), and issue 17: a task stopped (its schedule set
    # aside) and started again after it was due runs once at once, then on
    # its original grid.
    out = mp.run(
        with_timed_job(
            """
        import asyncio, aioctl

        async def main():
            begin(start_in=0.3, repeat=0.5)
            await asyncio.sleep_ms(400)   # ran at 0.3
            aioctl.stop("job")
            await asyncio.sleep_ms(600)   # 0.8 passes
            aioctl.start("job")           # at 1.0: runs at once
            await asyncio.sleep_ms(900)   # then 1.3, 1.8
            want = (300, 1000, 1300, 1800)
            print(len(runs), [abs(r - w) < 70 for r, w in zip(runs, want)])

        asyncio.run(main())
        """
        )
    )
    assert out.strip() == "4 [True, True, True, True]"


def test_stop_sch_false_keeps_the_schedule(mp):
    # aioctl.stop(name, stop_sch=False) cancels the run and leaves the
    # schedule: it runs again when next due. stop(name) sets it aside.
    out = mp.run(
        """
        import asyncio, aioctl, aioschedule

        runs = {}

        async def job(n):
            runs[n] = runs.get(n, 0) + 1
            await asyncio.sleep_ms(100)

        async def main():
            aioctl.add(job, "a", name="a")
            aioctl.add(job, "b", name="b")
            aioschedule.schedule("a", start_in=0.05, repeat=0.2)
            aioschedule.schedule("b", start_in=0.05, repeat=0.2)
            aioctl.add(aioschedule.schedule_loop)
            await asyncio.sleep_ms(100)   # both running
            aioctl.stop("a", stop_sch=False)
            aioctl.stop("b")
            await asyncio.sleep_ms(10)
            st = [aioctl.group()[n][aioctl.STATE] for n in "ab"]
            await asyncio.sleep_ms(400)
            print(st, sorted(runs.items()), "a" in aioschedule.group(), "b" in aioschedule.group())

        asyncio.run(main())
        """
    )
    assert out.strip() == "[3, 3] [('a', 3), ('b', 1)] True False"


def test_watcher_loop_restarts_a_failed_task(mp):
    # aioctl.add(aioschedule.watcher_loop, alog=log): a task that raises is
    # started again (the library backs off between repeated failures).
    out = mp.run(
        """
        import asyncio, aioctl, aioschedule
        from aiolog import streamlog
        from minilog import Logger

        log = Logger("linux")
        calls = [0]

        async def flaky():
            calls[0] += 1
            if calls[0] < 3:
                raise OSError(110)
            return "ok"

        async def main():
            aioctl.add(flaky)
            aioctl.add(aioschedule.watcher_loop, alog=log, sleep=1)
            for _ in range(40):
                await asyncio.sleep_ms(100)
                if aioctl.result("flaky") == "ok":
                    break
            print(calls[0], aioctl.result("flaky"))
            streamlog.cat("flaky")

        asyncio.run(main())
        """
    )
    ls = out.splitlines()
    assert ls[0] == "3 ok"
    assert len(ls) > 1  # alog got lines about it


def test_watcher_loop_goes_by_the_result(mp):
    # The seed document: watcher_loop "iterates over aioctl.result() task's
    # result catching and registering errors and then it restarts the failing
    # task": a task whose result is an exception (returned, as the examples'
    # task_led does, or the value of on_error) is restarted.
    out = mp.run(
        """
        import asyncio, aioctl, aioschedule

        calls = {"ret": 0, "cb": 0}

        async def ret():
            calls["ret"] += 1
            if calls["ret"] == 1:
                return OSError(5)  # caught inside the task and returned
            return 42

        async def cb():
            calls["cb"] += 1
            if calls["cb"] == 1:
                raise OSError(5)
            return 43

        async def main():
            aioctl.add(ret)
            aioctl.add(cb, on_error=lambda e: e)
            aioctl.add(aioschedule.watcher_loop, sleep=1)
            for _ in range(30):
                await asyncio.sleep_ms(100)
                if aioctl.result("ret") == 42 and aioctl.result("cb") == 43:
                    break
            print(calls["ret"], aioctl.result("ret"), calls["cb"], aioctl.result("cb"))

        asyncio.run(main())
        """
    )
    assert out.strip() == "2 42 2 43"


# ------------------------------------------------------------------- aiolog


def test_aiostream_is_logstream_ring(mp):
    # aiolog.AioStream(size): the ring buffer class (LogStream); it keeps the
    # newest text, never more than size bytes.
    out = mp.run(
        """
        import aiolog

        print(aiolog.AioStream is aiolog.LogStream, isinstance(aiolog.streamlog, aiolog.AioStream))
        s = aiolog.AioStream(200)
        for i in range(50):
            s.write("line %02d ......\\n" % i)
        print("== cat")
        s.cat()
        """
    )
    ls = out.splitlines()
    assert ls[0] == "True True"
    kept = ls[2:]
    assert kept and kept[-1] == "line 49 ......"
    assert "line 00 ......" not in kept
    assert sum(len(x) + 1 for x in kept) <= 200


def test_streamlog_cat_grep_and_print_file(mp):
    # streamlog as a stream (print(..., file=streamlog), a logger's stream);
    # cat(): every line; cat(grep): lines containing grep; "*x*" too.
    out = mp.run(
        """
        from aiolog import streamlog
        from minilog import Logger

        log = Logger("pyb", stream=streamlog)
        log.info("[hello_task] LED 3 toggled!")
        print("[world_task] done", file=streamlog)
        print("== all")
        streamlog.cat()
        print("== grep")
        streamlog.cat(grep="[hello_task]")
        print("== wild")
        streamlog.cat("*done*")
        """
    )
    assert len(between(out, "== all", "== grep").splitlines()) == 2
    g = between(out, "== grep", "== wild").splitlines()
    assert len(g) == 1 and g[0].endswith("[pyb] [INFO] [hello_task] LED 3 toggled!")
    assert between(out, "== wild").splitlines() == ["[world_task] done"]
