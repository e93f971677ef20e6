# aiostore: schedules kept in a file across resets, and what a deep-sleep
# cycle needs (aioschedule.persist, save, idle_seconds).
#
# Imported on first use of one of those functions. The file holds one JSON
# line (the schedules) and a CRC32 line. It is written to path + ".tmp" and
# renamed over path, so a power cut leaves the old file or the new one; a
# file that fails its check is renamed to path + ".bad" and reported.

import os
import sys
import json
import binascii
from micropython import const
import aioctl
import aioschedule as _s
from aioctl import STATE, SINCE, RUNNING, NEW, STOPPED

# aioschedule's records (see aioschedule._DUE... and _X_...)
_DUE = const(0)
_EVERY = const(3)
_FLAG = const(4)
_RUNS = const(5)
_SKIPPED = const(6)
_LIVE = const(0)
_PENDING = const(1)
_OVER = const(3)
_X_BASE = const(5)

# A saved schedule is a list:
# [name, every ms, calendar spec (hex) or None, grace ms or None, jitter ms,
#  policy [priority, max_retries, retry_delay ms] or None (these six: how the
#  code schedules it), wall-clock second of the next start or None, starts
#  left or None, runs, skipped, next due (wall ms, jitter-free), last start
#  (wall s) or None, state: 0 live, 1 set aside by aioctl.stop, 2 over]
_R_SIG = const(6)
_R_AT = const(6)
_R_LEFT = const(7)
_R_RUNS = const(8)
_R_SKIPPED = const(9)
_R_DUE = const(10)
_R_LAST = const(11)
_R_STATE = const(12)
_R_LEN = const(13)

_SET = const(1704067200000)  # 2024-01-01 in ms: an earlier wall clock is not set

_path = None
_every = 60000  # ms between writes at most
_written = None  # scheduler ms of the last write
_state = None  # _now_state() then
_waiting = None  # saved schedules not restored yet: the wall clock is not set
_kept = []  # saved schedules of tasks with no schedule now: written back
_log = None


def persist(path="/schedules.json", every=60):
    # Keeps the schedules in path: restores the saved ones now and writes
    # them when they change, at most once every `every` seconds. Returns
    # {"restored": [...], "kept": [...], "dropped": [...]} (names).
    global _path, _every, _waiting, _written, _state
    if not isinstance(path, str) or not path:
        raise ValueError("persist: path %r is not a file name" % (path,))
    _every = _s._seconds("every", every)
    _path = path
    _written = _state = None
    _waiting = _load(path)
    if sys.modules[__name__] not in _s._addons:
        _s._addons.append(sys.modules[__name__])
    return _restore()


def _load(path):
    # The saved schedules, or [] if there are none or the files are broken.
    for p in (path, path + ".tmp"):
        try:
            with open(p) as f:
                text = f.read()
        except OSError:
            continue
        try:
            i = text.rindex("\n", 0, len(text) - 1)
            data = text[:i]
            if int(text[i + 1:], 16) != binascii.crc32(data.encode()):
                raise ValueError("checksum")
            recs = json.loads(data)
            if not isinstance(recs, list):
                raise ValueError("not a list")
            return recs
        except Exception as e:
            _say("error", "%s is broken (%r): set aside as %s.bad" % (p, e, p))
            try:
                os.rename(p, p + ".bad")
            except OSError:
                pass
    return []


def _say(level, msg):
    print("aiostore:", msg)
    if _log:
        getattr(_log, level)("[aiostore] " + msg)


def _restore():
    # Puts the saved schedules back, once the wall clock is set.
    global _waiting
    done = {"restored": [], "kept": [], "dropped": []}
    if _waiting is None:
        return done
    if _s._wall() < _SET:
        _say("warning", "the wall clock is not set: saved schedules wait for it")
        return done
    recs, _waiting = _waiting, None
    for r in recs:
        name = r[0] if isinstance(r, list) and r else None
        try:
            if not isinstance(name, str) or len(r) != _R_LEN:
                raise ValueError("not a schedule")
            old = _s._active.get(name) or _s._parked.get(name)
            if old is not None and _record(name, old)[1:_R_SIG] != r[1:_R_SIG]:
                done["dropped"].append(name)  # the code schedules it differently now
                continue
            _put(name, r)
            done["restored"].append(name)
        except Exception as e:
            _say("error", "saved schedule %r not restored: %r" % (name, e))
            done["dropped"].append(name)
    for v in done.values():
        v.sort()
    if done["dropped"]:
        _say("info", "the code schedules %s differently now: saved state dropped" % ", ".join(map(str, done["dropped"])))
    return done


