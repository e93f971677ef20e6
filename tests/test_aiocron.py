# aiocron: cron / keyword calendar specs and next_time, run in MicroPython;
# then calendars through the scheduler on a simulated clock.

import pytest

from helpers import sim

# The MicroPython-side helpers: mp/tests/cronshow.py.
HELP = "from cronshow import *\n"

JAN1 = 1704067200  # 2024-01-01 00:00:00 UTC, a Monday


def lines(mp, code, heap=None):
    return mp.run(HELP + code, heap=heap).splitlines()


def test_cron_syntax_elements(mp):
    out = lines(
        mp,
        """
t = T(2024, 1, 1)  # a Monday
show(cron("* * * * *"), t, 3)
show(cron("*/15 * * * *"), t, 5)
show(cron("10-50/20 * * * *"), t)
show(cron("1,5,9 * * * *"), t)
show(cron("0 8-10 * * *"), t)
show(cron("0 0 1-3,7,20-30/5 * *"), t, 8)
show(cron("0 0 1 */4 *"), t)
show(cron("30 12 * * 1-5"), T(2024, 1, 4), 3)
show(cron("0 6,18 * 3-4 6"), t, 3)
show(cron("  0   0\t1 1 *  "), t, 2)
print(cron("*/20 * * * *") == cron("0,20,40 * * * *") == cron("0-59/20 * * * *"))
""",
    )
    assert out == [
        "2024-01-01 00:01:00 Mon | 2024-01-01 00:02:00 Mon | 2024-01-01 00:03:00 Mon",
        # strictly after: 00:00 itself is not returned
        "2024-01-01 00:15:00 Mon | 2024-01-01 00:30:00 Mon | 2024-01-01 00:45:00 Mon"
        " | 2024-01-01 01:00:00 Mon | 2024-01-01 01:15:00 Mon",
        "2024-01-01 00:10:00 Mon | 2024-01-01 00:30:00 Mon | 2024-01-01 00:50:00 Mon | 2024-01-01 01:10:00 Mon",
        "2024-01-01 00:01:00 Mon | 2024-01-01 00:05:00 Mon | 2024-01-01 00:09:00 Mon | 2024-01-01 01:01:00 Mon",
        "2024-01-01 08:00:00 Mon | 2024-01-01 09:00:00 Mon | 2024-01-01 10:00:00 Mon | 2024-01-02 08:00:00 Tue",
        "2024-01-02 00:00:00 Tue | 2024-01-03 00:00:00 Wed | 2024-01-07 00:00:00 Sun | 2024-01-20 00:00:00 Sat"
        " | 2024-01-25 00:00:00 Thu | 2024-01-30 00:00:00 Tue | 2024-02-01 00:00:00 Thu | 2024-02-02 00:00:00 Fri",
        "2024-05-01 00:00:00 Wed | 2024-09-01 00:00:00 Sun | 2025-01-01 00:00:00 Wed | 2025-05-01 00:00:00 Thu",
        "2024-01-04 12:30:00 Thu | 2024-01-05 12:30:00 Fri | 2024-01-08 12:30:00 Mon",
        "2024-03-02 06:00:00 Sat | 2024-03-02 18:00:00 Sat | 2024-03-09 06:00:00 Sat",
        "2025-01-01 00:00:00 Wed | 2026-01-01 00:00:00 Thu",
        "True",
    ]


def test_cron_sunday_is_0_and_7(mp):
    out = lines(
        mp,
        """
t = T(2024, 1, 1)
print(cron("0 12 * * 0") == cron("0 12 * * 7"), cron("0 0 * * *") == cron("0 0 * * 0-6") == cron("0 0 * * 0-7"))
show(cron("0 12 * * 0"), t, 2)
show(cron("0 12 * * 7"), t, 2)
show(cron("0 12 * * 1"), t, 2)
show(cron("0 12 * * 5-7"), t, 4)
show(cron("0 12 * * */3"), t, 3)
show(compile(hrs=12, wday=6), t, 2)
""",
    )
    assert out == [
        "True True",
        "2024-01-07 12:00:00 Sun | 2024-01-14 12:00:00 Sun",
        "2024-01-07 12:00:00 Sun | 2024-01-14 12:00:00 Sun",
        "2024-01-01 12:00:00 Mon | 2024-01-08 12:00:00 Mon",
        "2024-01-05 12:00:00 Fri | 2024-01-06 12:00:00 Sat | 2024-01-07 12:00:00 Sun | 2024-01-12 12:00:00 Fri",
        # cron 0, 3, 6: Sunday, Wednesday, Saturday
        "2024-01-03 12:00:00 Wed | 2024-01-06 12:00:00 Sat | 2024-01-07 12:00:00 Sun",
        "2024-01-07 12:00:00 Sun | 2024-01-14 12:00:00 Sun",
    ]


