import re

import pytest

# Interval and wall-clock scheduling, status lines, the watcher: also on the
# virtual Pico, in its emulated time.
pytestmark = pytest.mark.board

ANSI = re.compile(r"\x1b\[[0-9;]*m")
DATE = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"


# Scheduling jitter allowed in these tests. Starts are 0-1 ms late on a
# quiet machine; a loaded CI machine adds more. The tests are built so that
# a wrong rule (drift, a burst, a stacked run) misses by far more than this.
TOL = 20  # ms: a start 11 ms late was seen with two CPU-bound processes beside the suite


def plain(s):
    return ANSI.sub("", s)


def ints(line):
    return [int(x) for x in line.split()[1:]]


# Records the start of each run, in ms after schedule_loop started.
RECORDER = """
import asyncio, time, aioctl, aioschedule, aiocron
T0 = [None]
starts = {}

def ms():
    return time.ticks_diff(time.ticks_ms(), T0[0])

async def loop():
    T0[0] = time.ticks_ms()
    await aioschedule.schedule_loop()

async def job(tag, run_ms=0):
    starts.setdefault(tag, []).append(ms())
    if run_ms:
        await asyncio.sleep_ms(run_ms)
    return tag

def show(tag):
    print(tag, " ".join(str(x) for x in starts.get(tag, [])))
"""


def test_waits_for_loop_then_runs_on_a_drift_free_grid(mp):
    out = mp.run(
        RECORDER
        + """
@aioschedule.schedule_task(start_in=0.1, repeat=0.05)
@aioctl.aiotask
async def deco(tag):
    starts.setdefault(tag, []).append(ms())

async def main():
    aioctl.add(deco, "deco")              # decorated: waits for its schedule
    aioctl.add(job, "late", name="late")  # seed order: add, then schedule
    aioschedule.schedule("late", start_in=0.2, repeat=True)
    aioctl.add(job, "now", name="now")    # not scheduled: runs at once
    await asyncio.sleep_ms(60)            # schedule_loop not started yet
    print("before", starts.get("deco"), starts.get("late"), len(starts.get("now")))
    aioctl.add(loop, name="schedule_loop")
    # add() makes the run's asyncio Task one round later: a sleep_ms(1) here
    # may end first where a step takes the clock past a ms (a Pico).
    while T0[0] is None:
        await asyncio.sleep_ms(0)
    await asyncio.sleep_ms(235 - ms())
    time.sleep_ms(35)  # blocks the loop: the run due at 250 starts late
    await asyncio.sleep_ms(640 - ms())
    show("deco")
    show("late")

asyncio.run(main())
"""
    )
    lines = out.splitlines()
    assert lines[0] == "before None None 1"
    deco = ints(lines[1])
    late = ints(lines[2])
    # start_in counts from schedule_loop's start; run k is due at start_in + k*repeat
    assert len(deco) in (11, 12)
    assert deco[3] >= 268  # due at 250, started after the block
    for k, t in enumerate(deco):
        if k != 3:
            # the runs after the late one are back on the grid: no drift
            assert 0 <= t - (100 + 50 * k) <= TOL, (k, deco)
    assert len(late) in (3, 4)
    for k, t in enumerate(late):
        assert 0 <= t - 200 * (k + 1) <= TOL, (k, late)


def test_start_in_counts_from_the_call_once_the_loop_runs_and_floats_work(mp):
    out = mp.run(
        RECORDER
        + """
async def main():
    aioctl.add(loop, name="schedule_loop")
    await asyncio.sleep_ms(100)
    aioctl.add(job, "a", name="a")
    t = ms()
    aioschedule.schedule("a", start_in=0.035)
    await asyncio.sleep_ms(100)
    print("a", starts["a"][0] - t, len(starts["a"]), "a" in aioschedule.group())
    aioctl.status("a")
    aioctl.status("schedule_loop")

asyncio.run(main())
"""
    )
    lines = plain(out).splitlines()
    delay, runs, still = lines[0].split()[1:]
    assert 35 <= int(delay) <= 35 + TOL
    assert runs == "1" and still == "True"  # a one-off stays, with no next run
    assert re.fullmatch(r"● a: status: scheduled - done @ %s; [01] s ago --> result: 'a'" % DATE, lines[1])
    assert re.fullmatch(r"    ┗━► schedule: last @ %s --> no next run" % DATE, lines[2])
    assert re.fullmatch(r"● schedule_loop: status: running since %s; [01] s ago" % DATE, lines[4])


