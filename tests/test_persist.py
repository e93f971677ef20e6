# Schedules kept in a file across resets (aioschedule.persist), the
# deep-sleep cycle (save, idle_seconds, restore on wake-up), broken files and
# processes killed while they write. A reset is a new MicroPython process;
# the wall clock is moved on between processes through aioschedule.clock().

import os

from conftest import ROOT
from test_aioschedule import plain

HOUR = 3600
W0 = 1800000000  # 2027-01-15 08:00:00 UTC

APP = """
import sys, asyncio, time, aioctl, aioschedule
W = int(sys.argv[1]) * 1000
t0 = time.ticks_ms()
aioschedule.clock(wall_ms=lambda: W + time.ticks_diff(time.ticks_ms(), t0))
runs = {}

async def job(tag):
    runs[tag] = runs.get(tag, 0) + 1

def sched():
    # what the application does at every boot
    for n in ("hourly", "daily", "once", "cal", "parked"):
        aioctl.add(job, n, name=n)
    print("persist", sorted(aioschedule.persist("s.json").items()))
    aioschedule.schedule("hourly", start_in=0, repeat=HOUR, conflict="ignore", misfire="run")
    aioschedule.schedule("daily", start_in=0, repeat=24 * HOUR, conflict="ignore", max_retries=2, priority=3)
    aioschedule.schedule("once", start_in=2 * HOUR, conflict="ignore")
    aioschedule.schedule("cal", hrs=6, conflict="ignore")
    aioschedule.schedule("parked", start_in=0, repeat=60, conflict="ignore")

def counts():
    g = aioschedule.group()
    return sorted((n, runs.get(n, 0), g[n][5], g[n][6]) for n in g)
""".replace("HOUR", str(HOUR))


def _run(mp, code, wall, check=True):
    # a boot: the script gets the wall clock's seconds in sys.argv[1]
    return plain(mp.run(code, args=[str(wall)], check=check))


RUN = """
async def main():
    sched()
    aioctl.add(aioschedule.schedule_loop)
    await asyncio.sleep_ms(40)
    if "stop" in sys.argv[2:] or FIRST:
        aioctl.stop("parked")
    print("idle", aioschedule.idle_seconds(), "saved", aioschedule.save())
    print("counts", counts())

asyncio.run(main())
"""


def test_a_reset_loses_nothing_and_runs_nothing_twice(mp):
    first = _run(mp, APP + "FIRST = True\n" + RUN, W0)
    assert "persist [('dropped', []), ('kept', []), ('restored', [])]" in first
    # hourly and daily ran at boot; "parked" ran once and was stopped
    assert "counts [('cal', 0, 0, 0), ('daily', 1, 1, 0), ('hourly', 1, 1, 0), ('once', 0, 0, 0)]" in first
    assert "saved 5" in first

    # the board is off for 2 h 1 min: hourly was due twice (one run, one
    # skipped), once was due (runs late, misfire "run"), daily and cal are not due
    second = _run(mp, APP + "FIRST = False\n" + RUN, W0 + 2 * HOUR + 60)
    assert "persist [('dropped', []), ('kept', []), ('restored', ['cal', 'daily', 'hourly', 'once', 'parked'])]" in second
    assert "counts [('cal', 0, 0, 0), ('daily', 0, 1, 0), ('hourly', 1, 2, 1), ('once', 1, 1, 0)]" in second
    assert "saved 5" in second  # once has run: kept as such, so boot code does not make it again

    # a reset a second later: nothing is due, nothing runs again
    third = _run(mp, APP + "FIRST = False\n" + RUN, W0 + 2 * HOUR + 61)
    assert "counts [('cal', 0, 0, 0), ('daily', 0, 1, 0), ('hourly', 0, 2, 1), ('once', 0, 1, 0)]" in third
    # the stopped schedule came back stopped, and start() puts it back
    assert "'parked'" not in third.split("counts")[1]


def test_restored_state_shows_and_policies_come_back(mp):
    _run(mp, APP + "FIRST = True\n" + RUN, W0)
    out = _run(mp, APP + """
async def main():
    sched()
    import aiojob
    print("policy", aiojob.policies.get("daily"))
    g = aioctl.group()
    print("parked", g["parked"][aioctl.STATE] == aioctl.STOPPED, "parked" in aioschedule.parked)
    aioctl.start("parked")
    print("back", "parked" in aioschedule.group())
    aioctl.status("daily", log=False)

asyncio.run(main())
""", W0 + 60)
    assert "policy [3, 2, 1000, 0]" in out
    assert "parked True True" in out and "back True" in out
    # the last start before the reset, and the next one a day after it
    assert "┗━► schedule: last @" in out and ("--> next in 23:58:59" in out or "--> next in 23:59:00" in out)


def test_a_restored_calendar_shows_the_second_it_runs(mp):
    # A board's clock reads whole seconds: the wall clock stands still while
    # ticks go on. The restored 06:00 schedule shows 06:00:00, not 05:59:59.
    _run(mp, APP + "FIRST = True\n" + RUN, W0)
    out = _run(mp, APP + """
aioschedule.clock(wall_ms=lambda: W)
async def main():
    sched()
    await asyncio.sleep_ms(30)
    aioctl.status("cal", log=False)

asyncio.run(main())
""", W0 + 60)
    assert "@ 2027-01-16 06:00:00" in out, out