def test_day_of_month_and_week_or_in_cron_and_in_keywords(mp):
    out = lines(
        mp,
        """
t = T(2024, 9, 1)
show(cron("0 0 13 * 5"), t, 5)             # both restricted: 13th OR Friday
show(compile(hrs=0, mday=13, wday=4), t, 3) # keywords: 13th AND Friday
show(cron("0 0 13 * *"), t, 2)             # only mday restricted
show(cron("0 0 * * 5"), t, 2)              # only wday restricted
show(cron("0 0 */2 * 5"), t, 2)            # starts with *: unrestricted, so AND (Vixie)
show(cron("0 0 1-31 * 5"), t, 2)           # restricted, so OR: every day
""",
    )
    assert out == [
        "2024-09-06 00:00:00 Fri | 2024-09-13 00:00:00 Fri | 2024-09-20 00:00:00 Fri"
        " | 2024-09-27 00:00:00 Fri | 2024-10-04 00:00:00 Fri",
        "2024-09-13 00:00:00 Fri | 2024-12-13 00:00:00 Fri | 2025-06-13 00:00:00 Fri",
        "2024-09-13 00:00:00 Fri | 2024-10-13 00:00:00 Sun",
        "2024-09-06 00:00:00 Fri | 2024-09-13 00:00:00 Fri",
        "2024-09-13 00:00:00 Fri | 2024-09-27 00:00:00 Fri",
        "2024-09-02 00:00:00 Mon | 2024-09-03 00:00:00 Tue",
    ]
    # the OR case from a month where the 13th is not a Friday
    out = lines(mp, 'show(cron("0 0 13 * 5"), T(2024, 10, 10), 3)')
    assert out == ["2024-10-11 00:00:00 Fri | 2024-10-13 00:00:00 Sun | 2024-10-18 00:00:00 Fri"]


def test_impossible_specs_are_rejected_and_rare_ones_found(mp):
    out = lines(
        mp,
        """
err(cron, "0 0 31 2 *")
err(cron, "0 0 30 2 *")
err(cron, "0 0 30,31 2 *")
err(cron, "0 0 31 4,6,9,11 *")
err(cron, "0 0 31 2,4 *")
err(compile, mday=31, month=2)
err(compile, mday=(30, 31), month=(2,), wday=0)
err(compile, mday=range(30, 32), month=2)
# possible: one matching month or day is enough; cron OR still fires on wday
err(cron, "0 0 29 2 *")
err(cron, "0 0 31 1,2 *")
err(compile, mday=(1, 31), month=2)
err(cron, "0 0 31 2 1")
show(cron("0 0 31 2 1"), T(2024, 1, 1), 2)
# AND of Feb 29 and a weekday: every weekday comes round, decades apart
show(compile(hrs=0, mday=29, month=2, wday=0), T(2016, 3, 1), 3)
show(compile(hrs=0, mday=29, month=2, wday=6), T(2024, 3, 1), 1)
show(compile(hrs=0, mday=31, month=12, wday=6), T(2024, 1, 1), 2)
""",
    )
    assert out == [
        "ValueError: impossible: mday 31 never occurs in month 2",
        "ValueError: impossible: mday 30 never occurs in month 2",
        "ValueError: impossible: mday 30 never occurs in month 2",
        "ValueError: impossible: mday 31 never occurs in month 4,6,9,11",
        "ValueError: impossible: mday 31 never occurs in month 2,4",
        "ValueError: impossible: mday 31 never occurs in month 2",
        "ValueError: impossible: mday 30 never occurs in month 2",
        "ValueError: impossible: mday 30 never occurs in month 2",
        "accepted",
        "accepted",
        "accepted",
        "accepted",
        "2024-02-05 00:00:00 Mon | 2024-02-12 00:00:00 Mon",
        # 2100 is not a leap year: 2072 -> 2112 is 40 years
        "2044-02-29 00:00:00 Mon | 2072-02-29 00:00:00 Mon | 2112-02-29 00:00:00 Mon",
        "2032-02-29 00:00:00 Sun",
        "2028-12-31 00:00:00 Sun | 2034-12-31 00:00:00 Sun",
    ]