def test_wall_clock_start_with_8_and_9_tuples(mp):
    # A stand-in wall clock 150 ms before a whole second; the schedule names
    # that second as a time tuple, so it must start 150 ms later.
    out = mp.run(
        RECORDER
        + """
T = 1767225600  # 2026-01-01 00:00:00 UTC
base = time.ticks_ms()
def wall_ms():
    return (T * 1000 - 150) + time.ticks_diff(time.ticks_ms(), base)
aioschedule.clock(wall_ms=wall_ms)

async def main():
    aioctl.add(loop, name="schedule_loop")
    await asyncio.sleep_ms(10)
    aioctl.add(job, "w9", name="w9")
    aioctl.add(job, "w8", name="w8")
    t = ms()
    print("expect", T * 1000 - wall_ms())
    aioschedule.schedule("w9", start_in=time.localtime(T), repeat=0.1)
    aioschedule.schedule("w8", start_in=time.localtime(T + 1)[:8])
    aioctl.status("w8")
    await asyncio.sleep_ms(300 - (ms() - t))  # 300 ms from t, however long loading the modules took
    print("w9", " ".join(str(x - t) for x in starts["w9"]))
    print("w8", starts.get("w8"))

asyncio.run(main())
"""
    )
    lines = plain(out).splitlines()
    expect = ints(lines[0])[0]
    assert 100 <= expect <= 145
    assert re.fullmatch(r"● w8: status: scheduled @ %s --> result: " % DATE, lines[1])
    assert re.fullmatch(r"    ┗━► schedule: starts in 1.1 s @ 2026-01-01 00:00:01", lines[2])
    w9 = ints(lines[4])
    assert 0 <= w9[0] - expect <= TOL, (expect, w9)
    assert len(w9) == 2 and 100 - TOL <= w9[1] - w9[0] <= 100 + TOL
    assert lines[5] == "w8 None"


def test_overrun_is_not_stacked(mp):
    out = mp.run(
        RECORDER
        + """
running = [0, 0]
async def slow():
    running[0] += 1
    running[1] = max(running[1], running[0])
    starts.setdefault("slow", []).append(ms())
    await asyncio.sleep_ms(120)
    running[0] -= 1

async def main():
    aioctl.add(slow)
    aioschedule.schedule("slow", start_in=0, repeat=0.05)
    aioctl.add(loop, name="schedule_loop")
    await asyncio.sleep_ms(420)
    show("slow")
    s = aiocron.info("slow")
    print("max", running[1], s["runs"], s["skipped"])

asyncio.run(main())
"""
    )
    lines = out.splitlines()
    slow = ints(lines[0])
    # runs at 0, 150, 300 (each on the 50 ms grid, after the previous ended)
    assert [round(t / 50) * 50 for t in slow] == [0, 150, 300], slow
    mx, runs, skipped = ints(lines[1])
    assert mx == 1 and runs == 3 and skipped >= 5


def test_blocked_loop_collapses_missed_runs_and_keeps_the_grid(mp):
    out = mp.run(
        RECORDER
        + """
async def blocker():
    await asyncio.sleep_ms(120)
    time.sleep_ms(230)  # blocks the whole event loop: ~4 runs are missed

async def main():
    aioctl.add(job, "tick", name="tick")
    aioschedule.schedule("tick", start_in=0, repeat=0.05)
    aioctl.add(loop, name="schedule_loop")
    aioctl.add(blocker)
    await asyncio.sleep_ms(500)
    show("tick")
    print("skipped", aiocron.info("tick")["skipped"])

asyncio.run(main())
"""
    )
    lines = out.splitlines()
    tick = ints(lines[0])
    after = [t for t in tick if t >= 350]
    before = [t for t in tick if t < 120]
    during = [t for t in tick if 120 <= t < 350]
    assert len(before) == 3  # 0, 50, 100
    assert len(during) == 0
    # one catch-up run right after the block, then back on the 50 ms grid
    assert after[0] - 350 <= TOL
    assert all(t % 50 <= TOL for t in after[1:]), after
    assert len(after) in (3, 4)
    assert ints(lines[1]) == [4] or ints(lines[1]) == [3]


