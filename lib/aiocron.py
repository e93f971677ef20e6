# aiocron: calendar arithmetic: the times a calendar spec matches, and
# epoch seconds <-> time tuples at a fixed UTC offset. It imports nothing of
# the scheduler: `import aiocron` alone loads this module and no other.
# Its other public names are loaded on first use (_LAZY below): cron() and
# compile() from aiospec, utc_offset() and clock_set() from the scheduler's
# wall-clock side (aiowall), info() and next_runs() from aioinfo.
#
#   spec = aiocron.cron("*/15 8-18 * * 1-5")       # min hour mday month wday
#   spec = aiocron.compile(hrs=6, wday=range(5))   # 06:00:00 on weekdays
#   t = aiocron.next_time(spec, int(time.time()), offset=3600)
#
# Times are epoch seconds. Fields are matched in local time = UTC + offset
# seconds, broken down by this module itself: time.localtime follows the host
# TZ on the unix port but is UTC on boards, so using it would apply a zone
# twice on one port and once on the other. Epochs of 1970 and 2000 both work.
#
# A spec is a bytes object of _LEN bytes: one bitmap per field and a flag. A
# 60-bit mask as an int is a big int on 32-bit boards (small ints hold 30
# bits); byte lookups never allocate.

import time
from micropython import const

# A spec's layout: byte offsets of the bitmaps; value v is bit v & 7 of
# byte off + (v >> 3). aiospec, which builds specs, keeps compile-time
# copies (checked by tests/test_layers.py).
_SEC = const(0)  # 0-59
_MIN = const(8)  # 0-59
_HR = const(16)  # 0-23
_MDAY = const(19)  # 1-31
_MON = const(23)  # 1-12
_WDAY = const(25)  # 0-6, Monday = 0
_RULE = const(26)
_LEN = const(27)
_OR = const(1)  # _RULE: a day matches if mday _OR wday matches (cron's rule)

_LAZY = ("aiospec", "cron", "compile", "aiowall", "utc_offset", "clock_set", "aioinfo", "next_runs", "info")


def __getattr__(attr):
    from aioctl import lazy_attr  # when a call needs it: importing aiocron loads nothing else

    return lazy_attr(_LAZY, attr)

# Gregorian weekdays and leap years repeat every 400 years: a spec that has
# not matched by then never will (aiospec.check_spec rejects such specs; this is a guard).
_YEARS = const(400)

# Days from the port's epoch to 1970-01-01: 2000-epoch ports count 10957
# fewer. gmtime is UTC on every port, so this does not depend on the host TZ.
_EPOCH = 10957 * 86400 if getattr(time, "gmtime", time.localtime)(0)[0] == 2000 else 0


def _leap(y):
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def month_len(y, m):
    if m == 2:
        return 29 if _leap(y) else 28
    # 31 for 1, 3, 5, 7, 8, 10, 12: odd months, then even ones from August
    return 30 + ((m + (m >> 3)) & 1)


def _yday(y, m):
    # Days in year y before month m (first of month, 0-based)
    n = (367 * m - 362) // 12
    if m > 2:
        n -= 1 if _leap(y) else 2
    return n


def _y0(y):
    # Days from 1970-01-01 to January 1st of year y; 477 leap days before 1970
    y1 = y - 1
    return 365 * (y - 1970) + y1 // 4 - y1 // 100 + y1 // 400 - 477


def _date(dn):
    # Day number since 1970-01-01 -> (year, month, day). Runs once per call.
    y = 1970 + dn // 365  # never too small: a year has at least 365 days
    while _y0(y) > dn:
        y -= 1
    dn -= _y0(y)
    m = 1
    while m < 12 and _yday(y, m + 1) <= dn:
        m += 1
    return y, m, dn - _yday(y, m) + 1


def has(spec, off, v):
    return spec[off + (v >> 3)] >> (v & 7) & 1


def scan(spec, off, v, end):
    # The first set value >= v and < end, or -1
    while v < end:
        if spec[off + (v >> 3)] >> (v & 7) & 1:
            return v
        v += 1
    return -1


def _epoch_in(fn, t, offset):
    # Epoch seconds within about 3000 years, and an offset within a day:
    # anything else is an error, not a long search.
    if t is True or t is False or not isinstance(t, (int, float)) or not -1e11 < t < 1e11:
        raise ValueError("%s: %r is not a time in epoch seconds" % (fn, t))
    if type(offset) is not int or abs(offset) > 86400:
        raise ValueError("%s: offset %r is not seconds within a day" % (fn, offset))
    return int(t) + offset + _EPOCH