def test_bad_input_names_the_value(mp):
    out = lines(
        mp,
        """
for s in ("60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *", "* * * 13 *", "* * * 0 *",
          "* * * * 8", "*/0 * * * *", "*/x * * * *", "*/ * * * *", "5/2 * * * *", "1-x * * * *",
          "10-5 * * * *", "1,,2 * * * *", "-1 * * * *", "* * * *", "* * * * * *", "",
          "mon * * * *", "1.5 * * * *"):
    err(cron, s)
err(compile, mins=60)
err(compile, secs=-1)
err(compile, hrs=(1, 24))
err(compile, mday=0)
err(compile, month=13)
err(compile, wday=7)
err(compile, hrs=())
err(compile, wday=True)
err(compile, hrs="5")
err(compile, hrs=1.5)
err(compile, mins=(1, None))
err(compile, mins=object)
""",
    )
    assert out == [
        "ValueError: mins '60' not in 0-59",
        "ValueError: hrs '24' not in 0-23",
        "ValueError: mday '0' not in 1-31",
        "ValueError: mday '32' not in 1-31",
        "ValueError: month '13' not in 1-12",
        "ValueError: month '0' not in 1-12",
        "ValueError: wday '8' not in 0-7",
        "ValueError: mins '*/0': the step is not in 1-59",
        "ValueError: mins '*/x': the step is not in 1-59",
        "ValueError: mins '*/': the step is not in 1-59",
        "ValueError: mins '5/2': a step needs * or a range",
        "ValueError: mins 'x' not in 0-59",
        "ValueError: mins range '10-5' reversed",
        "ValueError: mins '' not in 0-59",
        "ValueError: mins '' not in 0-59",
        "ValueError: cron needs 5 fields: '* * * *'",
        "ValueError: cron needs 5 fields: '* * * * * *'",
        "ValueError: cron needs 5 fields: ''",
        "ValueError: mins 'mon' not in 0-59",
        "ValueError: mins '1.5' not in 0-59",
        "ValueError: mins 60 not in 0-59",
        "ValueError: secs -1 not in 0-59",
        "ValueError: hrs 24 not in 0-23",
        "ValueError: mday 0 not in 1-31",
        "ValueError: month 13 not in 1-12",
        "ValueError: wday 7 not in 0-6",
        "ValueError: empty hrs",
        "ValueError: bad wday True",
        "ValueError: bad hrs '5'",
        "ValueError: bad hrs 1.5",
        "ValueError: mins None not in 0-59",
        "ValueError: bad mins <class 'object'>",
    ]


def test_keyword_defaults_and_seconds(mp):
    out = lines(
        mp,
        """
t = T(2024, 1, 1, 5, 59, 59)
show(compile(), t, 3)                    # secs=0, mins=0: hourly
show(compile(hrs=6), t, 2)               # 06:00:00 once a day
show(compile(mins=None, hrs=6), t, 3)    # every minute of 06
show(compile(secs=None, mins=None, hrs=6), t - 1, 3)  # every second of 06
show(compile(secs=(15, 45), mins=range(0, 60, 30), hrs=23), T(2024, 1, 1, 23, 30, 15), 3)
show(compile(secs=59, mins=59, hrs=23, mday=31, month=12), T(2024, 6, 1), 2)
print(next_time(compile(mins=None), T(2024, 1, 1) + 0.5) == T(2024, 1, 1, 0, 1))  # a float after
print(type(cron("* * * * *")) is type(compile()), len(compile()))
""",
    )
    assert out == [
        "2024-01-01 06:00:00 Mon | 2024-01-01 07:00:00 Mon | 2024-01-01 08:00:00 Mon",
        "2024-01-01 06:00:00 Mon | 2024-01-02 06:00:00 Tue",
        "2024-01-01 06:00:00 Mon | 2024-01-01 06:01:00 Mon | 2024-01-01 06:02:00 Mon",
        "2024-01-01 06:00:00 Mon | 2024-01-01 06:00:01 Mon | 2024-01-01 06:00:02 Mon",
        "2024-01-01 23:30:45 Mon | 2024-01-02 23:00:15 Tue | 2024-01-02 23:00:45 Tue",
        "2024-12-31 23:59:59 Tue | 2025-12-31 23:59:59 Wed",
        "True",
        "True 27",
    ]


