# Schedules kept in a file across resets (aioschedule.persist), the
# deep-sleep cycle (save, idle_seconds, restore on wake-up), broken files and
# processes killed while they write. A reset is a new MicroPython process;
# the wall clock is moved on between processes through aioschedule.clock().

import binascii
import json
import os

from helpers import plain

HOUR = 3600
W0 = 1800000000  # 2027-01-15 08:00:00 UTC

APP = """
from appboot import *

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
from appboot import *

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


# ------------------------------------------- what a board does
# The heap full at the worst moment, files written by someone else, weeks
# of uptime, jobs that raise anything: each test failed on the code before
# the fix it names.


# ---------------------------------------------------------------- the file

def _file(records, version=2):
    # A schedules file as aiostore writes it, with a good checksum.
    if version == 1:
        data = json.dumps(records)
        return "%s\n%08x\n" % (data, binascii.crc32(data.encode()))
    text = "aiostore 2\n" + "".join(json.dumps(r) + "\n" for r in records)
    return text + "%08x\n" % binascii.crc32(text.encode())


REC = ["a", 60000, None, None, 0, None, None, None, 3, 1, W0 * 1000 + 30000, W0 - 30, 0]

BOOT = """
import asyncio, time, aioctl, aioschedule, wallclock
wallclock.start(%d * 1000)
async def job():
    pass
""" % W0


def test_a_file_with_a_bad_field_drops_that_record_alone(mp):
    bad = [
        ("interval", 1, -1000),  # once made schedule_loop spin for ever
        ("runs", 8, "3"),
        ("next due", 10, None),
        ("state", 12, 7),
        ("policy", 5, [0, 1, 0]),
        ("calendar", 2, "00ff"),
    ]
    recs = [REC]
    for i, (_, field, value) in enumerate(bad):
        r = list(REC)
        r[0] = "b%d" % i
        r[field] = value
        recs.append(r)
    with open(os.path.join(mp.tmp, "s.json"), "w") as f:
        f.write(_file(recs))
    out = mp.run(BOOT + """
async def main():
    for n in ("a", "b0", "b1", "b2", "b3", "b4", "b5"):
        aioctl.add(job, name=n)
    print(aioschedule.persist("s.json"))
    aioctl.add(aioschedule.schedule_loop)
    await asyncio.sleep_ms(50)
    print("loop runs", sorted(aioschedule.group()))
asyncio.run(main())
""", timeout=10)
    lines = out.splitlines()
    for i, (what, _, value) in enumerate(bad):
        assert "aiostore: saved schedule 'b%d' not restored: %s %r" % (i, what, value) in lines, (what, out)
    assert "'restored': ['a']" in out and "'dropped': ['b0', 'b1', 'b2', 'b3', 'b4', 'b5']" in out, out
    assert lines[-1] == "loop runs ['a']"
    assert not os.path.exists(os.path.join(mp.tmp, "s.json.bad"))


def test_a_file_of_the_first_format_is_migrated(mp):
    path = os.path.join(mp.tmp, "s.json")
    with open(path, "w") as f:
        f.write(_file([REC], version=1))
    out = mp.run(BOOT + """
async def main():
    aioctl.add(job, name="a")
    print(aioschedule.persist("s.json")["restored"])
    print(aioschedule.save())
asyncio.run(main())
""")
    assert out.splitlines() == ["['a']", "1"]
    text = open(path).read()
    assert text.startswith("aiostore 2\n") and '["a", 60000,' in text
    assert not os.path.exists(path + ".bad")


def test_a_full_heap_while_reading_the_file_keeps_it(mp):
    # 120 schedules saved; the next boot finds the heap full when it calls
    # persist(): nothing is set aside, nothing raised into the boot code,
    # and all come back once RAM is free again.
    names = ["j%d" % i for i in range(120)]
    recs = []
    for i, n in enumerate(names):
        r = list(REC)
        r[0] = n
        r[_R_DUE] = W0 * 1000 + 3600000 + i
        recs.append(r)
    path = os.path.join(mp.tmp, "s.json")
    with open(path, "w") as f:
        f.write(_file(recs))
    out = mp.run(BOOT + """
