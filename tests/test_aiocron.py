# aiocron: cron / keyword calendar specs and next_time, run in MicroPython.

# MicroPython-side helpers. Times are printed with gmtime, which is UTC on
# every port and under any TZ, so the printed text does not depend on the
# host zone. T() uses mktime: conftest pins TZ=UTC.
HELP = """
import time, aiocron
from aiocron import cron, compile, next_time, next_times
WD = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

def T(*a):
    return time.mktime(a + (0,) * (8 - len(a)))

def fmt(t):
    g = time.gmtime(t)
    return "%04d-%02d-%02d %02d:%02d:%02d %s" % (g[:6] + (WD[g[6]],))

def show(spec, after, n=4, offset=0):
    print(" | ".join(fmt(t) for t in next_times(spec, after, n, offset)))

def err(f, *a, **k):
    try:
        f(*a, **k)
    except ValueError as e:
        print("ValueError:", e)
    else:
        print("accepted")
"""

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