def test_feb_29_across_years(mp):
    out = lines(
        mp,
        """
s = cron("0 0 29 2 *")
show(s, T(2024, 2, 29), 2)     # strictly after the match itself
show(s, T(2024, 3, 1), 1)
show(s, T(1999, 6, 1), 1)      # 2000 is a leap year (divisible by 400)
show(s, T(2096, 3, 1), 1)      # 2100 is not
show(compile(hrs=12, mday=29, month=2), T(2097, 1, 1), 1)
show(cron("0 0 28-31 2 *"), T(2023, 2, 27), 4)
show(cron("0 0 31 * *"), T(2024, 1, 31), 4)
""",
    )
    assert out == [
        "2028-02-29 00:00:00 Tue | 2032-02-29 00:00:00 Sun",
        "2028-02-29 00:00:00 Tue",
        "2000-02-29 00:00:00 Tue",
        "2104-02-29 00:00:00 Fri",
        "2104-02-29 12:00:00 Fri",
        "2023-02-28 00:00:00 Tue | 2024-02-28 00:00:00 Wed | 2024-02-29 00:00:00 Thu | 2025-02-28 00:00:00 Fri",
        "2024-03-31 00:00:00 Sun | 2024-05-31 00:00:00 Fri | 2024-07-31 00:00:00 Wed | 2024-08-31 00:00:00 Sat",
    ]


OFFSETS = """
t = %d  # 2024-01-01 00:00:00 UTC
print(time.localtime(0)[3])  # the host zone is in force for localtime ...
show(cron("0 6 * * *"), t, 2, 3600)       # 06:00 at UTC+1 is 05:00 UTC
show(cron("0 6 * * *"), t, 1, -5 * 3600)  # 06:00 at UTC-5 is 11:00 UTC
show(cron("0 0 1 * *"), t, 2, 3600)       # local month starts: the evening before in UTC
show(cron("30 0 * * 1"), t, 1, 19800)     # UTC+5:30 Monday 00:30 is Sunday 19:00 UTC
show(compile(hrs=23, wday=6), t, 1, -3600)
print(next_time(cron("0 6 * * *"), t + 5 * 3600, 3600) - t)  # 05:00 UTC itself excluded
""" % JAN1


def test_offset_is_applied_once_whatever_the_host_zone(mp):
    expect = [
        "2024-01-01 05:00:00 Mon | 2024-01-02 05:00:00 Tue",
        "2024-01-01 11:00:00 Mon",
        "2024-01-31 23:00:00 Wed | 2024-02-29 23:00:00 Thu",
        "2024-01-07 19:00:00 Sun",
        "2024-01-08 00:00:00 Mon",
        str(86400 + 5 * 3600),
    ]
    # ... but not for aiocron, which breaks epoch seconds down itself
    assert lines(mp, OFFSETS) == ["0"] + expect
    out = mp.run(HELP + OFFSETS, env={"TZ": "America/New_York"}).splitlines()
    assert out == ["19"] + expect