def test_idle_loop_does_not_wake_and_wakes_at_once_on_change(mp):
    out = mp.run(
        RECORDER
        + """
reads = [0]
def counting_ticks():
    reads[0] += 1
    return time.ticks_ms()
aioschedule.clock(ticks_ms=counting_ticks)

async def main():
    for i in range(50):
        aioctl.add(job, "far%d" % i, name="far%d" % i)
        aioschedule.schedule("far%d" % i, start_in=3600, repeat=60)
    aioctl.add(loop, name="schedule_loop")
    await asyncio.sleep_ms(20)
    r = reads[0]
    await asyncio.sleep_ms(300)
    print("idle reads", reads[0] - r)
    # a new schedule wakes the loop at once
    aioctl.add(job, "soon", name="soon")
    t = ms()
    aioschedule.schedule("soon", start_in=0.03)
    # a removed one never runs; a changed one runs at its new time
    aioctl.add(job, "gone", name="gone")
    aioschedule.schedule("gone", start_in=0.02)
    aioschedule.unschedule("gone")
    aioschedule.schedule("far0", start_in=0.01)
    await asyncio.sleep_ms(80)
    print("soon", starts["soon"][0] - t, "gone" in starts, starts["far0"][0] - t)

asyncio.run(main())
"""
    )
    lines = out.splitlines()
    assert lines[0] == "idle reads 0"
    _, soon, gone, far0 = lines[1].split()
    assert 30 <= int(soon) <= 30 + TOL
    assert gone == "False"
    assert 10 <= int(far0) <= 10 + TOL


WRAP = """
P = 1 << 30  # a 32-bit board's ticks period
MASK = P - 1
def add30(a, b):
    return (a + b) & MASK
def diff30(a, b):
    d = (a - b) & MASK
    return d - P if d >= P // 2 else d
"""


def test_ticks_wraparound(mp):
    # 30-bit ticks that wrap 120 ms after the start, as on a board after 12.4 days.
    out = mp.run(
        RECORDER
        + WRAP
        + """
off = P - 120 - time.ticks_ms()
def ticks30():
    return (time.ticks_ms() + off) & MASK
aioschedule.clock(ticks30, diff30)
wrapped = []

async def main():
    aioctl.add(job, "w", name="w")
    aioschedule.schedule("w", start_in=0.02, repeat=0.04)
    aioctl.add(loop, name="schedule_loop")
    for i in range(30):
        await asyncio.sleep_ms(10)
        if not wrapped and ticks30() < 1000:
            wrapped.append(ms())
    show("w")
    print("wrapped", wrapped)

asyncio.run(main())
"""
    )
    lines = out.splitlines()
    w = ints(lines[0])
    assert 90 <= eval(lines[1].split(None, 1)[1])[0] <= 150  # the stand-in really wrapped
    assert len(w) in (7, 8)
    for k, t in enumerate(w):
        assert 0 <= t - (20 + 40 * k) <= TOL, w


def test_waits_longer_than_the_ticks_horizon(mp):
    # A weekly repeat is longer than half a 32-bit ticks period (6.2 days): it
    # is waited for in steps. A hand-driven 30-bit clock jumps by hours.
    out = mp.run(
        RECORDER
        + WRAP
        + """
now = [P - 5000]
aioschedule.clock(lambda: now[0], diff30)
DAY = 86400000
runs = []

async def weekly():
    runs.append(now[0])

async def main():
    aioctl.add(weekly)
    aioschedule.schedule("weekly", start_in=7 * 86400, repeat=7 * 86400)
    aioctl.add(aioschedule.schedule_loop)
    await asyncio.sleep_ms(5)
    start = now[0]
    seen = []
    for h in range(1, 24 * 15 + 1):
        now[0] = add30(start, h * 3600000)
        aioschedule.loop_nap.wake()  # the loop sleeps on real time: poke it
        await asyncio.sleep_ms(0)
        await asyncio.sleep_ms(0)
        if len(runs) > len(seen):
            seen.append(h)
    print("hours", seen)

asyncio.run(main())
"""
    )
    assert out.strip() == "hours [168, 336]"


