# Calendar schedules through the scheduler, on a simulated clock: ticks and
# wall clock are driven by hand, so months and years pass in milliseconds.
#
# Those marked board run on the virtual Pico too: the port's own calendar
# (localtime/mktime: UTC there), 30-bit ticks and its speed. Left off it:
# the month-end walk and the times/jitter options (about a minute each in
# the emulator; nothing in them differs on a board but the speed).

import pytest

SIM = """
import asyncio, time, aioctl, aioschedule, aiocron

P = 1 << 30  # 30-bit ticks, as on a 32-bit board
def diff(a, b):
    d = (a - b) & (P - 1)
    return d - P if d >= P // 2 else d

tick = [P - 3000]  # the ticks wrap 3 s into every test
wall = [0]
aioschedule.clock(lambda: tick[0], diff, lambda: wall[0])
fired = []

def at(*tm):
    wall[0] = aiocron.mktime(tm + (0,) * (8 - len(tm))) * 1000

def fmt(tm):
    return "%d-%02d-%02d %02d:%02d:%02d" % tuple(tm[:6])

def now_str():
    return fmt(aiocron.localtime(wall[0] // 1000))

async def job(tag):
    fired.append("%s %s" % (tag, now_str()))

async def settle():
    for _ in range(4):
        await asyncio.sleep_ms(0)

async def advance(ms, wall_ms=None):
    # ticks move by ms; the wall clock too, or by wall_ms (a jump). A board's
    # loop reads its clock at least every 2**28 ms (it never sleeps longer):
    # long spans go in such steps, or 30-bit ticks would wrap unseen.
    jump = 0 if wall_ms is None else wall_ms - ms
    while True:
        d = min(ms, 1 << 27)
        tick[0] = (tick[0] + d) & (P - 1)
        wall[0] += d
        ms -= d
        if not ms:
            break
        aioschedule.loop_nap.wake()
        await settle()
    wall[0] += jump
    aioschedule.loop_nap.wake()  # the loop sleeps on real time: poke it
    await settle()

async def step(names=None):
    # moves both clocks to the next due start of any schedule
    best = None
    for n in names or aioschedule.group():
        i = aiocron.info(n)
        if i and i["next_in"] is not None and (best is None or i["next_in"] < best):
            best = i["next_in"]
    await advance(max(best, 0))

def add(name, **kw):
    aioctl.add(job, name, name=name)
    aioschedule.schedule(name, **kw)

async def start_loop():
    aioctl.add(aioschedule.schedule_loop)
    await settle()
"""


def run(mp, body):
    return mp.run(SIM + "\nasync def main():\n" + body + "\nasyncio.run(main())\n").splitlines()


def test_fire_times_across_month_ends_leap_day_and_year_end(mp):
    out = run(
        mp,
        """
    aiocron.clock_check(2020)  # 2023 counts as a set clock here
    at(2023, 12, 30, 12, 0, 0)
    add("monthly", cron="0 0 1 * *")            # month ends, year end
    add("leap", mday=29, month=2, hrs=12)       # 29 February only
    add("newyear", cron="59 23 31 12 *")        # year end
    add("fri13", hrs=9, mday=13, wday=4)        # keywords: the 13th AND a Friday
    add("f13or", cron="0 9 13 * 5")             # cron: the 13th OR a Friday
    print("f13or next", [fmt(t) for t in aiocron.next_runs("f13or", 4)])
    await start_loop()
    while wall[0] < aiocron.mktime((2028, 3, 2, 0, 0, 0)) * 1000:
        await step(["monthly", "leap", "newyear", "fri13"])
    for tag in ("monthly", "leap", "newyear", "fri13"):
        print(tag, [f.split(" ", 1)[1] for f in fired if f.startswith(tag + " ")][:6])
    print("runs", aiocron.info("monthly")["runs"], aiocron.info("leap")["runs"])
""",
    )
    # the cron form's OR rule: Fridays and the 13th
    assert out.pop(0) == "f13or next " + str([
        "2024-01-05 09:00:00", "2024-01-12 09:00:00", "2024-01-13 09:00:00", "2024-01-19 09:00:00"])
    assert out[0] == "monthly " + str([
        "2024-01-01 00:00:00", "2024-02-01 00:00:00", "2024-03-01 00:00:00",
        "2024-04-01 00:00:00", "2024-05-01 00:00:00", "2024-06-01 00:00:00"])
    assert out[1] == "leap " + str(["2024-02-29 12:00:00", "2028-02-29 12:00:00"])
    assert out[2] == "newyear " + str([
        "2023-12-31 23:59:00", "2024-12-31 23:59:00", "2025-12-31 23:59:00",
        "2026-12-31 23:59:00", "2027-12-31 23:59:00"])
    assert out[3] == "fri13 " + str([
        "2024-09-13 09:00:00", "2024-12-13 09:00:00", "2025-06-13 09:00:00",
        "2026-02-13 09:00:00", "2026-03-13 09:00:00", "2026-11-13 09:00:00"])
    assert out[4] == "runs 52 2"  # 2024-01 .. 2028-04 (the last step), each month once


