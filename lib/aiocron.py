# aiocron: wall-clock calendar specs and the times they next match, and the
# wall-clock side of aioschedule (calendars, time-tuple starts, utc_offset,
# clock jumps, misfire/times/jitter options). aioschedule imports it only
# when a schedule needs it, so interval-only boards never load it.
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

# Byte offsets of the bitmaps; value v is bit v & 7 of byte off + (v >> 3).
# aiospec, which builds specs, has the same layout.
_SEC = const(0)  # 0-59
_MIN = const(8)  # 0-59
_HR = const(16)  # 0-23
_MDAY = const(19)  # 1-31
_MON = const(23)  # 1-12
_WDAY = const(25)  # 0-6, Monday = 0
_FLAG = const(26)
_LEN = const(27)

_OR = const(1)  # _FLAG: a day matches if mday OR wday matches (cron's rule)

# Gregorian weekdays and leap years repeat every 400 years: a spec that has
# not matched by then never will (aiospec rejects such specs; this is a guard).
_YEARS = const(400)

# Days from the port's epoch to 1970-01-01: 2000-epoch ports count 10957
# fewer. gmtime is UTC on every port, so this does not depend on the host TZ.
_EPOCH = (
    10957 * 86400 if getattr(time, "gmtime", time.localtime)(0)[0] == 2000 else 0
)


def _leap(y):
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def _mlen(y, m):
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


def _has(spec, off, v):
    return spec[off + (v >> 3)] >> (v & 7) & 1


def _scan(spec, off, v, end):
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
    orday = spec[_FLAG] & _OR
    while y < end:
        if m > 12:
            y += 1
            m = 1
        v = _scan(spec, _MON, m, 13)
        if v != m:
            if v < 0:
                m = 13  # next year
                d = 1
                h = mi = s = 0
                continue
            m = v
            d = 1
            h = mi = s = 0
        n = _mlen(y, m)
        if d > n:
            m += 1
            d = 1
            h = mi = s = 0
            continue
        wd = (_y0(y) + _yday(y, m) + d + 2) % 7  # 1970-01-01 was a Thursday (3)
        v = d
        while d <= n:
            md = _has(spec, _MDAY, d)
            wm = _has(spec, _WDAY, wd)
            if (md | wm) if orday else (md & wm):
                break
            d += 1
            wd = (wd + 1) % 7
        if d != v:
            h = mi = s = 0
            if d > n:
                continue
        v = _scan(spec, _HR, h, 24)
        if v < 0:
            d += 1
            h = mi = s = 0
            continue
        if v != h:
            h = v
            mi = s = 0
        v = _scan(spec, _MIN, mi, 60)
        if v < 0:
            h += 1
            mi = s = 0
            continue
        if v != mi:
            mi = v
            s = 0
        v = _scan(spec, _SEC, s, 60)
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
    _tm("mktime:", tm, 6)
    if type(offset) is not int or abs(offset) > 86400:
        raise ValueError("mktime: offset %r is not seconds within a day" % (offset,))
    y, m, d, h, mi, s = tm[:6]
    return (_y0(y) + _yday(y, m) + d - 1) * 86400 + h * 3600 + mi * 60 + s - offset - _EPOCH


# The wall-clock side of aioschedule. It works on aioschedule's records; the
# layout below is aioschedule's (_DUE, _NAME, _FLAG, _LIVE, _X_*).
_S_DUE = const(0)
_S_FLAG = const(4)
_S_LIVE = const(0)
_X_SPEC = const(0)
_X_AT = const(1)
_X_JITTER = const(4)
_X_BASE = const(5)
_CHECK = const(60000)  # ms between clock checks while wall-clock schedules exist
_JUMP = const(2000)  # ms of wall-clock change beyond ticks progress that is a jump

_LAZY = {"cron": "aiospec", "compile": "aiospec", "next_runs": "aioinfo", "info": "aioinfo"}
min_year = 2024  # a wall clock reading an earlier year is not set yet
# Scheduler ms of the last clock check, and of the reading of _wall_then
# (on aioschedule's clock: in its _clocked list, which shifts them).
_times = [None, None]
_wall_then = None  # wall ms then
_walls = 0  # wall-clock schedules seen then (0: none)
_changes = -1  # aioschedule._changes then

import aioschedule as _s
from aiolog import _lazy_attr

_s._clocked.append(_times)


def __getattr__(attr):
    # cron() and compile() live in aiospec, which aioschedule lets go once
    # the schedules are made; next_runs() and info() (for the REPL and tests)
    # in aioinfo, let go after each call (aiolog._lazy).
    return _lazy_attr(_LAZY, attr)


def _tm(what, tm, least=8):
    # A time tuple: 8 items as boards give it, 9 on unix (mktime: 6 do).
    ok = isinstance(tm, tuple) and least <= len(tm) <= 9
    if ok:
        for v in tm:
            if type(v) is not int:
                ok = False
    if not (ok and 1970 <= tm[0] < 2200 and 1 <= tm[1] <= 12 and 1 <= tm[2] <= _mlen(tm[0], tm[1])
            and 0 <= tm[3] < 24 and 0 <= tm[4] < 60 and 0 <= tm[5] < 62):
        raise ValueError("%s %r is not a time tuple" % (what, tm))