from fillheap import squeeze, cut, scrub
def boot():
    # a little RAM for the call, far from enough for the file (a number of
    # fill()'s pairs let go instead held from 6 KB to far more, with the
    # heap's layout)
    junk = squeeze(3000)
    done = aioschedule.persist("s.json")
    # every pair emptied: a stale pointer to one (the GC is conservative,
    # and this one runs in a coroutine's frame) keeps nothing else alive
    cut(junk)
    return done
async def main():
    for i in range(120):
        aioctl.add(job, name="j%d" % i)
    aioctl.add(aioschedule.schedule_loop)
    await asyncio.sleep_ms(10)
    import aiostore
    done = boot()
    scrub()  # no stale pointer to the chain left on the C stack
    print("at boot", len(done["restored"]))
    await asyncio.sleep_ms(1200)
    print("later", len(done["restored"]), len(aioschedule.group()))
    print("saved", aioschedule.save())
asyncio.run(main())
""", heap="256K")
    lines = plain(out).splitlines()
    # the message names the file and the error (a shorter one if even that
    # does not fit)
    assert any(l.startswith("aiostore: cannot read") and "MemoryError" in l for l in lines), out
    assert "later 120 120" in lines and "saved 120" in lines, out
    assert not os.path.exists(path + ".bad")


_R_DUE = 10


def test_a_full_heap_while_restoring_one_schedule_keeps_it(mp):
    # The wall clock read that restoring one schedule needs fails for want
    # of memory (time.time() makes a long int on a board): that schedule is
    # reported as such and written back; it is not "scheduled differently".
    recs = []
    for n in ("a", "b", "c"):
        r = list(REC)
        r[0] = n
        recs.append(r)
    path = os.path.join(mp.tmp, "s.json")
    with open(path, "w") as f:
        f.write(_file(recs))
    out = mp.run("""
import asyncio, time, aioctl, aioschedule
calls = [0]
t0 = time.ticks_ms()
def wall():
    calls[0] += 1
    if calls[0] == 2:       # the first is the clock check; the second, restoring "a"
        raise MemoryError
    return %d * 1000 + time.ticks_diff(time.ticks_ms(), t0)
aioschedule.clock(wall_ms=wall)
async def job():
    pass
async def main():
    for n in ("a", "b", "c"):
        aioctl.add(job, name=n)
    done = aioschedule.persist("s.json")
    print(done["restored"], done["kept"], done["dropped"])
    print(aioschedule.save(), sorted(aioschedule.group()))
asyncio.run(main())
""" % W0)
    lines = out.splitlines()
    assert "aiostore: saved schedule 'a' not restored: MemoryError; kept in the file" in lines, out
    assert "differently" not in out
    assert "['b', 'c'] ['a'] []" in lines, out
    assert lines[-1] == "2 ['b', 'c']"
    assert '["a", 60000,' in open(path).read()  # written back as it was


# ------------------------------------ found by tools/filefuzz.py (file fuzz)


def _spec(empty=None):
    # A calendar spec as hex (aiocron's layout): 06:00:00 every day, or every
    # second but for the bitmap at byte offset `empty` (0 seconds, 8 minutes,
    # 16 hours), empty.
    b = bytearray(27)
    b[0], b[8], b[16] = 1, 1, 1 << 6
    b[19:26] = b"\xfe\xff\xff\xff\xfe\x1f\x7f"
    if empty is not None:
        b[0:19] = b"\xff" * 7 + b"\x0f" + b"\xff" * 7 + b"\x0f\xff\xff\xff"
        b[empty:empty + (3 if empty == 16 else 8)] = bytes(3 if empty == 16 else 8)
    return b.hex()


def _boot(mp, names, path="s.json", code="", timeout=30):
    # A boot that adds a task of each name and restores the file.
    return mp.run(BOOT + """
async def main():
    for n in %r:
        aioctl.add(job, name=n)
    print(aioschedule.persist(%r))
    %s