@pytest.mark.board
def test_next_runs_of_a_dozen_specs(mp):
    out = run(
        mp,
        """
    at(2024, 2, 27, 10, 7, 30)  # a Tuesday
    specs = [
        dict(cron="*/15 8-18 * * 1-5"),
        dict(cron="30 6 * * *"),
        dict(cron="0 0 1 * *"),
        dict(cron="0 12 * * 0"),
        dict(cron="0 0 29 2 *"),
        dict(cron="5,35 9 * 3 1,3"),
        dict(cron="0 22-23/1 28-29 2 *"),
        dict(hrs=6, mins=30),
        dict(secs=range(0, 60, 20), mins=8),
        dict(wday=(5, 6), hrs=10),
        dict(mday=31, hrs=0),
        dict(month=(3, 9), mday=1, hrs=0, mins=0),
    ]
    for i, kw in enumerate(specs):
        add("s%d" % i, **kw)
        print(i, " | ".join(fmt(t) for t in aiocron.next_runs("s%d" % i, 3)))
""",
    )
    assert out == [
        "0 2024-02-27 10:15:00 | 2024-02-27 10:30:00 | 2024-02-27 10:45:00",
        "1 2024-02-28 06:30:00 | 2024-02-29 06:30:00 | 2024-03-01 06:30:00",
        "2 2024-03-01 00:00:00 | 2024-04-01 00:00:00 | 2024-05-01 00:00:00",
        "3 2024-03-03 12:00:00 | 2024-03-10 12:00:00 | 2024-03-17 12:00:00",
        "4 2024-02-29 00:00:00 | 2028-02-29 00:00:00 | 2032-02-29 00:00:00",
        "5 2024-03-04 09:05:00 | 2024-03-04 09:35:00 | 2024-03-06 09:05:00",
        "6 2024-02-28 22:00:00 | 2024-02-28 23:00:00 | 2024-02-29 22:00:00",
        "7 2024-02-28 06:30:00 | 2024-02-29 06:30:00 | 2024-03-01 06:30:00",
        "8 2024-02-27 10:08:00 | 2024-02-27 10:08:20 | 2024-02-27 10:08:40",
        "9 2024-03-02 10:00:00 | 2024-03-03 10:00:00 | 2024-03-09 10:00:00",
        "10 2024-03-31 00:00:00 | 2024-05-31 00:00:00 | 2024-07-31 00:00:00",
        "11 2024-03-01 00:00:00 | 2024-09-01 00:00:00 | 2025-03-01 00:00:00",
    ]