# Each spec: its matcher, written independently from the spec text, on a
# gmtime tuple (y, mon, mday, h, mi, s, wday Monday=0, ...), and an offset.
BRUTE = """
S = %d  # 2024-01-25 00:00 UTC
E = %d  # 2024-03-03 00:00 UTC
CASES = (
    ("A", cron("*/15 8-18 * * 1-5"), 19800, lambda g: g[4] %% 15 == 0 and 8 <= g[3] <= 18 and g[6] < 5),
    ("B", cron("0 0 29 2 *"), 0, lambda g: g[1] == 2 and g[2] == 29 and g[3] == 0 and g[4] == 0),
    ("C", cron("10-50/20 */6 1,15,31 * *"), 0, lambda g: g[4] in (10, 30, 50) and g[3] %% 6 == 0 and g[2] in (1, 15, 31)),
    ("D", cron("0 12 13 * 5"), -28800, lambda g: g[4] == 0 and g[3] == 12 and (g[2] == 13 or g[6] == 4)),
    ("E", cron("59 23 28-31 * 0"), -28800, lambda g: g[4] == 59 and g[3] == 23 and (g[2] >= 28 or g[6] == 6)),
    ("F", cron("5 4 * 2 7"), 0, lambda g: g[1] == 2 and g[6] == 6 and g[3] == 4 and g[4] == 5),
    ("G", cron("0 0 */10 * 3"), 0, lambda g: g[2] in (1, 11, 21, 31) and g[6] == 2 and g[3] == 0 and g[4] == 0),
    ("H", cron("* 3 * * *"), 19800, lambda g: g[3] == 3),
    ("I", compile(mins=range(0, 60, 7), hrs=(0, 23), mday=(1, 29), wday=(3, 4)), 19800,
        lambda g: g[4] %% 7 == 0 and g[3] in (0, 23) and g[2] in (1, 29) and g[6] in (3, 4)),
    ("J", compile(hrs=None, mday=29, month=2), 0, lambda g: g[4] == 0 and g[1] == 2 and g[2] == 29),
    ("K", compile(mins=None, hrs=None, month=3), 0, lambda g: g[1] == 3),
    ("L", compile(hrs=5, mday=31, month=(1, 2)), -28800, lambda g: g[4] == 0 and g[3] == 5 and g[1] == 1 and g[2] == 31),
)
offs = (0, 19800, -28800)
want = {c[0]: [] for c in CASES}
gm = time.gmtime
t = S
while t < E:
    g0 = gm(t)
    g1 = gm(t + 19800)
    g2 = gm(t - 28800)
    for name, spec, off, ok in CASES:
        if ok(g0 if off == 0 else g1 if off == 19800 else g2):
            want[name].append(t)
    t += 60

def chain(spec, off, a, e):
    r = []
    t = next_time(spec, a - 1, off)
    while t < e:
        r.append(t)
        t = next_time(spec, t, off)
    return r

for name, spec, off, ok in CASES:
    got = chain(spec, off, S, E)
    w = want[name]
    if got == w:
        print(name, "same", len(w))
    else:
        i = 0
        while i < min(len(w), len(got)) and w[i] == got[i]:
            i += 1
        print(name, "DIFF at", i, [fmt(x) for x in w[i:i + 2]], [fmt(x) for x in got[i:i + 2]])

# seconds, across Feb 29 -> Mar 1, second by second
S2 = %d  # 2024-02-29 22:30 UTC
E2 = S2 + 9000
for name, spec, ok in (
    ("s1", compile(secs=(0, 30, 59), mins=range(0, 60, 7), hrs=(23, 0)),
        lambda g: g[5] in (0, 30, 59) and g[4] %% 7 == 0 and g[3] in (23, 0)),
    ("s2", compile(secs=None, mins=(59, 0), hrs=(23, 0), mday=(29, 1)),
        lambda g: g[4] in (59, 0) and g[3] in (23, 0) and g[2] in (29, 1)),
):
    w = [t for t in range(S2, E2) if ok(gm(t + 3600))]
    print(name, "same" if chain(spec, 3600, S2, E2) == w else "DIFF", len(w))
"""