asyncio.run(main())
""" % (names, path, code), timeout=timeout)


def _put_file(mp, content, path="s.json"):
    with open(os.path.join(mp.tmp, path), "wb") as f:
        f.write(content if isinstance(content, bytes) else content.encode())


def test_a_calendar_with_an_empty_field_is_dropped_at_once(mp):
    # Checking it made aiocron search 400 years: 33 s for a calendar with no
    # minute, half an hour for one with no second, at every boot.
    recs = []
    for name, empty in (("m", 8), ("s", 0), ("h", 16)):
        r = list(REC)
        r[0], r[2] = name, _spec(empty)
        recs.append(r)
    _put_file(mp, _file(recs))
    out = _boot(mp, ["m", "s", "h"], timeout=10)
    for name, empty in (("m", 8), ("s", 0), ("h", 16)):
        assert "saved schedule %r not restored: calendar %r" % (name, _spec(empty)) in out, out


def test_far_wall_clock_times_are_dropped_not_run(mp):
    # Times past what aiocron and aiolog take (1e11 s): a calendar start
    # ended schedule_loop with a ValueError when it ran, a last start or a
    # next due made status() raise one.
    a, b, c = list(REC), list(REC), list(REC)
    a[0], a[2], a[6], a[10] = "a", _spec(), 2 ** 40, W0 * 1000 - 10  # due now
    b[0], b[11] = "b", 10 ** 12
    c[0], c[10] = "c", 2 ** 50
    _put_file(mp, _file([a, b, c]))
    out = _boot(mp, ["a", "b", "c"], code="""
    aioctl.add(aioschedule.schedule_loop)
    await asyncio.sleep_ms(30)
    aioctl.status(log=False)
    print("loop", aioctl.group()["schedule_loop"][aioctl.STATE] == aioctl.RUNNING)""")
    assert "saved schedule 'a' not restored: wall-clock start 1099511627776" in out, out
    assert "saved schedule 'b' not restored: last start 1000000000000" in out, out
    assert "saved schedule 'c' not restored: next due 1125899906842624" in out, out
    assert out.splitlines()[-1] == "loop True", out


def test_a_first_format_file_of_many_schedules_is_migrated(mp):
    # Its one line was longer than the 1024 bytes read to find the format:
    # the file was set aside, every schedule lost.
    names = ["job%d" % i for i in range(30)]
    recs = []
    for n in names:
        r = list(REC)
        r[0] = n
        recs.append(r)
    _put_file(mp, _file(recs, version=1))
    out = _boot(mp, names)
    assert "'restored': %r" % sorted(names) in out, out
    assert not os.path.exists(os.path.join(mp.tmp, "s.json.bad"))


def test_a_long_task_name_does_not_lose_the_file(mp):
    # save() wrote its line (1400 bytes), the next boot set the whole file
    # aside as "a line too long". Non-ASCII: a 1024-byte piece of the line
    # ends inside a character.
    name = "x" + "\u00e9" * 700
    code = """
    aioschedule.schedule(%r, start_in=3600, repeat=3600, conflict="ignore")
    aioschedule.schedule("b", start_in=3600, repeat=3600, conflict="ignore")
    print("saved", aioschedule.save())""" % name
    assert "saved 2" in _boot(mp, [name, "b"], code=code)
    out = _boot(mp, [name, "b"], code=code)
    assert "'restored': ['b', %r]" % name in out.replace("\\xe9", "\u00e9"), out
    assert not os.path.exists(os.path.join(mp.tmp, "s.json.bad"))


def test_a_file_that_is_not_text_or_is_cut_is_set_aside_not_raised(mp):
    # Bytes that are not UTF-8 raised UnicodeError out of persist(), and a
    # first-format file cut after its list line a ValueError: the boot code
    # crashed. Both are broken files.
    body = b'aiostore 2\n["\xff", 60000, null, null, 0, null, null, null, 0, 0, 1800000030000, null, 0]\n'
    cases = {
        "not UTF-8 (format 2)": body + b"%08x\n" % binascii.crc32(body),
        "not UTF-8 (format 1)": b'[["\xff"]]\n%08x\n' % binascii.crc32(b'[["\xff"]]'),
        "cut (format 1)": _file([REC], version=1).split("\n")[0] + "\n",
    }
    for what, content in cases.items():
        _put_file(mp, content)
        if os.path.exists(os.path.join(mp.tmp, "s.json.bad")):
            os.remove(os.path.join(mp.tmp, "s.json.bad"))
        out = _boot(mp, ["a"])
        assert "s.json is broken" in out and "'restored': []" in out, (what, out)
        assert os.path.exists(os.path.join(mp.tmp, "s.json.bad")), what


def test_a_second_record_of_a_name_is_dropped_and_named(mp):
    # It was passed over without a word.
    b = list(REC)
    b[1] = 1000
    _put_file(mp, _file([REC, b]))
    out = _boot(mp, ["a"])
    assert "saved schedule 'a' not restored: name 'a' (a second record of it)" in out, out
    assert "'restored': ['a']" in out and "'dropped': ['a']" in out, out


def test_a_record_with_no_starts_left_must_be_over(mp):
    # A live schedule with 0 starts left was restored, ran without end (its
    # times= spent) and its next save, -1 left, was dropped at the next boot.
    live, over = list(REC), list(REC)
    live[0], live[7], live[10] = "live", 0, W0 * 1000 - 10
    over[0], over[7], over[12] = "over", 0, 2
    _put_file(mp, _file([live, over]))
    out = _boot(mp, ["live", "over"])
    assert "saved schedule 'live' not restored: starts left 0" in out, out
    assert "'restored': ['over']" in out, out


def test_a_run_count_at_the_files_bound_is_kept(mp):
    # A count aiostore reads up to 2**40 grew past it when the schedule ran
    # (or a long outage was counted as skipped starts): the file save()
    # wrote lost the schedule at the next boot.
    r = list(REC)
    r[1], r[8], r[9], r[10] = 1, 2 ** 40, 2 ** 40, W0 * 1000 - 10
    _put_file(mp, _file([r]))
    code = """
    aioctl.add(aioschedule.schedule_loop)
    await asyncio.sleep_ms(20)
    print("saved", aioschedule.save())"""
    assert "'restored': ['a']" in _boot(mp, ["a"], code=code)
    out = _boot(mp, ["a"], code=code)
    assert "'restored': ['a']" in out and "not restored" not in out, out


def test_what_schedule_accepts_a_reset_restores(mp):
    # schedule() and the file's checks agree: a fractional priority is kept
    # across a reset; what the file could not hold is refused at once.
    out = mp.run(BOOT + """