@pytest.mark.board
def test_clock_not_set_then_ntp_jump_forward_by_decades(mp):
    out = run(
        mp,
        """
    at(2000, 1, 1, 0, 0, 0)  # the board's clock before NTP
    add("daily", hrs=6, mins=30)
    add("tick", start_in=1, repeat=1)  # an interval schedule: unaffected
    await start_loop()
    print(aiocron.info("daily")["state"], aiocron.next_runs("tick", 2) is not None)
    for _ in range(5):
        await advance(1000)
    print("before NTP", [f for f in fired if f.startswith("daily")], len(fired))
    n = len(fired)
    # NTP: the wall clock jumps 26 years; ticks go on by 1 s
    await advance(1000, aiocron.mktime((2026, 3, 1, 6, 29, 0)) * 1000 - wall[0])
    aiocron.clock_set()
    await settle()
    print("after NTP", [f for f in fired if f.startswith("daily")], len(fired) - n)
    print("next", fmt(aiocron.next_runs("daily", 1)[0]))
    await advance(60000)
    print([f for f in fired if f.startswith("daily")])
""",
    )
    assert out[0] == "scheduled True"
    assert out[1] == "before NTP [] 5"  # wall-clock job waits; the interval one runs
    assert out[2] == "after NTP [] 1"  # no burst of runs for 26 years; one tick
    assert out[3] == "next 2026-03-01 06:30:00"
    assert out[4] == "['daily 2026-03-01 06:30:00']"


@pytest.mark.board
def test_jump_back_an_hour_is_noticed_without_clock_set(mp):
    out = run(
        mp,
        """
    at(2026, 5, 4, 6, 29, 0)
    add("daily", hrs=6, mins=30)
    add("tick", start_in=3600, repeat=3600)
    await start_loop()
    await step(["daily"])
    print(fired)
    tick_next = aiocron.info("tick")["next_in"]
    # the wall clock is set back an hour; the scheduler is not told. Its
    # check runs at most a minute later (the loop wakes for it).
    await advance(61000, 61000 - 3600000)
    print(now_str(), fmt(aiocron.next_runs("daily", 1)[0]), aiocron.info("daily")["next_in"] // 1000)
    print("tick unaffected", tick_next - aiocron.info("tick")["next_in"])
    await step(["daily"])
    print([f for f in fired if f.startswith("daily")])
""",
    )
    assert out[0] == "['daily 2026-05-04 06:30:00']"
    # 05:31:01 now: the next run is still tomorrow 06:30, not today's again
    assert out[1] == "2026-05-04 05:31:01 2026-05-05 06:30:00 89939"
    assert out[2] == "tick unaffected 61000"
    assert out[3] == "['daily 2026-05-04 06:30:00', 'daily 2026-05-05 06:30:00']"


@pytest.mark.board
def test_misfire_run_once_skip_and_grace(mp):
    out = run(
        mp,
        """
    at(2026, 1, 1, 0, 0, 0)
    add("run", cron="* * * * *")                  # default: run once, late
    add("skip", cron="* * * * *", misfire="skip")
    add("grace", cron="* * * * *", grace=120)
    add("late", cron="* * * * *", grace=30)
    await start_loop()
    await step()
    print(sorted(f.split()[0] for f in fired))
    fired.clear()
    aioctl.stop("schedule_loop")                 # the loop cannot run for 100 s
    await settle()
    tick[0] = (tick[0] + 100000) & (P - 1)
    wall[0] += 100000
    aioctl.start("schedule_loop")
    await settle()
    print(sorted(f.split()[0] for f in fired))
    print([(n, aiocron.info(n)["runs"], aiocron.info(n)["skipped"]) for n in ("run", "skip", "grace", "late")])
""",
    )
    assert out[0] == "['grace', 'late', 'run', 'skip']"
    # 100 s late: run and grace (120 s) start once; skip and late (30 s) drop it
    assert out[1] == "['grace', 'run']"
    assert out[2] == "[('run', 2, 0), ('skip', 1, 1), ('grace', 2, 0), ('late', 1, 1)]"


