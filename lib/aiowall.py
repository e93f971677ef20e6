# aiowall: the wall-clock side of aioschedule: calendar schedules (cron=,
# secs/mins/hrs/...), time-tuple starts, utc_offset(), clock jumps (NTP, an
# RTC set). aioschedule loads it when a schedule has options, so an
# interval-only board never does; aiocron.utc_offset and aiocron.clock_set
# are these functions. The calendar arithmetic is aiocron's.

import time
from micropython import const
import aioctl
import aiocron
import aioschedule as _s

# aioschedule's record layouts (compile-time copies, checked by tests/test_layers.py)
_S_DUE = const(0)
_S_FLAG = const(4)
_S_SKIPPED = const(6)
_LIVE = const(0)
_X_SPEC = const(0)
_X_AT = const(1)
_X_LEN = const(6)

_CHECK = const(60000)  # ms between clock checks while wall-clock schedules exist
_JUMP = const(2000)  # ms of wall-clock change beyond ticks progress that is a jump

offset = None  # set by utc_offset(); None: the port's own localtime/mktime
# Scheduler ms of the last clock check, and of the reading of _wall_then
# (on aioschedule's clock: attached as clocked).
_times = [None, None]
_wall_then = None  # wall ms then
_walls = 0  # wall-clock schedules seen then (0: none)
_changes = -1  # aioschedule.changes then


def epoch(tm):
    # schedule()'s time-tuple start_in -> epoch seconds: at utc_offset() if
    # set, else the port's own mktime.
    aiocron.check_time("schedule: start_in", tm)
    return int(time.mktime(tm)) if offset is None else aiocron.mktime(tm, offset)


def local(t):
    # Epoch seconds -> time tuple in the schedules' local time.
    return time.localtime(t) if offset is None else aiocron.localtime(t, offset)


def next_wall(s, x, now, first=False):
    # Sets a calendar schedule's due time: the first match after the later of
    # now and its last start. While the wall clock is not set, looks again in
    # _CHECK ms instead.
    wall = _s.wall_ms() // 1000
    if not aiocron.clock_is_set(wall):
        x[_X_AT] = None
        s[_S_DUE] = now + _CHECK
        return
    off = offset or 0
    at = x[_X_AT]
    if first or at is None:
        at = aiocron.next_time(x[_X_SPEC], wall, off)
    else:
        # Past the last start; starts missed meanwhile (the loop was blocked
        # or the clock jumped) collapse into the one that just ran: counted.
        at = aiocron.next_time(x[_X_SPEC], at, off)
        n = 0
        while at <= wall:
            n += 1
            if n > 1000:  # a long jump: not worth counting one by one
                at = aiocron.next_time(x[_X_SPEC], wall, off)
                break
            s[_S_SKIPPED] += 1
            at = aiocron.next_time(x[_X_SPEC], at, off)
    x[_X_AT] = at
    s[_S_DUE] = now + at * 1000 - _s.wall_ms()
    _s.base(s, x)


def latest(x, wall):
    # The last start of calendar options x at or before wall (epoch s), from
    # its next start x[_X_AT] on (which is at or before wall).
    if type(x) is not list or len(x) != _X_LEN or type(x[_X_AT]) is not int or type(wall) is not int:
        raise ValueError("latest: %r, %r are not a calendar's options and an epoch second" % (x, wall))
    at = x[_X_AT]
    off = offset or 0
    for _ in range(1000):  # a long time stopped: its latest of the first 1000 is enough
        nxt = aiocron.next_time(x[_X_SPEC], at, off)
        if nxt > wall:
            break
        at = nxt
    return at


def resume(s, x, now):
    # aioctl.start() of a calendar schedule set aside: a start that came due
    # meanwhile runs at once (late by that much: misfire/grace decide).
    at = x[_X_AT]
    wall = _s.wall_ms()
    if at is not None and at * 1000 <= wall:
        at = x[_X_AT] = latest(x, wall // 1000)
        s[_S_DUE] = now - (wall - at * 1000)
        _s.base(s, x)
    else:
        next_wall(s, x, now, True)


def check_clock(now, wait):
    # Compares wall-clock progress with ticks progress, at most once a
    # _CHECK (reading the wall clock allocates on boards), and recomputes the
    # wall-clock schedules after a jump. Returns how long schedule_loop may
    # sleep (at most wait ms).
    global _walls, _changes
    if _times[0] is not None and now - _times[0] < _CHECK and _s.changes == _changes:
        return min(wait, _CHECK) if _walls else wait
    _times[0] = now
    _changes = _s.changes
    _walls = 0
    for x in _s.extras.values():
        if x[_X_SPEC] or x[_X_AT] is not None:
            _walls = 1
            break
    if not _walls:
        return wait
    wall = _s.wall_ms()
    if _wall_then is not None and abs(wall - _wall_then - (now - _times[1])) > _JUMP:
        _rewall(now)
    _clock_read(now, wall)
    return min(wait, _CHECK)


def _clock_read(now, wall):
    global _wall_then
    _times[1] = now
    _wall_then = wall


def _rewall(now):
    for name, x in list(_s.extras.items()):
        s = _s.group().get(name)
        if s is None or s[_S_FLAG] != _LIVE or not (x[_X_SPEC] or x[_X_AT] is not None):
            continue
        s, x = s[:], x[:]  # put() takes both or neither
        if x[_X_AT] is None:
            next_wall(s, x, now, True)
        else:
            # The same wall-clock second, seen from the new clock.
            s[_S_DUE] = now + x[_X_AT] * 1000 - _s.wall_ms()
            _s.base(s, x)
        _s.put(name, s, x)


def clock_set():
    # Call after setting the wall clock (NTP, machine.RTC): wall-clock
    # schedules are recomputed now rather than at the next check.
    now = _s.now_ms()
    _rewall(now)
    _clock_read(now, _s.wall_ms())
    _s.loop_nap.wake()


def utc_offset(seconds=None):
    # Local time = UTC + seconds for every wall-clock schedule (calendars,
    # time tuples, next_runs). None: the port's own localtime/mktime for time
    # tuples, UTC for calendars.
    global offset
    if seconds is not None and (type(seconds) is not int or abs(seconds) > 14 * 3600):
        raise ValueError("utc_offset: %r is not a number of seconds within 14 hours" % (seconds,))
    offset = seconds
    for x in _s.extras.values():
        if x[_X_SPEC]:
            x[_X_AT] = None  # the next start, again, in the new local time
    clock_set()



aioctl.attach("clocked", _times)  # times on the scheduler's clock