def _put(name, r):
    # Makes the schedule of saved record r, replacing the one there is.
    x = None
    spec = r[2]
    if spec is not None or r[3] is not None or r[4] or r[_R_AT] is not None or r[_R_LEFT] is not None:
        x = [binascii.unhexlify(spec) if spec is not None else None, r[_R_AT], r[_R_LEFT], r[3], r[4], 0]
    now = _s._now()
    _s._seq += 1
    s = [now + r[_R_DUE] - _s._wall(), _s._seq, name, r[1], _LIVE, r[_R_RUNS], r[_R_SKIPPED]]
    old = _s._active.pop(name, None)
    if old:
        _s._kill(old)
    _s._parked.pop(name, None)
    _s._extras.pop(name, None)
    if x:
        _s._extras[name] = x
    pol = r[5]
    if pol or aioctl.jobs:
        import aiojob

        aiojob.policy(name, pol and [pol[0], pol[1], pol[2], 0])
    t = aioctl.group().get(name)
    if t is not None and r[_R_LAST] is not None and t[STATE] != RUNNING:
        t[SINCE] = r[_R_LAST]  # status: "last @" the start before the reset
    _s._changes += 1
    if t is not None:
        aioctl.hold(t)  # added (and so started) before its schedule came back
    if r[_R_STATE] == 1:
        _s._parked[name] = s  # set aside by aioctl.stop: aioctl.start puts it back
        if t is not None and t[STATE] == NEW:
            t[STATE] = STOPPED
        return
    _s._active[name] = s
    if r[_R_STATE] == 2:
        s[_FLAG] = _OVER  # a one-off that has run (or times= used up)
        return
    if x:
        _s._base(s, x)
    _s._push(s)
    _s._loop_nap.wake()


def _record(name, s, state=0):
    # The saved form of schedule s (see the top).
    x = _s._extras.get(name)
    now = _s._now()
    due = x[_X_BASE] if x and s[_FLAG] != _PENDING else s[_DUE]
    if s[_FLAG] == _PENDING:
        due += now if _s._t0 is None else _s._t0
    p = aioctl.jobs and aioctl.jobs._pol.get(name)
    t = aioctl.group().get(name)
    return [name, s[_EVERY],
            binascii.hexlify(x[0]).decode() if x and x[0] else None,
            x[3] if x else None, x[4] if x else 0, [p[0], p[1], p[2]] if p else None,
            x[1] if x else None, x[2] if x else None,
            s[_RUNS], s[_SKIPPED], _s._wall() + due - now,
            t[SINCE] if t is not None and s[_RUNS] else None, state]


def _now_state():
    # Both counters only grow, so their sum moves with any change; a sum,
    # not a tuple: tick() runs at every pass of schedule_loop and allocates
    # nothing.
    return _s._changes + _s._fired


def save():
    # Writes the schedules now (before machine.deepsleep(), say). Returns how
    # many were written. Does nothing until persist() names the file.
    global _written, _state
    if _path is None:
        raise RuntimeError("save: call aioschedule.persist(path) first")
    if _waiting is not None:
        return 0  # the saved ones are not back yet (wall clock not set)
    recs = []
    for name, s in _s._active.items():
        recs.append(_record(name, s, 2 if s[_FLAG] == _OVER else 0))
    for name, s in _s._parked.items():
        recs.append(_record(name, s, 1))
    data = json.dumps(recs + _kept)
    tmp = _path + ".tmp"
    with open(tmp, "w") as f:
        f.write(data)
        f.write("\n%08x\n" % binascii.crc32(data.encode()))
    os.rename(tmp, _path)
    _written = _s._now()
    _state = _now_state()
    return len(recs)


def tick(log, wait):
    # schedule_loop's pass: restores what waited for the wall clock, and
    # writes the file when the schedules have changed, at most once every
    # _every ms. Returns how long the loop may sleep.
    global _log, _written
    _log = log
    if _waiting is not None:
        _restore()
        if _waiting is not None:
            return min(wait, 1000)  # looks again for a set clock
    if _path is None or _now_state() == _state:
        return wait
    left = 0 if _written is None else _every - (_s._now() - _written)
    if left <= 0:
        try:
            save()
        except OSError as e:
            _say("error", "cannot write %s: %r" % (_path, e))
            _written = _s._now()  # tries again in _every ms, not at every pass
        return wait
    return min(wait, left)


def idle_seconds():
    # Seconds until the next start of any schedule (a float), 0 while a run
    # the scheduler started goes on or waits to start, None if nothing is
    # scheduled: how long a board may deep-sleep.
    now = _s._now()
    tasks = aioctl.group()
    best = None
    for name, s in _s._active.items():
        t = tasks.get(name)
        if t is not None and t[STATE] == RUNNING:
            return 0
        flag = s[_FLAG]
        if flag == _LIVE or flag == _PENDING:
            d = s[_DUE] - now if flag == _LIVE else s[_DUE]
            if best is None or d < best:
                best = d
    j = aioctl.jobs
    if j:
        if j._queue:
            return 0
        for at in j._retry.values():
            if best is None or at - now < best:
                best = at - now
    return None if best is None else max(0, best) / 1000