@pytest.mark.board
def test_started_after_it_was_due_it_runs_at_once_then_keeps_its_times(mp):
    # stop() sets the schedule aside; start() after its 06:30 start was due
    # runs it once at once (none of the starts missed meanwhile caught up),
    # then at 06:30 again. misfire="skip" and a grace it is past drop it.
    out = run(
        mp,
        """
    at(2026, 1, 1, 0, 0, 0)
    add("run", hrs=6, mins=30)
    add("skip", hrs=6, mins=30, misfire="skip")
    add("grace", hrs=6, mins=30, grace=3600)
    add("late", hrs=6, mins=30, grace=60)
    add("every", start_in=1800, repeat=3600)       # 00:30, 01:30...
    await start_loop()
    await advance(3600000)                         # 01:00
    for n in ("run", "skip", "grace", "late", "every"):
        aioctl.stop(n)
    await advance(2 * 86400000 + 6 * 3600000)       # 01-03 07:00: all passed 06:30 twice
    fired.clear()
    for n in ("run", "skip", "grace", "late", "every"):
        aioctl.start(n)
    await settle()
    print(sorted(f for f in fired))
    for n in ("run", "skip", "grace", "late", "every"):
        print(n, fmt(aiocron.next_runs(n, 1)[0]))
""",
    )
    # run at once: run (misfire run), grace (30 min late, within 1 h), every;
    # skip and late (grace 60 s) drop the late start
    assert out[0] == "['every 2026-01-03 07:00:00', 'grace 2026-01-03 07:00:00', 'run 2026-01-03 07:00:00']"
    assert out[1:] == [
        "run 2026-01-04 06:30:00",
        "skip 2026-01-04 06:30:00",
        "grace 2026-01-04 06:30:00",
        "late 2026-01-04 06:30:00",
        "every 2026-01-03 07:30:00",  # its old grid
    ]


def test_times_jitter_soft_start_and_interval_options(mp):
    out = run(
        mp,
        """
    at(2026, 1, 1, 0, 0, 0)
    add("thrice", start_in=1, repeat=1, times=3)
    add("cal2", cron="*/10 * * * *", times=2)
    add("jit", start_in=10, repeat=10, jitter=2)
    for i in range(20):
        add("soft%d" % i, start_in=0, repeat=3600, soft_start=60)
    await start_loop()
    starts = [aiocron.info("soft%d" % i)["next_in"] for i in range(20)]
    print("soft", min(starts) >= 0, max(starts) <= 60000, len(set(starts)) > 10)
    jit = []
    while wall[0] < aiocron.mktime((2026, 1, 1, 1, 0, 0)) * 1000:
        before = len(fired)
        await step(["thrice", "cal2", "jit"])
        for f in fired[before:]:
            if f.startswith("jit "):
                jit.append((wall[0] - aiocron.mktime((2026, 1, 1, 0, 0, 0)) * 1000))
    print("thrice", [f.split()[2] for f in fired if f.startswith("thrice ")], aiocron.info("thrice")["state"])
    print("cal2", [f.split()[2] for f in fired if f.startswith("cal2 ")], aiocron.next_runs("cal2", 3))
    offs = [t - 10000 * (k + 1) for k, t in enumerate(jit)]
    print("jit", len(jit), min(offs) >= 0, max(offs) <= 2000, len(set(offs)) > 3)
""",
    )
    assert out[0] == "soft True True True"
    assert out[1] == "thrice ['00:00:01', '00:00:02', '00:00:03'] over"
    assert out[2] == "cal2 ['00:10:00', '00:20:00'] []"
    # each start 0-2 s after its 10 s grid point: the jitter never moves the grid
    assert out[3] in ("jit 359 True True True", "jit 360 True True True")