def test_code_that_schedules_differently_wins(mp):
    _run(mp, APP + "FIRST = True\n" + RUN, W0)
    out = _run(mp, APP + """
for n in ("hourly", "daily"):
    aioctl.add(job, n, name=n)
aioschedule.schedule("hourly", start_in=0, repeat=60)          # was every hour
aioschedule.schedule("daily", start_in=0, repeat=24 * 3600, max_retries=2, priority=3)
print(sorted(aioschedule.persist("s.json").items()))
print(aioschedule.group()["hourly"][3], aioschedule.group()["daily"][5])
""", W0 + 60)
    assert "[('dropped', ['hourly']), ('kept', []), ('restored', ['cal', 'daily', 'once', 'parked'])]" in out
    assert "the code schedules hourly differently now: saved state dropped" in out
    assert out.strip().endswith("60000 1")  # the code's repeat; daily's saved run count


def test_saves_on_change_at_most_every_n_seconds(mp):
    out = mp.run("""
import asyncio, aioctl, aioschedule, aiostore
writes = []

async def job():
    pass

async def watch():
    last = None
    while True:
        if aiostore._times[0] != last:  # the time of the last write
            last = aiostore._times[0]
            writes.append(last)
        await asyncio.sleep_ms(1)

async def main():
    aioctl.add(job)
    aioschedule.persist("w.json", every=0.1)
    aioschedule.schedule("job", start_in=0.01, repeat=0.01)
    aioctl.add(watch)
    aioctl.add(aioschedule.schedule_loop)
    await asyncio.sleep_ms(350)
    w = writes[1:]
    print(len(w), min(b - a for a, b in zip(w, w[1:])))
    aioschedule.unschedule("job")
    await asyncio.sleep_ms(150)
    print(len(writes) - 1 - len(w))
    aioctl.add(job, name="daily")
    aioschedule.schedule("daily", start_in=0.03, repeat=86400)
    await asyncio.sleep_ms(35)
    print("daily saved", '"daily", 86400000' in open("w.json").read())

asyncio.run(main())
""")
    lines = out.splitlines()
    n, gap = map(int, lines[0].split())
    assert 3 <= n <= 4 and gap >= 99  # 35 runs, coalesced into a write every 100 ms
    assert lines[1] == "1"  # the change is written, then nothing while nothing changes
    assert lines[2] == "daily saved True"  # a change after a quiet spell is written at once