async def main():
    aioctl.add(job, name="a")
    aioschedule.persist("p.json")
    aioschedule.schedule("a", start_in=60, repeat=60, priority=0.5, max_retries=2)
    for bad in ({"priority": float("inf")}, {"max_retries": 2 ** 21}, {"times": 2 ** 31}):
        try:
            aioschedule.schedule("a", start_in=60, **bad)
        except (TypeError, ValueError) as e:
            print(e)
    print(aioschedule.save())
asyncio.run(main())
""")
    assert out.splitlines() == [
        "schedule: priority inf must be within -1e9 to 1e9",
        "schedule: max_retries 2097152 must be a whole number, 0 to 2**20",
        "schedule: times 2147483648 must be a whole number, 1 to 2**30",
        "1",
    ]
    again = mp.run(BOOT + """
async def main():
    aioctl.add(job, name="a")
    print(aioschedule.persist("p.json")["restored"])
asyncio.run(main())
""")
    assert again.strip() == "['a']", again


def test_a_save_that_cannot_write_names_the_file(mp):
    # A directory that does not exist: the OSError says which file, and the
    # loop's own saves go on (tick catches it).
    out = mp.run("""
        import asyncio, aioctl, aioschedule
        async def job():
            pass
        async def main():
            aioctl.add(job)
            aioschedule.schedule("job", start_in=60)
            aioschedule.persist("no_such_dir/s.json")
            try:
                aioschedule.save()
            except OSError as e:
                print("OSError", e.errno, "no_such_dir/s.json.tmp" in str(e))
        asyncio.run(main())
        """)
    assert "OSError 2 True" in out.splitlines(), out