@pytest.mark.board
def test_utc_offset_is_applied_once(mp):
    out = run(
        mp,
        """
    at(2026, 6, 1, 0, 0, 0)
    aiocron.utc_offset(3600)                       # UTC+1
    add("six", cron="0 6 * * *")                    # 06:00 local = 05:00 UTC
    add("tuple", start_in=(2026, 6, 1, 2, 0, 0, 0, 0))  # 02:00 local = 01:00 UTC
    print(fmt(aiocron.next_runs("six", 1)[0]), fmt(aiocron.next_runs("tuple", 1)[0]))
    aioctl.status("six", log=False)  # dates in local time too
    import aiolog
    print(aiolog.datestr(aioctl.group()["six"][aioctl.SINCE] + 3600, 0))
    await start_loop()
    await step()
    await step()
    print(fired)
    aiocron.utc_offset(None)
""",
    )
    assert out[0] == "2026-06-01 06:00:00 2026-06-01 02:00:00"  # local times
    # aioctl's own dates (real time here) are shown at the offset too
    assert "status: \x1b[36mscheduled\x1b[0m @ %s --> result:" % out[4] in out[1]
    assert out[2] == "    ┗━► schedule: starts in 05:00:00 @ 2026-06-01 06:00:00"
    assert out[5] == "['tuple 2026-06-01 01:00:00', 'six 2026-06-01 05:00:00']"  # UTC


@pytest.mark.board
def test_status_debug_shows_next_runs(mp):
    out = run(
        mp,
        """
    at(2026, 1, 1, 7, 0, 0)
    add("water", hrs=6, mins=30)
    await start_loop()
    aioctl.status("water", debug=True)
""",
    )
    text = "\n".join(out)
    assert "    ┗━► schedule: starts in 23:30:00 @ " in text
    assert "    ┗━► schedule: calendar, runs: 0, skipped: 0" in text
    assert "    ┗━► next runs: 2026-01-02 06:30:00, 2026-01-03 06:30:00, 2026-01-04 06:30:00" in text


@pytest.mark.board
def test_clock_check_year(mp):
    out = run(
        mp,
        """
    at(2023, 6, 1, 0, 0, 0)
    add("hourly", mins=0)
    await start_loop()
    print(aiocron.info("hourly")["next_in"])   # 2023 < 2024: waits, checks again in 60 s
    aiocron.clock_check(2020)
    aiocron.clock_set()
    print(aiocron.info("hourly")["next_in"])
""",
    )
    assert out == ["60000", "3600000"]


@pytest.mark.board
def test_bad_calendar_input_changes_nothing(mp):
    out = run(
        mp,
        """
    at(2026, 1, 1, 0, 0, 0)
    add("ok", cron="*/5 * * * *")
    aioctl.add(job, "x", name="x")
    for kw in (
        dict(cron="61 * * *"),
        dict(cron="61 * * * *"),
        dict(cron="*/0 * * * *"),
        dict(cron="* * * *"),
        dict(cron="0 0 31 2 *"),
        dict(hrs=24),
        dict(mday=31, month=(4, 6)),
        dict(times=-1, start_in=1),
        dict(times=0, start_in=1),
        dict(misfire="later", start_in=1),
        dict(grace=-5, start_in=1),
        dict(jitter="2", start_in=1),
        dict(cron="0 6 * * *", repeat=60),
        dict(cron="0 6 * * *", hrs=6),
        dict(colour="red"),
    ):
        try:
            aioschedule.schedule("x", **kw)
            print("no error", kw)
        except (ValueError, TypeError) as e:
            print(type(e).__name__, e)
    for bad in (7200 * 8, "1", True):
        try:
            aiocron.utc_offset(bad)
        except ValueError as e:
            print("ValueError", e)
    print(sorted(aioschedule.group()), aiocron.next_runs("ok", 1), aiocron.info("x"))
""",
    )
    assert out[:15] == [
        "ValueError cron needs 5 fields: '61 * * *'",
        "ValueError mins '61' not in 0-59",
        "ValueError mins '*/0': the step is not in 1-59",
        "ValueError cron needs 5 fields: '* * * *'",
        "ValueError impossible: mday 31 never occurs in month 2",
        "ValueError hrs 24 not in 0-23",
        "ValueError impossible: mday 31 never occurs in month 4,6",
        "ValueError schedule: times -1 must be a whole number, 1 to 2**30",
        "ValueError schedule: times 0 must be a whole number, 1 to 2**30",
        "ValueError schedule: misfire 'later' must be 'run' or 'skip'",
        "ValueError aioschedule: grace -5 is negative",
        "TypeError aioschedule: jitter must be a number of seconds, not '2'",
        "ValueError schedule: a calendar schedule takes no start_in or repeat, not 0, 60",
        "ValueError schedule: give cron or calendar fields, not both",
        "TypeError schedule: unknown option 'colour'",
    ]
    assert out[15:18] == [
        "ValueError utc_offset: 57600 is not a number of seconds within 14 hours",
        "ValueError utc_offset: '1' is not a number of seconds within 14 hours",
        "ValueError utc_offset: True is not a number of seconds within 14 hours",
    ]
    assert out[18] == "aioschedule: no schedule 'x'"
    # the port's localtime: 9 items on unix, 8 on a board
    tm = "(2026, 1, 1, 0, 5, 0, 3, 1)" if mp.tier == "pico" else "(2026, 1, 1, 0, 5, 0, 3, 1, 0)"
    assert out[19] == "['ok'] [%s] None" % tm