def test_broken_files_are_set_aside_never_a_crash(mp):
    good = _run(mp, APP + "FIRST = True\n" + RUN, W0)
    assert "saved 5" in good
    text = open(os.path.join(mp.tmp, "s.json")).read()
    cases = {
        "truncated": text[: len(text) // 2],
        "bad checksum": text.replace('"hourly"', '"hourlx"'),
        "garbage": "\x00\xff garbage\n",
        "empty": "",
        "valid checksum, not schedules": None,
    }
    for what, content in cases.items():
        path = os.path.join(mp.tmp, "s.json")
        if content is None:
            import binascii
            data = '[["x", 1]]'
            content = "%s\n%08x\n" % (data, binascii.crc32(data.encode()))
        with open(path, "w") as f:
            f.write(content)
        for f in ("s.json.bad", "s.json.tmp"):
            if os.path.exists(os.path.join(mp.tmp, f)):
                os.remove(os.path.join(mp.tmp, f))
        out = _run(mp, APP + "FIRST = True\n" + RUN, W0 + 60)
        # the app's own schedules run; the broken file is reported and kept aside
        assert "counts [('cal', 0, 0, 0), ('daily', 1, 1, 0), ('hourly', 1, 1, 0), ('once', 0, 0, 0)]" in out, (what, out)
        if what == "valid checksum, not schedules":
            assert "saved schedule 'x' not restored" in out, out
        elif what != "empty":
            assert "s.json is broken" in out and "set aside as s.json.bad" in out, (what, out)
            assert os.path.exists(os.path.join(mp.tmp, "s.json.bad")), what
        # and the next save wrote a good file again
        check = _run(mp, APP + "FIRST = True\n" + RUN, W0 + 120)
        assert "('restored', ['cal', 'daily', 'hourly', 'once', 'parked'])" in check, (what, check)


def test_the_temporary_file_is_used_when_the_file_is_missing(mp):
    # a power cut between removing the old file and renaming the new one
    # (FAT does not rename over a file)
    _run(mp, APP + "FIRST = True\n" + RUN, W0)
    os.rename(os.path.join(mp.tmp, "s.json"), os.path.join(mp.tmp, "s.json.tmp"))
    out = _run(mp, APP + "FIRST = False\n" + RUN, W0 + 60)
    assert "('restored', ['cal', 'daily', 'hourly', 'once', 'parked'])" in out


def test_restore_waits_for_the_wall_clock(mp):
    _run(mp, APP + "FIRST = True\n" + RUN, W0)
    out = _run(mp, """
import sys, asyncio, time, aioctl, aioschedule
t0 = time.ticks_ms()
W = [0]  # the RTC lost its time: 1970
aioschedule.clock(wall_ms=lambda: W[0] + time.ticks_diff(time.ticks_ms(), t0))

async def job():
    pass

async def main():
    aioctl.add(job, name="daily")
    print(aioschedule.persist("s.json"))
    print("daily" in aioschedule.group())
    aioctl.add(aioschedule.schedule_loop)
    await asyncio.sleep_ms(20)
    W[0] = %d * 1000 + 60000   # NTP sets the clock
    await asyncio.sleep_ms(1100)
    print("daily" in aioschedule.group(), aioschedule.group()["daily"][5])

asyncio.run(main())
""" % W0, W0)
    lines = out.splitlines()
    assert lines[0] == "aiostore: the wall clock is not set: saved schedules wait for it"
    assert lines[2] == "False"
    assert lines[-1] == "True 1"  # restored once the clock is set, with its run count


def test_deep_sleep_cycle(mp):
    # save, sleep for idle_seconds(), wake up (a reset) and run what is due,
    # four times: each wake-up runs exactly what is due, never twice
    cycle = """
import sys, asyncio, time, aioctl, aioschedule
W = int(sys.argv[1]) * 1000
t0 = time.ticks_ms()
aioschedule.clock(wall_ms=lambda: W + time.ticks_diff(time.ticks_ms(), t0))
runs = {}

async def job(tag):
    runs[tag] = runs.get(tag, 0) + 1

async def main():
    for n in ("hourly", "once", "cal"):
        aioctl.add(job, n, name=n)
    aioschedule.persist("d.json")
    aioschedule.schedule("hourly", start_in=0, repeat=3600, conflict="ignore")
    aioschedule.schedule("once", start_in=7200, conflict="ignore")
    aioschedule.schedule("cal", hrs=6, conflict="ignore")
    aioctl.add(aioschedule.schedule_loop)
    await asyncio.sleep_ms(30)
    idle = aioschedule.idle_seconds()
    aioschedule.save()
    g = aioschedule.group()
    print("counts", sorted((n, runs.get(n, 0), g[n][5]) for n in g))
    print("sleep", int(idle))       # machine.deepsleep(int(idle * 1000)) on a board

asyncio.run(main())
"""
    wall = W0
    seen = []
    for i in range(4):
        out = _run(mp, cycle, wall)
        seen.append(out.split("counts ")[1].splitlines()[0])
        sleep = int(out.split("sleep ")[1].split()[0])
        assert 3590 <= sleep < 3600, out
        wall += sleep + 2  # wakes 1-2 s after the next start is due
    # (name, runs in this boot, runs in all)
    assert seen == [
        "[('cal', 0, 0), ('hourly', 1, 1), ('once', 0, 0)]",
        "[('cal', 0, 0), ('hourly', 1, 2), ('once', 0, 0)]",
        "[('cal', 0, 0), ('hourly', 1, 3), ('once', 1, 1)]",
        "[('cal', 0, 0), ('hourly', 1, 4), ('once', 0, 1)]",
    ]


def test_idle_seconds(mp):
    out = mp.run("""
import asyncio, aioctl, aioschedule

async def job(ms):
    await asyncio.sleep_ms(ms)

async def main():
    print(aioschedule.idle_seconds())
    aioctl.add(job, 30, name="a")
    aioschedule.schedule("a", start_in=0.05)
    print(aioschedule.idle_seconds())   # the loop has not started: 0.05 s after it does
    aioctl.add(aioschedule.schedule_loop)
    await asyncio.sleep_ms(10)
    print(round(aioschedule.idle_seconds(), 2))
    await asyncio.sleep_ms(50)
    print(aioschedule.idle_seconds())   # a run going on
    await asyncio.sleep_ms(40)
    print(aioschedule.idle_seconds())   # a one-off done: nothing scheduled

asyncio.run(main())
""")
    assert out.split() == ["None", "0.05", "0.04", "0", "None"]


def test_bad_input(mp):
    out = mp.run("""
import aioschedule
for args in ((5,), ("",), ("x.json", -1), ("x.json", "1")):
    try:
        aioschedule.persist(*args)
    except (TypeError, ValueError) as e:
        print(e)
import aiostore
aiostore._path = None
try:
    aioschedule.save()
except RuntimeError as e:
    print(e)
""")
    assert out.splitlines() == [
        "persist: path 5 is not a file name",
        "persist: path '' is not a file name",
        "aioschedule: every -1 is negative",
        "aioschedule: every must be a number of seconds, not '1'",
        "save: call aioschedule.persist(path) first",
    ]


def test_killed_while_saving_the_file_always_loads(mp, capsys):
    # tools/killsave.py, short: a process saving all the time is killed at
    # random moments; each restart must load every schedule. KILLS=300 for
    # the README's run.
    import sys
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import killsave

    rows, ok = killsave.run(int(os.environ.get("KILLS", "25")), mp.kind == "mpy", exe=mp.exe)
    with capsys.disabled():
        print("\n" + killsave.table(rows, ok))
    assert ok