def epoch(tm):
    # schedule()'s time-tuple start_in -> epoch seconds: at utc_offset() if
    # set, else the port's own mktime.
    _tm("schedule: start_in", tm)
    off = _s._offset
    return int(time.mktime(tm)) if off is None else mktime(tm, off)


def _random(ms):
    import random

    return random.getrandbits(30) % (ms + 1)


def base(s, x):
    # Keeps the jitter-free due time and adds this start's jitter.
    x[_X_BASE] = s[_S_DUE]
    if x[_X_JITTER]:
        s[_S_DUE] += _random(x[_X_JITTER])


def _local(t):
    # Epoch seconds -> time tuple in the schedules' local time.
    off = _s._offset
    return time.localtime(t) if off is None else localtime(t, off)


def next_wall(s, x, now, first=False):
    # Sets a calendar schedule's due time: the first match after the later of
    # now and its last start. While the wall clock is not set, looks again in
    # _CHECK ms instead.
    wall = _s._wall() // 1000
    if _local(wall)[0] < min_year:
        x[_X_AT] = None
        s[_S_DUE] = now + _CHECK
        return
    off = _s._offset or 0
    at = x[_X_AT]
    if first or at is None:
        at = next_time(x[_X_SPEC], wall, off)
    else:
        # Past the last start; starts missed meanwhile (the loop was blocked
        # or the clock jumped) collapse into the one that just ran: counted.
        at = next_time(x[_X_SPEC], at, off)
        n = 0
        while at <= wall:
            n += 1
            if n > 1000:  # a long jump: not worth counting one by one
                at = next_time(x[_X_SPEC], wall, off)
                break
            s[6] += 1
            at = next_time(x[_X_SPEC], at, off)
    x[_X_AT] = at
    s[_S_DUE] = now + at * 1000 - _s._wall()
    base(s, x)


def latest(x, wall):
    # The last start of calendar extras x at or before wall (epoch s), from
    # its next start x[_X_AT] on (which is at or before wall).
    if type(x) is not list or len(x) != 6 or type(x[_X_AT]) is not int or type(wall) is not int:
        raise ValueError("latest: %r, %r are not a calendar's options and an epoch second" % (x, wall))
    at = x[_X_AT]
    off = _s._offset or 0
    for _ in range(1000):  # a long time stopped: its latest of the first 1000 is enough
        nxt = next_time(x[_X_SPEC], at, off)
        if nxt > wall:
            break
        at = nxt
    return at


def check_clock(now):
    # Compares wall-clock progress with ticks progress, at most once a
    # _CHECK (reading the wall clock allocates on boards), and recomputes the
    # wall-clock schedules after a jump (NTP, RTC set). True while any exist.
    global _walls, _changes
    if _times[0] is not None and now - _times[0] < _CHECK and _s._changes == _changes:
        return _walls
    _times[0] = now
    _changes = _s._changes
    _walls = 0
    for x in _s._extras.values():
        if x[_X_SPEC] or x[_X_AT] is not None:
            _walls = 1
            break
    if not _walls:
        return False
    wall = _s._wall()
    if _wall_then is not None and abs(wall - _wall_then - (now - _times[1])) > _JUMP:
        _rewall(now)
    _clock_read(now, wall)
    return True


def _clock_read(now, wall):
    global _wall_then
    _times[1] = now
    _wall_then = wall


def _rewall(now):
    for name, x in list(_s._extras.items()):
        s = _s._active.get(name)
        if s is None or s[_S_FLAG] != _S_LIVE or not (x[_X_SPEC] or x[_X_AT] is not None):
            continue
        _s._kill(s)
        s = s[:]
        if x[_X_AT] is None:
            next_wall(s, x, now, True)
        else:
            # The same wall-clock second, seen from the new clock.
            s[_S_DUE] = now + x[_X_AT] * 1000 - _s._wall()
            base(s, x)
        _s._active[name] = s
        _s._push(s)


def clock_set():
    # Call after setting the wall clock (NTP, machine.RTC): wall-clock
    # schedules are recomputed now rather than at the next check.
    now = _s._now()
    _rewall(now)
    _clock_read(now, _s._wall())
    _s._loop_nap.wake()


def utc_offset(seconds=None):
    # Local time = UTC + seconds for every wall-clock schedule (calendars,
    # time tuples, next_runs). None: the port's own localtime/mktime for time
    # tuples, UTC for calendars.
    if seconds is not None and (type(seconds) is not int or abs(seconds) > 14 * 3600):
        raise ValueError("utc_offset: %r is not a number of seconds within 14 hours" % (seconds,))
    _s._offset = seconds
    for x in _s._extras.values():
        if x[_X_SPEC]:
            x[_X_AT] = None  # the next start, again, in the new local time
    clock_set()


def clock_check(year=2024):
    # Wall-clock schedules wait while the clock reads a year before this one
    # (a board's clock is wrong until NTP or an RTC sets it).
    global min_year
    if type(year) is not int:
        raise ValueError("clock_check: %r is not a year" % (year,))
    min_year = year