@pytest.mark.board
def test_jump_forward_is_a_misfire_not_a_burst(mp):
    out = run(
        mp,
        """
    at(2026, 3, 1, 9, 59, 0)
    add("hourly", mins=0)
    add("hourly_skip", mins=0, misfire="skip")
    add("tick", start_in=600, repeat=600)  # interval: unaffected by the jump
    await start_loop()
    await step(["hourly"])
    print(sorted(fired))
    fired.clear()
    tick_next = aiocron.info("tick")["next_in"]
    # the wall clock jumps 3 h 30 min forward; ticks go on by 1 s
    await advance(1000, 3 * 3600000 + 1800000)
    aiocron.clock_set()
    await settle()
    print(sorted(f.split()[0] for f in fired), now_str())
    print(fmt(aiocron.next_runs("hourly", 1)[0]), tick_next - aiocron.info("tick")["next_in"])
    print([(n, aiocron.info(n)["runs"], aiocron.info(n)["skipped"]) for n in ("hourly", "hourly_skip")])
""",
    )
    assert out[0] == "['hourly 2026-03-01 10:00:00', 'hourly_skip 2026-03-01 10:00:00']"
    # 11:00, 12:00 and 13:00 were missed: one late run for the default rule, none for skip
    assert out[1] == "['hourly'] 2026-03-01 13:30:00"
    assert out[2] == "2026-03-01 14:00:00 1000"
    # 11:00 ran late (or was dropped); 12:00 and 13:00 collapsed into it: counted
    assert out[3] == "[('hourly', 2, 2), ('hourly_skip', 1, 3)]"


@pytest.mark.board
def test_interval_schedules_with_options_never_wake_the_idle_loop(mp):
    out = mp.run(
        """
        import asyncio, time, aioctl, aioschedule, aiocron
        reads = [0]
        def counting_ticks():
            reads[0] += 1
            return time.ticks_ms()
        aioschedule.clock(ticks_ms=counting_ticks)

        async def job():
            pass

        async def main():
            aioctl.add(job)
            aioschedule.schedule("job", start_in=3600, repeat=60, times=2, jitter=1, misfire="skip")
            aioctl.add(aioschedule.schedule_loop)
            await asyncio.sleep_ms(20)
            r = reads[0]
            await asyncio.sleep_ms(300)
            print("idle reads", reads[0] - r)

        asyncio.run(main())
        """
    )
    assert out.strip() == "idle reads 0"
