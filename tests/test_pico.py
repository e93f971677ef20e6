# Board facts, used for real on the virtual Raspberry Pi Pico (tools/vpico.py:
# the RPI_PICO firmware v1.27 in rp2040js): the clock that reads 2021-01-01
# at boot, wall-clock schedules that wait for it and then fire on the second,
# an int time.time() and 8-tuple localtime(), schedules kept on the board's
# littlefs across a soft reset and a power cycle, the real machine.WDT fed
# by watcher_loop (and a starved one resetting the board), and the library
# from source. Time is the Pico's emulated time (run() skips idle time, so a
# minute of waiting costs a fraction of a second).
#
# These tests are the pico tier only (their tier is "pico" in the summary);
# they skip or fail as that tier does. Each that needs a fresh boot or a
# kept flash image boots a Pico of its own; the others use the session's.

import calendar
import json
import re

import pytest

import conftest
from conftest import LIB

W0 = (2027, 1, 15, 6, 29)  # the day of these tests, to the minute


@pytest.fixture
def fresh_pico(pico_board, mpy_dir, tmp_path):
    """fresh_pico(flash=None) -> a Pico just booted (its clock unset), the
    library's .mpy files in /lib; closed at the end of the test."""
    vpico = pico_board.vpico
    made = []

    def boot(flash=None):
        p = vpico.Pico([mpy_dir], flash=flash)
        made.append(p)
        return p

    yield boot
    for p in made:
        p.close()


def run(p, code, timeout=120, **kw):
    out, err, rc = p.run(code, timeout=timeout, **kw)
    assert rc == 0 and not err, "exit %d\n--- stdout\n%s--- stderr\n%s" % (rc, out, err)
    return out.splitlines()


# The board's clock set as NTP or `mpremote rtc --set` would (weekday from
# the date), from inside a program.
RTC = """
import machine, time
def rtc(y, mo, d, h, mi, s):
    wd = time.localtime(time.mktime((y, mo, d, h, mi, s, 0, 0)))[6]
    machine.RTC().datetime((y, mo, d, wd, h, mi, s, 0))
"""


def test_time_and_machine_as_the_board_has_them(fresh_pico):
    p = fresh_pico()
    out = run(p, """
import sys, time, machine
t = time.localtime()
print(sys.platform, t[:3], t[3] == 0 and t[4] == 0)
print(len(t), type(time.time()).__name__, time.time() - time.mktime(t) in (0, 1))
print(time.ticks_add(2**30 - 1, 1), time.ticks_diff(0, 2**30 - 1))
print(hasattr(machine, "WDT"), hasattr(machine, "RTC"))
""")
    assert out == [
        "rp2 (2021, 1, 1) True",  # the clock is not set at boot
        "8 int True",  # localtime() an 8-tuple, time() whole seconds
        "0 1",  # ticks_ms wraps at 2**30
        "True True",
    ]


# water: 06:30:00 every day. The board boots with its clock at 2021; the
# schedule waits (clock_check's 2024) while the loop looks again every 60 s.
# After 90 s the clock is set to 06:29:SET_S (NTP); with CLOCK_SET the app
# calls aiocron.clock_set() as the README says. "noticed": ms from the set
# until the schedule's due time is a real start (06:30:00 today or
# tomorrow), no longer the next clock check; or it has run.
CALENDAR = RTC + """
import asyncio, aioctl, aioschedule, aiocron
fired = []

async def water():
    fired.append((time.localtime()[:6], time.ticks_ms()))

async def main():
    aioctl.add(water)
    aioschedule.schedule("water", hrs=6, mins=30)
    aioctl.add(aioschedule.schedule_loop)
    await asyncio.sleep(90)
    print("unset", time.localtime()[0], len(fired))
    rtc(2027, 1, 15, 6, 29, SET_S)
    t_set = time.ticks_ms()
    if CLOCK_SET:
        aiocron.clock_set()
    noticed = None
    T = time.mktime((2027, 1, 15, 6, 30, 0, 0, 0)) * 1000
    info = aiocron.info  # kept: aioinfo is let go after each call otherwise
    while noticed is None and time.ticks_diff(time.ticks_ms(), t_set) < 120000:
        due = time.time_ns() // 1000000 + info("water")["next_in"] - T
        if fired or abs(due) < 1000 or abs(due - 86400000) < 1000:
            noticed = time.ticks_diff(time.ticks_ms(), t_set)
        else:
            await asyncio.sleep_ms(500)
    await asyncio.sleep_ms(120000 - time.ticks_diff(time.ticks_ms(), t_set))
    print("noticed", noticed)
    print("fired", fired[0][0] if fired else None, time.ticks_diff(fired[0][1], t_set) if fired else None)
    i = aiocron.info("water")
    print("runs", len(fired), i["runs"], i["skipped"], aiocron.next_runs("water", 1)[0][:6])

asyncio.run(main())
"""


