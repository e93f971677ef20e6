import re

import pytest

from helpers import DATE, TOL, ints, plain, sim

# Interval and wall-clock scheduling, status lines, the watcher. Those marked
# board run on the virtual Pico too, in its emulated time.


@pytest.mark.board
def test_waits_for_loop_then_runs_on_a_drift_free_grid(mp):
    out = mp.run(
        """
from recorder import *
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


@pytest.mark.board
def test_start_in_counts_from_the_call_once_the_loop_runs_and_floats_work(mp):
    out = mp.run(
        """
from recorder import *
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


@pytest.mark.board
def test_wall_clock_start_with_8_and_9_tuples(mp):
    # A stand-in wall clock 150 ms before a whole second; the schedule names
    # that second as a time tuple, so it must start 150 ms later.
    out = mp.run(
        """
from recorder import *
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


@pytest.mark.board
def test_overrun_is_not_stacked(mp):
    out = mp.run(
        """
from recorder import *
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


@pytest.mark.board
def test_blocked_loop_collapses_missed_runs_and_keeps_the_grid(mp):
    out = mp.run(
        """
from recorder import *
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


@pytest.mark.board
def test_idle_loop_does_not_wake_and_wakes_at_once_on_change(mp):
    out = mp.run(
        """
from recorder import *
from tickcount import reads

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


@pytest.mark.board
def test_ticks_wraparound(mp):
    # 30-bit ticks that wrap 120 ms after the start, as on a board after 12.4 days.
    out = mp.run(
        """
from recorder import *
from ticks30 import *
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


@pytest.mark.board
def test_waits_longer_than_the_ticks_horizon(mp):
    # A weekly repeat is longer than half a 32-bit ticks period (6.2 days): it
    # is waited for in steps. A hand-driven 30-bit clock jumps by hours.
    out = mp.run(
        """
from recorder import *
from ticks30 import *
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


@pytest.mark.board
def test_restarting_schedule_loop_keeps_cadence(mp):
    out = mp.run(
        """
from recorder import *
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


@pytest.mark.board
def test_status_lines_and_stop_start_keep_the_schedule(mp):
    out = mp.run(
        """
from recorder import *
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


@pytest.mark.board
def test_bad_input(mp):
    out = mp.run(
        """
from recorder import *
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


@pytest.mark.board
def test_watcher_restarts_failures_with_backoff(mp):
    out = mp.run(
        """
from recorder import *
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


@pytest.mark.board
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


@pytest.mark.board
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


# ------------------------------------------ found in review
# Bugs a code review found, each checked so it stays fixed.


def test_loop_stopped_poked_and_started_at_once_leaves_one_loop(mp):
    out = mp.run(
        """
        import asyncio, aioctl, aioschedule
        n = [0]
        async def job():
            n[0] += 1
        async def main():
            aioctl.add(job)
            aioschedule.schedule("job", start_in=0.1, repeat=0.1)
            aioctl.add(aioschedule.schedule_loop)
            await asyncio.sleep_ms(150)
            old = aioctl.group()["schedule_loop"][aioctl.TASK]
            aioctl.stop("schedule_loop")
            aioschedule.schedule("job", start_in=0.1, repeat=0.1)  # wakes the cancelled loop
            aioctl.start("schedule_loop")
            await asyncio.sleep_ms(500)
            print(old.done(), aioctl.group()["schedule_loop"][aioctl.STATE] == aioctl.RUNNING, n[0] >= 4)
            aioctl.stop("schedule_loop")
            await asyncio.sleep_ms(250)
            k = n[0]
            await asyncio.sleep_ms(250)
            print(n[0] == k)  # no orphan loop left firing
        asyncio.run(main())
        """
    )
    assert out.splitlines() == ["True True True", "True"]


def test_clock_rebase_after_six_days_keeps_everything_on_time(mp):
    # The scheduler's clock shifts down every 2**28 ms (3.1 days); each time
    # kept on it must shift too.
    out = sim(
        mp,
        """
    aiocron.clock_check(2020)
    at(2025, 1, 1, 0, 0, 0)
    add("daily", hrs=6, mins=30)
    add("plain", start_in=3600, repeat=3600)
    add("opts", start_in=3600, repeat=3600, misfire="skip")
    add("parked", start_in=3600, repeat=3600)
    await start_loop()
    await advance(3 * 3600000)
    aioctl.stop("parked")
    while wall[0] < aiocron.mktime((2025, 1, 8, 0, 30, 0)) * 1000:
        await step(["daily", "plain", "opts"])
    print(fmt(aiocron.next_runs("opts", 1)[0]), aiocron.info("opts")["skipped"], aiocron.info("plain")["skipped"])
    aioctl.start("parked")
    print(aiocron.info("parked")["next_in"] <= 3600000)
    # the wall clock jumps back 3 h and nobody calls clock_set()
    await advance(120000, 120000 - 3 * 3600000)
    await advance(120000)
    print(round(aiocron.info("daily")["next_in"] / 3600000, 2))
""",
    )
    # on the hour after 7 days; skipped: the 3 h advance at the start (plain:
    # 2 starts collapsed; opts: those 2 and the late one its misfire drops),
    # never negative
    assert out[0] == "2025-01-08 02:00:00 3 2"
    assert out[1] == "True"
    # now 01-08 01:04 - 3 h = 01-07 22:04: 06:30 is 8.43 h away (5.43 if the
    # jump went unnoticed)
    assert out[2] == "8.43"


def test_a_task_that_stops_itself_keeps_its_schedule_and_result_is_none_while_running(mp):
    out = mp.run(
        """
        import asyncio, aioctl, aioschedule
        runs = [0]
        async def job():
            runs[0] += 1
            if runs[0] == 1:
                print(aioctl.stop("job"))
            await asyncio.sleep_ms(20)
            return runs[0]
        async def main():
            aioctl.add(job)
            aioschedule.schedule("job", start_in=0.05, repeat=0.05)
            aioctl.add(aioschedule.schedule_loop)
            await asyncio.sleep_ms(260)
            print(runs[0] >= 4, aioctl.result("job"))
        asyncio.run(main())
        """
    )
    lines = out.splitlines()
    assert lines[0] == "aioctl: job cannot stop itself; return from it instead"
    assert lines[1] == "False"
    assert lines[2] in ("True None", "True %s" % lines[2].split()[1])
    # a run is going on at 260 ms (each takes 20 of every 50 ms) or not: the
    # result is None exactly while one runs
    assert lines[2].split()[1] == "None" or lines[2].split()[1].isdigit()


def test_a_start_that_fails_for_want_of_memory_loses_nothing(mp):
    # The soak on a full heap: create_task raised MemoryError inside
    # schedule_loop, which had taken the schedule out of its heap and never
    # put it back (and counted a run that never started); the loop then died.
    # And launch() set the record RUNNING before it made the asyncio Task, so
    # after the MemoryError the record said RUNNING with no run for ever and
    # every later start was skipped as "still running" (the soak at 96K lost
    # starts this way). Here create_task fails on the 3rd and 4th run, for
    # plain and queued (aiojob) starts: the record is left as it was, the
    # start is tried again 100 ms later, the loop lives.
    for opts in ("", ", priority=1"):
        out = mp.run(
            """
            import asyncio, aioctl, aioschedule, aiocron
            runs = [0]
            async def job():
                runs[0] += 1
            orig = asyncio.create_task
            calls = [0]
            seen = []
            def create_task(coro):
                if repr(coro).startswith("<generator object 'job' "):  # the job's run, stepped by asyncio
                    calls[0] += 1
                    if calls[0] in (3, 4):
                        t = aioctl.group()["job"]
                        seen.append((t[aioctl.STATE], t[aioctl.TASK]))
                        raise MemoryError("simulated: heap full")
                return orig(coro)
            async def main():
                aioctl.add(job)
                aioschedule.schedule("job", start_in=0.02, repeat=0.02%s)
                asyncio.create_task = create_task
                aioctl.add(aioschedule.schedule_loop)
                await asyncio.sleep_ms(410)
                asyncio.create_task = orig
                info = aiocron.info("job")
                print(len(seen), seen[0][0] != aioctl.RUNNING, seen[1][1] is None)
                print(runs[0] >= 7, info["runs"] == runs[0], info["state"])
                print(aioctl.group()["schedule_loop"][aioctl.STATE] == aioctl.RUNNING)
            asyncio.run(main())
            """ % opts
        )
        assert out.splitlines() == ["2 True True", "True True scheduled", "True"], (opts, out)


@pytest.mark.board
def test_many_schedules_start_in_due_order_across_the_heap_levels(mp):
    # 400 schedules: more than one group of parts (16 x 16), so the heap has
    # all three levels, and the earliest is in the last group. Once 60 have
    # started, most of the rest are removed (dead in the heap) and 20 of
    # those made again, which drops the dead ones; all start in due order.
    out = mp.run(
        """
        import asyncio, aioctl, aioschedule
        order = []
        async def job(i):
            order.append(i)
        def due(i):
            return 50 + (399 - i) * 263 % 400  # ms after the loop's start, all apart
        async def main():
            for i in range(400):
                aioctl.add(job, i, name="j%d" % i)
                aioschedule.schedule("j%d" % i, start_in=due(i) / 1000)
            aioctl.add(aioschedule.schedule_loop)
            while len(order) < 60:
                await asyncio.sleep_ms(2)
            # (flags in a bytearray, no big lists: the Pico's heap is fragmented by now)
            first = len(order)
            state = bytearray(400)  # 1: started; 2: removed; 3: made again
            for i in range(400):
                # (started, not only stepped: a run made in the last pass may not have begun)
                if aioctl.group()["j%d" % i][aioctl.STATE] != aioctl.NEW:
                    state[i] = 1
            again = []
            n = 400
            for i in range(400):
                if i % 8 < 5 and not state[i]:
                    state[i] = 2
                    n -= 1
                    aioschedule.unschedule("j%d" % i)
                    if len(again) < 20:
                        again.append(i)
            for k, i in enumerate(again):
                state[i] = 3
                aioschedule.schedule("j%d" % i, start_in=0.6 + k * 0.002)
                n += 1
            while len(order) < n:
                await asyncio.sleep_ms(20)
            await asyncio.sleep_ms(50)
            ok = len(order) == n == len(aioschedule.group()) and order[n - 20:] == again
            for k in range(n - 21):
                ok = ok and due(order[k]) < due(order[k + 1])
            for i in order:
                ok = ok and state[i] != 2
            print(ok, first >= 60)
        asyncio.run(main())
        """,
        timeout=120,
    )
    assert out.split() == ["True", "True"], out


# ------------------------------------------- what a board does
# The heap full at the worst moment, files written by someone else, weeks
# of uptime, jobs that raise anything: each test failed on the code before
# the fix it names.


def test_a_full_heap_at_any_point_leaves_every_schedule_whole(mp):
    # next_run(), aioctl.stop()/start() and schedule() each run with the
    # heap full but for `room` bytes, room swept from 0 up, so each of their
    # allocations fails in turn. After each: exactly one live record of the
    # task in the heap, the one group() gives (or none while set aside),
    # and either all of the change or none of it. A ghost (a live record
    # that group() no longer gives) kept starting a task that had chosen its
    # next start (the soak's hog mode found it: next_run() pushed the new
    # record, then a Names.pop() that made a tuple failed).
    out = mp.run("""
import sys, asyncio, aioctl, aioschedule
from fillheap import squeeze, cut
aioheap = sys.modules["aioheap"]
# schedule record: 0 due, 4 flag (0 live, 1 pending, 2 dead, 3 over); options 1 at, 5 base
bad = []
def whole(name, what, room):
    live = 0
    for s in aioheap.items():
        if s[2] == name and s[4] == 0:
            live += 1
            if s is not aioschedule.group().get(name):
                bad.append((what, room, "ghost"))
    a, p = aioschedule.group().get(name), aioschedule.parked.get(name)
    want = 1 if a and a[4] == 0 else 0
    if live != want or a and p or not (a or p):
        bad.append((what, room, live, a, p))
def sweep(what, name, op, changed):
    # op() under each room until it works; changed(): did the change happen?
    fails = wins = 0
    junk = None
    for room in range(0, 4000, 16):
        before = aioschedule.group().get(name) or aioschedule.parked.get(name)
        if before is None:
            bad.append((what, room, "lost"))
            break
        copy, x = before[:], aioschedule.extras.get(name)
        xcopy = x[:] if x else None
        junk = squeeze(room)
        try:
            op(room)
            ok = True
        except MemoryError:
            ok = False
        cut(junk)
        junk = None
        whole(name, what, room)
        if ok:
            wins += 1
            if not changed(before):
                bad.append((what, room, "no change"))
            break
        else:
            fails += 1
            now = aioschedule.group().get(name) or aioschedule.parked.get(name)
            if now is not before or now[:5] != copy[:5] or x and aioschedule.extras.get(name) != xcopy:
                bad.append((what, room, "half", now, copy))
    print(what, fails > 0, wins)
async def job():
    next_run = aioschedule.next_run  # loads aiojob (an import on a full heap fails)
    n = [5]
    def nr(room):
        n[0] = 11 - n[0]  # 5, 6, 5...: each success changes the due time
        next_run(n[0])
    def moved(before):
        s = aioschedule.group().get(me[0])
        return s is not before and before[4] == 2 and 4000 < s[0] - aioschedule.now_ms() <= 6000
    sweep("next_run", me[0], nr, moved)
    done.append(me[0])
me = ["a"]
done = []
async def main():
    aioctl.add(aioschedule.schedule_loop)
    for i in range(40):
        aioctl.add(asyncio.sleep, 5, name="t%d" % i)
        aioschedule.schedule("t%d" % i, start_in=100, repeat=60)
    aioctl.add(job, name="a")
    aioschedule.schedule("a", start_in=0, repeat=30)
    while len(done) < 1:
        await asyncio.sleep_ms(5)
    me[0] = "c"
    aioctl.add(job, name="c")
    aioschedule.schedule("c", secs=range(60), mins=None)  # each second, on the wall clock
    while len(done) < 2:
        await asyncio.sleep_ms(5)
    def stop(room):
        if aioctl.stop("t7") is False:
            raise MemoryError  # printed a failure, changed nothing
    sweep("stop", "t7", stop, lambda b: "t7" in aioschedule.parked and "t7" not in aioschedule.group())
    def start(room):
        aioctl.start("t7")
    sweep("start", "t7", start, lambda b: "t7" in aioschedule.group() and "t7" not in aioschedule.parked)
    r = [1]
    def sch(room):
        r[0] = 3 - r[0]
        aioschedule.schedule("t9", start_in=50, repeat=r[0])
    sweep("schedule", "t9", sch, lambda b: aioschedule.group()["t9"][3] != b[3])
    print("bad", bad[:3])
asyncio.run(main())
""", heap="256K", timeout=120)
    assert out.split("\n")[:6] == ["next_run True 1", "next_run True 1", "stop True 1", "start True 1", "schedule True 1",
                                   "bad []"], out


def test_a_heap_spike_costs_no_loop_and_no_start(mp):
    # A job fills the heap for 200 ms. Both loops live on, runs that end in
    # the spike are recorded, and every due start of a 20 ms schedule is
    # counted as run or skipped.
    out = mp.run("""
import gc
from fillheap import fill
import asyncio, time, aioctl, aioschedule
n = [0]
async def tick():
    n[0] += 1
async def short():
    await asyncio.sleep_ms(30)   # ends while the heap is full
async def hog():
    await asyncio.sleep_ms(100)
    junk = fill()
    await asyncio.sleep_ms(200)
    junk = None
    gc.collect()
async def main():
    aioctl.add(tick)
    aioschedule.schedule("tick", start_in=0, repeat=0.02)
    aioctl.add(short)
    aioschedule.schedule("short", start_in=0.08, repeat=0.1)
    aioctl.add(aioschedule.schedule_loop)
    aioctl.add(aioschedule.watcher_loop, sleep=0.05)
    aioctl.add(hog)
    await asyncio.sleep_ms(500)
    k = n[0]
    await asyncio.sleep_ms(100)
    g = aioctl.group()
    print("loops", g["schedule_loop"][aioctl.STATE] == aioctl.RUNNING, g["watcher_loop"][aioctl.STATE] == aioctl.RUNNING)
    print("ticks go on", n[0] - k >= 3)
    print("short", g["short"][aioctl.STATE] in (aioctl.DONE, aioctl.RUNNING), aioschedule.group()["short"][5] >= 4)
    s = aioschedule.group()["tick"]
    print("accounted", (s[0] - aioschedule.t0) // 20 == s[5] + s[6], s[5] + s[6])
asyncio.run(main())
""", heap="256K")
    text = out + mp.last.stderr
    assert "Task exception" not in text, text
    lines = out.splitlines()
    assert lines[0] == "loops True True", text
    assert lines[1] == "ticks go on True", text
    assert lines[2] == "short True True", text
    assert lines[3].startswith("accounted True"), text


def test_twenty_days_of_uptime_with_every_option(mp, capsys):
    # 30-bit ticks wrap every 12.4 days; the scheduler's clock is rebased
    # every 3.1 days. Saves, retries, queue waits, watcher restarts and
    # clock checks all go on across it.
    out = sim(mp, """
    import aiostore, aiowatch
    aiocron.clock_check(2020)
    at(2025, 1, 1, 0, 0, 0)
    fails = [0]
    async def flaky():
        fails[0] += 1
        if fails[0] % 2:
            raise ValueError("every other run")
    async def crash():
        raise OSError("crash")
    aioctl.add(flaky)
    aioschedule.schedule("flaky", start_in=0, repeat=6 * 3600, max_retries=1, retry_delay=60)
    add("daily", hrs=6, mins=30)
    add("plain", start_in=3600, repeat=4 * 3600, priority=1)
    add("twin", start_in=3600, repeat=4 * 3600)
    aioctl.add(crash)
    aioschedule.persist("u.json", every=600)
    aioctl.add(aioschedule.schedule_loop, max_concurrent=1)
    aioctl.add(aioschedule.watcher_loop, sleep=3600, backoff=60, max_backoff=120)
    await settle()
    saved = set()
    rebases = 0
    last_ms = aioschedule._ms
    state = aiostore._state
    day0 = wall[0] // 86400000
    end = aiocron.mktime((2025, 1, 21, 23, 0, 0)) * 1000
    while wall[0] < end:
        await step()
        aiowatch.nap.wake()
        await settle()
        if aioschedule._ms < last_ms:
            rebases += 1
        last_ms = aioschedule._ms
        if aiostore._state != state:   # a write
            state = aiostore._state
            saved.add(wall[0] // 86400000 - day0)
    g = aioschedule.group()
    print("rebases", rebases)
    print("days with saves", saved >= set(range(21)), sorted(saved))
    print("daily", g["daily"][5], "plain", g["plain"][5], "twin", g["twin"][5])
    print("flaky", g["flaky"][5] == fails[0] >= 168, fails[0])
    print("restarts", aiowatch.restarts["crash"] > 200, aiowatch.restarts["crash"])
    print("file", aioschedule.save())
""")
    text = "\n".join(out)
    with capsys.disabled():  # the figures, in the test log too
        print("\nuptime simulation (%s, %s): 21 days, ticks wrapping at 2**30: %s" % (mp.tier, mp.kind, "; ".join(out)))
    assert out[0] == "rebases 5", text  # at 6.2 days, then every 3.1
    assert out[1].startswith("days with saves True"), text
    assert out[2] == "daily 21 plain 126 twin 126", text
    # every 6 h, each failed run retried once, every run counted
    assert out[3].startswith("flaky True"), text
    assert out[4].startswith("restarts True"), text
    assert out[5] == "file 4", text


# --------------------------------------------------- found by the fuzz
# Inputs the MicroPython fuzz (test_fuzz.py) found crashing the interpreter.


def test_inputs_that_crashed_the_interpreter(mp):
    # What the fuzz found, one by one: each used to end in a segfault.
    out = mp.run(
        """
        import asyncio, aioctl, aioschedule, aiocron, aiolog

        async def job():
            await asyncio.sleep_ms(1)

        async def main():
            aioctl.add(job)
            aioctl.set_log(aiolog.LogStream(256))
            aioctl.log(job())  # a coroutine object as a grep pattern
            aioctl.log(5)
            for kw in (dict(start_in=1e30), dict(start_in=1, repeat=10 ** 12),
                       dict(start_in=(99999, 1, 1, 0, 0, 0, 0, 0)), dict(wday=job()), dict(cron=7)):
                try:
                    aioschedule.schedule("job", **kw)
                except (ValueError, TypeError) as e:
                    print(type(e).__name__, str(e)[:60])
            await asyncio.sleep_ms(5)
            aioctl.status("job")
            print("alive")

        asyncio.run(main())
        """
    )
    lines = out.splitlines()
    assert lines[0] == "ValueError aioschedule: start_in 1e+30 is more than 10**9 s"
    assert lines[1] == "ValueError aioschedule: repeat 1000000000000 is more than 10**9 s"
    assert lines[2] == "ValueError schedule: start_in (99999, 1, 1, 0, 0, 0, 0, 0) is not a tim"
    assert lines[3].startswith("ValueError bad wday <generator object 'job' at ")
    assert lines[4] == "TypeError cron: 7 is not a cron string"
    assert "job: status: done @" in lines[5]
    assert lines[-1] == "alive"


IDLE_GC = """
import asyncio, aioctl, aioschedule
began, collects = [], []
class GC:  # a stand-in for the gc module: when did schedule_loop collect?
    def collect(self):
        collects.append(len(began))
aioschedule.gc = GC()
aioschedule.idle_gc = %s
async def job(i):
    began.append(i)
async def main():
    for i in range(%d):
        aioctl.add(job, i, name="j%%d" %% i)
        aioschedule.schedule("j%%d" %% i, start_in=0.05, repeat=%s)
    aioctl.add(aioschedule.schedule_loop)
    await asyncio.sleep_ms(400)
    print("began", len(began), "collects", collects)
asyncio.run(main())
"""


@pytest.mark.board
@pytest.mark.parametrize("on, n, every, want", [
    (True, 70, 1, [70]),  # once, after the 70 runs began, before the next start 1 s on
    (True, 40, 1, []),  # fewer than 64 starts since the loop began
    (False, 70, 1, []),  # idle_gc off
    (True, 70, 0.08, []),  # never 100 ms idle: 5 bursts of 70, no collection
], ids=["collects", "few", "off", "busy"])
def test_the_loop_collects_garbage_while_idle_after_the_runs_began(mp, on, n, every, want):
    out = mp.run(IDLE_GC % (on, n, every))
    began = int(out.split()[1])
    assert out.split("\n")[0].endswith("collects %s" % want), out
    if every < 1:
        assert began >= n  # (how many bursts depends on the machine's load)
    else:
        assert began == n