def test_matches_a_brute_force_search(mp):
    # 4M heap: on a 32-bit port each of these times (above 2**30) is a long
    # int on the heap; with gmtime's tuples they fragment the heap until the
    # lists of expected times cannot grow (2M was not enough)
    out = lines(mp, BRUTE % (1706140800, 1709424000, 1709245800), heap="4M")
    counts = {}
    for line in out:
        name, verdict, n = line.split(None, 2)
        assert verdict == "same", line
        counts[name] = int(n)
    assert len(counts) == 14
    # every spec fired in the span, so the comparison means something
    assert all(counts.values()), counts
    assert counts["B"] == 1 and counts["L"] == 1 and counts["J"] == 24


NAMES = [
    # (with names, the numeric form crontab gives them)
    ("0 9 * * MON-FRI", "0 9 * * 1-5"),
    ("0 9 * * sun", "0 9 * * 0"),
    ("0 9 * * Sat,SUN", "0 9 * * 6,0"),
    ("0 0 1 JAN,jul *", "0 0 1 1,7 *"),
    ("0 0 * feb-Apr *", "0 0 * 2-4 *"),
    ("*/15 8-18 * * mon-fri", "*/15 8-18 * * 1-5"),
    ("0 0 * * tue,THU", "0 0 * * 2,4"),
    ("0 0 1 mar,may,jun,aug,sep,oct,nov,dec *", "0 0 1 3,5,6,8,9,10,11,12 *"),
    ("0 0 * * wed", "0 0 * * 3"),
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
    ("@HOURLY", "0 * * * *"),
]


def test_cron_names_and_shorthands_compile_to_the_numeric_spec(mp):
    out = lines(mp, "PAIRS = %r\n" % NAMES + """
for named, numeric in PAIRS:
    print(named, cron(named) == cron(numeric))
err(cron, "@reboot")
err(cron, "@often")
err(cron, "0 0 * * xyz")
err(cron, "0 0 * * mo")
err(cron, "0 0 1 ja *")
""")
    assert out[:len(NAMES)] == ["%s True" % n for n, _ in NAMES]
    assert out[len(NAMES):] == [
        "ValueError: cron: @reboot is not a time: add the task at boot (aioctl.add) instead",
        "ValueError: cron: unknown shorthand '@often' (@yearly, @monthly, @weekly, @daily, @hourly)",
        "ValueError: wday 'xyz' not in 0-7",
        "ValueError: wday 'mo' not in 0-7",
        "ValueError: month 'ja' not in 1-12",
    ]


# ------------------------------------------ found in review
# Bugs a code review found, each checked so it stays fixed.


def test_new_utc_offset_moves_the_next_start(mp):
    out = sim(
        mp,
        """
    at(2025, 3, 30, 0, 0, 0)
    aiocron.utc_offset(3600)
    add("water", hrs=6, mins=30)
    print(aiocron.info("water")["next_in"] / 3600000)
    aiocron.utc_offset(7200)  # summer time
    print(aiocron.info("water")["next_in"] / 3600000, fmt(aiocron.next_runs("water", 1)[0]))
    aiocron.utc_offset(None)
""",
    )
    assert out == ["5.5", "4.5 2025-03-30 06:30:00"]


def test_jump_noticed_after_a_schedule_becomes_a_calendar(mp):
    out = sim(
        mp,
        """
    aiocron.clock_check(2020)
    at(2025, 1, 1, 0, 0, 0)
    add("a", start_in=600, repeat=600, misfire="skip")
    await start_loop()
    aioschedule.schedule("a", hrs=6)
    await advance(1000)
    await advance(120000, 120000 + 2 * 3600000)  # the clock was 2 h behind
    await advance(120000)
    print(round(aiocron.info("a")["next_in"] / 3600000, 2))
""",
    )
    assert out == ["3.93"]


def test_times_after_stop_and_start_is_one_more_run(mp):
    out = sim(
        mp,
        """
    at(2026, 1, 1, 0, 0, 0)
    add("t", start_in=1, repeat=1, times=2)
    await start_loop()
    await step()
    await step()
    print(aiocron.info("t")["state"], aiocron.info("t")["runs"])
    aioctl.stop("t")
    aioctl.start("t")
    await step()
    await advance(5000)
    print(aiocron.info("t")["state"], aiocron.info("t")["runs"])
""",
    )
    assert out == ["over 2", "over 3"]