@pytest.mark.parametrize(
    "clock_set, set_s",
    [(True, 50), (False, 0), (False, 50)],
    ids=["clock_set-10s-before", "no-clock_set-60s-before", "no-clock_set-10s-before"],
)
def test_calendar_waits_for_the_clock_then_fires_on_the_second(fresh_pico, clock_set, set_s):
    p = fresh_pico()
    code = CALENDAR.replace("SET_S", str(set_s)).replace("CLOCK_SET", str(clock_set))
    out = run(p, code, timeout=180)
    print("\n".join(out))  # the figures, for -s
    assert out[0] == "unset 2021 0", out  # 90 s at 2021: it never started
    noticed = int(out[1].split()[1])
    due = (60 - set_s) * 1000  # ms from setting the clock to 06:30:00
    on_time = "fired (2027, 1, 15, 6, 30, 0) %d"
    if clock_set:
        assert noticed <= 500, out  # at once
    else:
        assert noticed <= 60000 + 500, out  # the README's bound: the next check, within 60 s
    if out[2] != "fired None None":
        assert noticed < due + 500, out
        # On the second (time_ns gives the loop the clock's sub-second too),
        # once, and tomorrow's is next.
        m = re.fullmatch(on_time.replace("%d", r"(\d+)").replace("(2", r"\(2").replace("0)", r"0\)"), out[2])
        assert m and due <= int(m.group(1)) <= due + 50, out
        assert out[3] == "runs 1 1 0 (2027, 1, 16, 6, 30, 0)", out
    else:
        # Noticed after 06:30:00: a clock that was not set has no missed
        # starts; its first valid time starts the next match (README), so
        # today's 06:30 neither runs nor counts as skipped.
        assert noticed > due, out
        assert out[2:] == ["fired None None", "runs 0 0 0 (2027, 1, 16, 6, 30, 0)"], out


# The application's boot code (main.py on a board), as the README's persist()
# example: tasks added, persist(), the schedules made with conflict="ignore",
# then schedule_loop, for SECS seconds. "cal" 06:30 daily, "tick" every 60 s,
# "once" 5 min after the first boot.
APP = RTC + """
import asyncio, aioctl, aioschedule, aiocron
runs = {}

async def job(tag):
    runs[tag] = runs.get(tag, 0) + 1

async def main():
    for n in ("cal", "tick", "once"):
        aioctl.add(job, n, name=n)
    print("persist", sorted(aioschedule.persist("/schedules.json", every=1).items()))
    aioschedule.schedule("cal", hrs=6, mins=30, conflict="ignore")
    aioschedule.schedule("tick", start_in=60, repeat=60, conflict="ignore")
    aioschedule.schedule("once", start_in=300, conflict="ignore")
    aioctl.add(aioschedule.schedule_loop)
    BODY
    g = aioschedule.group()
    print("at", time.localtime()[:6])
    print("runs", sorted((n, runs.get(n, 0), g[n][5], g[n][6]) for n in ("cal", "tick", "once")))
    print("saved", aioschedule.save())

asyncio.run(main())
"""


def saved(p):
    # The schedules file as the board left it on its flash (littlefs, read
    # from the image): {name: (runs, skipped)}.
    lines = p.read_file("/schedules.json").decode().splitlines()
    assert lines[0] == "aiostore 2" and len(lines) == 5, lines
    return {r[0]: (r[8], r[9]) for r in map(json.loads, lines[1:-1])}


def runs(out):
    line = [s for s in out if s.startswith("runs ")][0]
    return {n: (mine, total, skipped) for n, mine, total, skipped in eval(line[5:])}