def test_restarting_schedule_loop_keeps_cadence(mp):
    out = mp.run(
        RECORDER
        + """
async def main():
    aioctl.add(job, "c", name="c")
    aioschedule.schedule("c", start_in=0, repeat=0.05)
    aioctl.add(loop, name="schedule_loop")
    await asyncio.sleep_ms(120)
    aioctl.stop("schedule_loop")
    await asyncio.sleep_ms(150)
    aioctl.start("schedule_loop")  # does not re-base: T0 below is re-set, so
    await asyncio.sleep_ms(130)    # use the ms of the first start
    print("c", " ".join(str(x) for x in starts["c"]))

first = []
_loop = loop
async def loop():
    if not first:
        first.append(time.ticks_ms())
    T0[0] = first[0]
    await aioschedule.schedule_loop()

asyncio.run(main())
"""
    )
    c = ints(out.splitlines()[0])
    assert [t for t in c if t < 120] and all(t % 50 <= TOL for t in c if t < 120)
    assert not [t for t in c if 120 + TOL < t < 268]
    resumed = [t for t in c if t >= 268]
    assert resumed[0] - 270 <= TOL  # one catch-up run at the restart...
    # ...then the old grid (a re-based grid would be 270 + k*50 + late)
    assert all(t % 50 <= TOL for t in resumed[1:]) and len(resumed) >= 3


def test_status_lines_and_stop_start_keep_the_schedule(mp):
    out = mp.run(
        RECORDER
        + """
async def fails():
    raise OSError(5)

async def main():
    aioctl.add(job, "s", name="s")
    aioschedule.schedule("s", start_in=0.03, repeat=0.1)
    aioctl.add(fails)
    aioschedule.schedule("fails", start_in=0.03, repeat=0.1)
    aioctl.add(job, "long", 500, name="long")
    aioschedule.schedule("long", start_in=0, repeat=10)
    aioctl.status("s")
    print("==")
    aioctl.add(loop, name="schedule_loop")
    await asyncio.sleep_ms(60)
    aioctl.status("s")
    aioctl.status("fails")
    aioctl.stop("long", stop_sch=False)
    aioctl.status("long")
    print("==")
    aioctl.stop("s")
    print("s" in aioschedule.group())
    aioctl.status("s")
    await asyncio.sleep_ms(220 - ms())  # status() loads aiostatus: sleep to fixed times
    print(len(starts["s"]))
    print(aioctl.start("s"), "s" in aioschedule.group())
    await asyncio.sleep_ms(280 - ms())
    print(" ".join(str(x) for x in starts["s"]))

asyncio.run(main())
"""
    )
    text = plain(out)
    first, second, third = text.split("==\n")
    f = first.splitlines()
    assert re.fullmatch(r"● s: status: scheduled @ %s --> result: " % DATE, f[0])
    assert f[1] == "    ┗━► schedule: starts 0.03 s after schedule_loop starts" or re.fullmatch(
        r"    ┗━► schedule: starts 0.0 s after schedule_loop starts", f[1]) or f[1].startswith(
        "    ┗━► schedule: starts ")
    s = second.splitlines()
    assert re.fullmatch(r"● s: status: scheduled - done @ %s; [01] s ago --> result: 's'" % DATE, s[0])
    assert re.fullmatch(r"    ┗━► schedule: last @ %s --> next in 0.\d s @ %s" % (DATE, DATE), s[1])
    assert re.fullmatch(r"● fails: status: scheduled - ERROR @ %s; [01] s ago --> result: OSError: \[Errno 5\] EIO" % DATE, s[3])
    assert re.fullmatch(r"● long: status: scheduled - stopped @ %s; [01] s ago --> result: None" % DATE, s[6])
    assert re.fullmatch(r"    ┗━► schedule: last @ %s --> next in (9.\d|10) s @ %s" % (DATE, DATE), s[7])
    t = third.splitlines()
    assert t[0] == "False"
    assert re.fullmatch(r"● s: status: stopped @ %s; [01] s ago --> result: 's'" % DATE, t[1])
    assert t[3] == "1"  # no run while stopped
    assert t[4] == "True True"
    runs = [int(x) for x in t[5].split()]
    # stopped at 60 ms and started at 220 ms, after its start at 130 was
    # due: it runs at once (once: no catch-up for the time it was stopped),
    # then on its old grid (30 + k*100), at 230.
    assert 30 <= runs[0] <= 30 + TOL and len(runs) == 3, runs
    assert 220 <= runs[1] <= 220 + TOL and 230 <= runs[2] <= 230 + TOL, runs