def next_time(spec, after, offset=0):
    # The first epoch second > after whose local time (UTC + offset) matches.
    # Whole months, days, hours and minutes that cannot match are skipped.
    # The epoch is split into days and seconds once (big ints on 32-bit
    # boards); the search itself uses small ints only.
    if not isinstance(spec, (bytes, bytearray)) or len(spec) != _LEN:
        raise ValueError("next_time: %r is not a spec from aiocron.cron() or compile()" % (spec,))
    dn, s = divmod(_epoch_in("next_time", after, offset) + 1, 86400)
    y, m, d = _date(dn)
    h = s // 3600
    mi = s // 60 % 60
    s %= 60
    end = y + _YEARS
    orday = spec[_RULE] & _OR
    while y < end:
        if m > 12:
            y += 1
            m = 1
        v = scan(spec, _MON, m, 13)
        if v != m:
            if v < 0:
                m = 13  # next year
                d = 1
                h = mi = s = 0
                continue
            m = v
            d = 1
            h = mi = s = 0
        n = month_len(y, m)
        if d > n:
            m += 1
            d = 1
            h = mi = s = 0
            continue
        wd = (_y0(y) + _yday(y, m) + d + 2) % 7  # 1970-01-01 was a Thursday (3)
        v = d
        while d <= n:
            md = has(spec, _MDAY, d)
            wm = has(spec, _WDAY, wd)
            if (md | wm) if orday else (md & wm):
                break
            d += 1
            wd = (wd + 1) % 7
        if d != v:
            h = mi = s = 0
            if d > n:
                continue
        v = scan(spec, _HR, h, 24)
        if v < 0:
            d += 1
            h = mi = s = 0
            continue
        if v != h:
            h = v
            mi = s = 0
        v = scan(spec, _MIN, mi, 60)
        if v < 0:
            h += 1
            mi = s = 0
            continue
        if v != mi:
            mi = v
            s = 0
        v = scan(spec, _SEC, s, 60)
        if v < 0:
            mi += 1
            s = 0
            continue
        dn = _y0(y) + _yday(y, m) + d - 1
        return dn * 86400 + (h * 3600 + mi * 60 + v) - offset - _EPOCH
    raise ValueError("spec never matches")


def next_times(spec, after, n, offset=0):
    # The next n matching times, in order
    if type(n) is not int or not 0 <= n <= 10000:
        raise ValueError("next_times: n %r must be a whole number from 0 to 10000" % (n,))
    r = []
    for _ in range(n):
        after = next_time(spec, after, offset)
        r.append(after)
    return r


def localtime(t, offset=0):
    # Epoch seconds -> (year, month, mday, hour, min, sec, wday, yday) at
    # UTC + offset, the same on every port.
    dn, s = divmod(_epoch_in("localtime", t, offset), 86400)
    y, m, d = _date(dn)
    return (y, m, d, s // 3600, s // 60 % 60, s % 60, (dn + 3) % 7, _yday(y, m) + d)


def mktime(tm, offset=0):
    # The inverse of localtime(): a time tuple (6 to 9 items) at UTC + offset
    # -> epoch seconds.
    check_time("mktime:", tm, 6)
    if type(offset) is not int or abs(offset) > 86400:
        raise ValueError("mktime: offset %r is not seconds within a day" % (offset,))
    y, m, d, h, mi, s = tm[:6]
    return (_y0(y) + _yday(y, m) + d - 1) * 86400 + h * 3600 + mi * 60 + s - offset - _EPOCH


def check_time(what, tm, least=8):
    # A time tuple: 8 items as boards give it, 9 on unix (mktime: 6 do).
    ok = isinstance(tm, tuple) and least <= len(tm) <= 9
    if ok:
        for v in tm:
            if type(v) is not int:
                ok = False
    if not (ok and 1970 <= tm[0] < 2200 and 1 <= tm[1] <= 12 and 1 <= tm[2] <= month_len(tm[0], tm[1])
            and 0 <= tm[3] < 24 and 0 <= tm[4] < 60 and 0 <= tm[5] < 62):
        raise ValueError("%s %r is not a time tuple" % (what, tm))


# Is the wall clock set? A board's clock reads 1970 or 2000 until NTP or an
# RTC sets it: wall-clock schedules and saved schedules wait until it reads
# min_year or later (clock_check changes it).
min_year = 2024


def clock_is_set(wall_s):
    # wall_s: epoch seconds of the port (time.time())
    return _epoch_in("clock_is_set", wall_s, 0) >= _y0(min_year) * 86400


def clock_check(year=2024):
    global min_year
    if type(year) is not int:
        raise ValueError("clock_check: %r is not a year" % (year,))
    min_year = year