def test_calendar_with_repeat_none(mp):
    out = sim(
        mp,
        """
    at(2026, 1, 1, 0, 0, 0)
    add("c", repeat=None, hrs=6)
    print(fmt(aiocron.next_runs("c", 1)[0]))
""",
    )
    assert out == ["2026-01-01 06:00:00"]


def test_a_day_the_month_does_not_have_is_not_a_time(mp):
    out = mp.run(
        """
        import aioctl, aioschedule
        async def job():
            pass
        aioctl.add(job)
        for tm in ((2025, 2, 29, 0, 0, 0, 0, 0), (2025, 4, 31, 6, 0, 0, 0, 0), (2028, 2, 29, 0, 0, 0, 0, 0)):
            try:
                aioschedule.schedule("job", start_in=tm)
                print("ok")
            except ValueError as e:
                print(e)
        """
    )
    assert out.splitlines() == [
        "schedule: start_in (2025, 2, 29, 0, 0, 0, 0, 0) is not a time tuple",
        "schedule: start_in (2025, 4, 31, 6, 0, 0, 0, 0) is not a time tuple",
        "ok",
    ]


def test_inspection_functions_take_any_name(mp):
    out = mp.run(
        """
        import aiocron
        print(aiocron.next_runs([1]), aiocron.info({}))
        """
    )
    assert out.splitlines() == [
        "aioschedule: no schedule [1]", "aioschedule: no schedule {}", "None None"]


# ------------------------------------------- what a board does
# The heap full at the worst moment, files written by someone else, weeks
# of uptime, jobs that raise anything: each test failed on the code before
# the fix it names.


def test_a_calendar_start_is_counted_once_when_its_next_start_fails(mp):
    # A calendar (every second) starts its run, then the heap is full when
    # its next start is worked out (localtime and friends allocate): the
    # pass fails and schedule_loop tries again 100 ms later. That start must
    # not be made (or counted as skipped) a second time. Found by the soak's
    # hog mode: a calendar had more runs + skipped than due starts.
    out = mp.run("""
import asyncio, time, micropython, aioctl, aioschedule
state = [0]   # 1: the next wall-clock reading fills the heap
def wall():
    t = time.time_ns() // 1000000
    if state[0] == 1:
        state[0] = 2
        micropython.heap_lock()
    return t
async def job():
    pass
async def at(ms):
    # until the wall clock is ms into a second
    while time.time_ns() // 1000000 % 1000 // 100 != ms // 100:
        await asyncio.sleep_ms(5)
async def main():
    aioschedule.clock(wall_ms=wall)
    aioctl.add(job)
    aioctl.add(aioschedule.schedule_loop)
    await at(100)
    t0 = time.time_ns() // 1000000000
    aioschedule.schedule("job", secs=range(60), mins=None)
    await at(900)
    state[0] = 1   # at its first start, in 0.1 s
    while state[0] != 2:
        await asyncio.sleep_ms(1)
    micropython.heap_unlock()
    await at(500)
    aioctl.stop("schedule_loop")
    s = aioschedule.group()["job"]
    print("due", time.time_ns() // 1000000000 - t0, "runs", s[5], "skipped", s[6])
asyncio.run(main())
""")
    text = out + mp.last.stderr
    assert "Task exception" not in text, text
    assert out.splitlines() == ["due 1 runs 1 skipped 0"], text


# -------------------------------------- calendars through the scheduler
# Calendar schedules through the scheduler, on a simulated clock: ticks and
# wall clock are driven by hand, so months and years pass in milliseconds.
#
# Those marked board run on the virtual Pico too: the port's own calendar
# (localtime/mktime: UTC there), 30-bit ticks and its speed. Left off it:
# the month-end walk and the times/jitter options (about a minute each in
# the emulator; nothing in them differs on a board but the speed).


def test_fire_times_across_month_ends_leap_day_and_year_end(mp):
    out = sim(
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
    out = sim(
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
    out = sim(
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
    out = sim(
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
    out = sim(
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
    out = sim(
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
    out = sim(
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
    out = sim(
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
    out = sim(
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
    out = sim(
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
    out = sim(
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
    out = sim(
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
        from tickcount import reads

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