def test_bad_input(mp):
    out = mp.run(
        RECORDER
        + """
async def main():
    aioctl.add(job, "ok", name="ok")
    aioschedule.schedule("ok", start_in=0, repeat=0.02)
    aioctl.add(loop, name="schedule_loop")
    aioctl.add(job, "x", name="x")
    await asyncio.sleep_ms(10)
    for args, kw in (
        (("x",), {"repeat": -1}),
        (("x",), {"repeat": 0}),
        (("x",), {"repeat": "5"}),
        (("x",), {"start_in": -2}),
        (("x",), {"start_in": True}),
        (("x",), {"start_in": (2024, 13, 1, 0, 0, 0, 0, 0)}),
        (("x",), {"start_in": (2024, 1, 1)}),
        (("x",), {"start_in": (2000, 1, 1, 0, 0, 0, 0, 0)}),
        (("x",), {"start_in": time.localtime(), "repeat": True}),
        (("nope",), {"start_in": 1}),
        ((5,), {}),
    ):
        try:
            aioschedule.schedule(*args, **kw)
            print("no error", args, kw)
        except (ValueError, TypeError) as e:
            print(type(e).__name__, e)
    print(aioschedule.unschedule("greetings"))
    aioschedule.schedule("x", start_in=10)
    print(aioschedule.unschedule("x"), aioschedule.unschedule("x"))
    n = len(starts["ok"])
    await asyncio.sleep_ms(50)
    print(len(starts["ok"]) > n, aioctl.group()["schedule_loop"][aioctl.STATE] == aioctl.RUNNING, sorted(aioschedule.group()))

asyncio.run(main())
"""
    )
    assert out.splitlines() == [
        "ValueError aioschedule: repeat -1 is negative",
        "ValueError schedule: repeat 0 must be more than 0",
        "TypeError aioschedule: repeat must be a number of seconds, not '5'",
        "ValueError aioschedule: start_in -2 is negative",
        "TypeError aioschedule: start_in must be a number of seconds, not True",
        "ValueError schedule: start_in (2024, 13, 1, 0, 0, 0, 0, 0) is not a time tuple",
        "ValueError schedule: start_in (2024, 1, 1) is not a time tuple",
        "ValueError schedule: start_in (2000, 1, 1, 0, 0, 0, 0, 0) is in the past",
        "ValueError schedule: repeat=True needs start_in in seconds, not a time",
        "ValueError schedule: no aioctl task 'nope'",
        "ValueError schedule: no aioctl task 5",
        "aioschedule: no schedule 'greetings'; scheduled: ok",
        "False",
        "aioschedule: no schedule 'x'; scheduled: ok",
        "True False",
        "True True ['ok']",
    ]