def test_schedules_survive_a_soft_reset_and_a_power_cycle_on_littlefs(fresh_pico, tmp_path):
    image = str(tmp_path / "flash.img")
    p = fresh_pico(flash=image)
    p.set_rtc(calendar.timegm(W0 + (0,)))

    # First boot at 06:29:00: cal at 06:30:00, tick each minute from 06:30.
    out = run(p, APP.replace("BODY", "await asyncio.sleep(150)"))
    assert out[0] == "persist [('dropped', []), ('kept', []), ('restored', [])]", out
    assert out[1] == "at (2027, 1, 15, 6, 31, 30)", out
    assert runs(out) == {"cal": (1, 1, 0), "tick": (2, 2, 0), "once": (0, 0, 0)}, out
    assert saved(p) == {"cal": (1, 0), "tick": (2, 0), "once": (0, 0)}

    # A soft reset (Ctrl-D: the heap and modules go, the RTC runs on): all
    # restored, counts go on; "once" comes due 5 min after the first boot.
    out = run(p, APP.replace("BODY", "await asyncio.sleep(200)"))
    assert out[0] == "persist [('dropped', []), ('kept', []), ('restored', ['cal', 'once', 'tick'])]", out
    r = runs(out)
    assert r["cal"] == (0, 1, 0) and r["once"] == (1, 1, 0), out
    assert r["tick"][0] in (3, 4) and r["tick"][1] == 2 + r["tick"][0] and r["tick"][2] == 0, out
    ticks = r["tick"][1]
    assert saved(p) == {"cal": (1, 0), "tick": (ticks, 0), "once": (1, 0)}

    # A power cycle: a new emulator on the same flash image. The RTC reads
    # 2021 again: nothing is restored until the clock is set (NTP, 20 s in),
    # then everything is, by the loop; the hour "tick" missed while the board
    # was off (06:36 to 07:35) is one run, the rest counted as skipped.
    p.restart()
    body = """await asyncio.sleep(20)
    print("before", time.localtime()[0], sorted(runs.items()))
    rtc(2027, 1, 15, 7, 35, 30)
    await asyncio.sleep(10)"""
    out = run(p, APP.replace("BODY", body))
    assert out[0] == "aiostore: the wall clock is not set: saved schedules wait for it", out
    assert out[1] == "persist [('dropped', []), ('kept', []), ('restored', [])]", out
    assert out[2] == "before 2021 []", out  # "tick" waits 60 s, "once" 5 min: nothing yet
    r = runs(out)
    assert r["cal"] == (0, 1, 0) and r["once"] == (0, 1, 0), out  # not again
    assert r["tick"][:2] == (1, ticks + 1) and r["tick"][2] > 50, out
    assert saved(p)["tick"] == (ticks + 1, r["tick"][2])


def test_watcher_loop_feeds_the_real_watchdog_and_a_starved_one_resets_the_board(fresh_pico):
    p = fresh_pico()
    vpico = conftest.tool_module("vpico")
    code = """
import asyncio, time, machine, aioctl, aioschedule

async def sensor():
    while True:
        await asyncio.sleep_ms(200)

async def main():
    wdt = machine.WDT(timeout=2000)
    aioctl.add(sensor)
    aioctl.add(aioschedule.watcher_loop, wdt=wdt, critical=("sensor",), feed=1, sleep=30)
    await asyncio.sleep(20)  # ten times the timeout: fed every second
    print("fed for 20 s", machine.reset_cause() == machine.PWRON_RESET)
    aioctl.stop("sensor")  # critical, stopped: not fed any more
    t = time.ticks_ms()
    while True:
        await asyncio.sleep_ms(100)
        print("starved", time.ticks_diff(time.ticks_ms(), t))

asyncio.run(main())
"""
    with pytest.raises(vpico.PicoReset) as e:
        p.run(code, timeout=120)
    out = e.value.out.splitlines()
    print("%s; reset after '%s'" % (out[0], out[-1]))
    assert out[0] == "fed for 20 s True", out
    last = int(out[-1].split()[1])
    # The last feed was at most `feed` (1 s) before the stop: the reset
    # comes 1-2 s after it (the timeout, less the time since that feed).
    assert 900 <= last <= 2000, out
    # The board booted again (vpico reports the reset and restarts it). The
    # emulator does not keep the cause: it reads power-on, where a real
    # RP2040 says WDT_RESET; the clock is back at 2021 too.
    out = run(p, "import machine, time\nprint(machine.reset_cause(), machine.WDT_RESET, time.localtime()[0])\n")
    assert out == ["%d 3 2021" % 1], out


def test_the_library_from_source_on_the_board(pico_board):
    # The .py files compiled on the Pico itself (what `mpremote cp lib/*.py`
    # gives): the core and a schedule, and the heap that leaves.
    res = pico_board.run([LIB], """
import gc, asyncio, aioctl, aioschedule, aiolog
gc.collect()
free = gc.mem_free()
out = []

async def job():
    out.append(1)

async def main():
    aioctl.add(job)
    aioschedule.schedule("job", start_in=0.05)
    aioctl.add(aioschedule.schedule_loop)
    await asyncio.sleep_ms(100)

asyncio.run(main())
print(aioctl.__file__, out, aioctl.result("job"), free // 1024)
""", timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    words = res.stdout.split()
    assert words[:4] == ["/lib/aioctl.py", "[1]", "None", words[3]] and int(words[3]) > 150, res.stdout