def test_watcher_restarts_failures_with_backoff(mp):
    out = mp.run(
        RECORDER
        + """
import aiolog
import minilog
log = minilog.Logger("w")
aioctl.set_log(aiolog.LogStream(4096))
log.stream = aioctl.log_stream
fails_at = {}

async def flaky(tag):
    fails_at.setdefault(tag, []).append(ms())
    await asyncio.sleep_ms(1)
    raise ValueError(tag)

async def main():
    T0[0] = time.ticks_ms()
    aioctl.add(aioschedule.watcher_loop, alog=log, sleep=30, backoff=0.02, max_backoff=0.1)
    aioctl.add(aioschedule.schedule_loop)
    aioctl.add(flaky, "again")
    aioctl.add(flaky, "once", name="noretry", _restart=False)
    aioctl.add(flaky, "sched", name="sched")
    aioschedule.schedule("sched", start_in=0.2)
    await asyncio.sleep_ms(400)
    print("again", " ".join(str(x) for x in fails_at["again"]))
    print("noretry", len(fails_at["once"]))
    print("sched", " ".join(str(x) for x in fails_at["sched"]))
    aioctl.status("flaky")
    aioctl.status("sched")

asyncio.run(main())
"""
    )
    lines = plain(out).splitlines()
    again = ints(lines[0])
    gaps = [b - a for a, b in zip(again, again[1:])]
    # first restart at once (not on the 30 s poll), then 20, 40, 80, then capped at 100 ms
    assert gaps[0] <= TOL, gaps
    for g, want in zip(gaps[1:], (20, 40, 80, 100, 100, 100)):
        assert want - 2 <= g <= want + TOL, gaps
    assert lines[1] == "noretry 1"
    sched = ints(lines[2])
    # start_in counts from schedule_loop's start, after watcher_loop's: on a
    # Pico that first loads aiowatch from flash (about 12 ms, emulated)
    late = TOL + (25 if mp.tier == "pico" else 0)
    assert len(sched) == 1 and 200 <= sched[0] <= 200 + late  # never started early by the watcher
    assert re.fullmatch(r"● flaky: status: (ERROR|running) .*", lines[3])
    assert "    ┗━► restarts: %d" % (len(again) - 1) in lines
    assert any(re.search(r"\[w\] \[ERROR\] \[flaky\] failed: ValueError: again; watcher_loop restarts it in 0 s", l) for l in lines)
    assert any(l.endswith("[flaky] restarted by watcher_loop (1)") for l in lines)
    assert re.fullmatch(r"● sched: status: scheduled - ERROR @ .*ValueError: sched", [l for l in lines if "sched:" in l][0])


def test_a_second_schedule_loop_is_refused(mp):
    out = mp.run(
        """
        import asyncio, aioctl, aioschedule

        async def main():
            aioctl.add(aioschedule.schedule_loop)
            aioctl.add(aioschedule.schedule_loop)
            aioctl.add(aioschedule.watcher_loop)
            aioctl.add(aioschedule.watcher_loop)
            await asyncio.sleep_ms(10)
            for n in ("schedule_loop", "schedule_loop@1", "watcher_loop", "watcher_loop@1"):
                print(n, aioctl.group()[n][aioctl.STATE], repr(aioctl.result(n)))

        asyncio.run(main())
        """
    )
    assert out.splitlines() == [
        "schedule_loop 1 None",
        "schedule_loop@1 4 RuntimeError('schedule_loop is already running',)",
        "watcher_loop 1 None",
        "watcher_loop@1 4 RuntimeError('watcher_loop is already running',)",
    ]


def test_watcher_backoff_does_not_depend_on_wall_seconds(mp):
    # aioctl keeps run times in whole wall-clock seconds. A stand-in time
    # module whose time() moves a second at every call makes each short run
    # look a second long: the backoff must still grow (it is timed on ticks).
    out = mp.run(
        """
        import asyncio, utime, sys, boardtime

        calls = [0]

        def time():
            calls[0] += 1
            return 1767225600 + calls[0]

        boardtime.time = time
        sys.modules["time"] = boardtime
        import aioctl, aioschedule

        fails = []

        async def flaky():
            fails.append(utime.ticks_ms())
            await asyncio.sleep_ms(1)
            raise ValueError("x")

        async def main():
            aioctl.add(aioschedule.watcher_loop, backoff=0.02, max_backoff=0.1)
            aioctl.add(flaky)
            await asyncio.sleep_ms(300)
            print(" ".join(str(utime.ticks_diff(b, a)) for a, b in zip(fails, fails[1:])))

        asyncio.run(main())
        """
    )
    gaps = [int(g) for g in out.split()]
    for g, want in zip(gaps[1:], (20, 40, 80, 100)):
        assert want - 2 <= g <= want + 10, gaps
