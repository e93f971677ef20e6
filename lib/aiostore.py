# aiostore: schedules kept in a file across resets, and what a deep-sleep
# cycle needs (aioschedule.persist, save, idle_seconds).
#
# Imported on first use of one of those functions. The file is text: a
# header line with the format version, one JSON line per schedule, and a
# line with the CRC32 of all before it. It is written to path + ".tmp" and
# renamed over path, so a power cut leaves the old file or the new one.
#
# The file is untrusted input (a board may keep it across updates, someone
# may edit it): only a file proven corrupt (bad checksum, not parseable,
# wrong shape) is renamed to path + ".bad"; a record that parses but has a
# bad field is dropped alone; a MemoryError or OSError while reading is what
# it is: the file is kept and read again later. The file is read line by
# line, twice (the checksum, then each schedule as it is restored), so the
# RAM a restore needs beyond the schedules themselves is one line.

import os
import sys
import json
import binascii
from micropython import const
import aioctl
import aioschedule as _s
from aioctl import STATE, SINCE, RUNNING, NEW, STOPPED
from aioctl import seconds

# aioschedule's record layouts and aiojob's policy (compile-time copies,
# checked by tests/test_layers.py)
_J_TRY = const(3)
_S_DUE = const(0)
_S_EVERY = const(3)
_S_FLAG = const(4)
_S_RUNS = const(5)
_S_SKIPPED = const(6)
_LIVE = const(0)
_PENDING = const(1)
_OVER = const(3)
_X_SPEC = const(0)
_X_AT = const(1)
_X_LEFT = const(2)
_X_GRACE = const(3)
_X_JITTER = const(4)
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

# Format 1 (before the header line) was the whole list on one JSON line; its
# records are the same: it is read (whole) and written back as format 2.
_HEADER = "aiostore 2\n"
_LINE = const(1024)  # bytes read at once while the checksum is checked
_BIG = const(1 << 40)  # ms (35 years): no interval, grace or jitter is longer
_WALL = const(10000000000)  # s (year 2286): a later wall-clock time is junk (aiocron, aiolog take < 1e11)
_AGAIN = const(1000)  # ms before a file that could not be read is read again

_path = None
_every = 60000  # ms between writes at most
# Scheduler ms of the last write, and when to read a file again that could
# not be read (on aioschedule's clock: attached as clocked).
_times = [None, None]
_state = None  # _now_state() at the last write
_unread = None  # path of a saved file not restored yet (clock not set, or reading failed)
_done = None  # what persist() returns: names restored, kept, dropped
_kept = []  # saved records not restored for want of memory: written back as they were
_warned = False  # the wall clock is not set: said once
_log = None


def persist(path="/schedules.json", every=60):
    # Keeps the schedules in path: restores the saved ones now and writes
    # them when they change, at most once every `every` seconds. Returns
    # {"restored": [...], "kept": [...], "dropped": [...]} (names).
    global _path, _every, _unread, _state, _done, _warned
    if not isinstance(path, str) or not path:
        raise ValueError("persist: path %r is not a file name" % (path,))
    _every = seconds("every", every)
    _path = path
    _times[0] = _times[1] = _state = None
    _unread = path
    _done = {"restored": [], "kept": [], "dropped": []}
    _warned = False
    _kept.clear()
    _s.loop_nap.wake()  # its next pass calls tick(), which reads again if need be
    return _restore()


def _say(level, msg):
    # On a full heap the message is lost, never the work that said it.
    try:
        print("aiostore:", msg)
        if _log:
            getattr(_log, level)("[aiostore] " + msg)
    except MemoryError:
        pass


class _Broken(Exception):
    pass


def _lines(f, size=-1):
    # The lines of a format 2 file after its header, checked against the
    # CRC line. _Broken if the file is not one. size: the most bytes read at
    # once; a longer line is read in pieces (and the last one yielded): a
    # junk file's "line" may not fit in RAM, a saved one does.
    crc = binascii.crc32(_HEADER)
    while True:
        line = f.readline(size)
        if not line.startswith(b"["):
            if not line.endswith(b"\n"):
                raise _Broken("cut short")
            try:
                ok = int(line, 16) == crc
            except ValueError:
                ok = False
            if not ok or f.read(1):
                raise _Broken("checksum")
            return
        crc = binascii.crc32(line, crc)
        while not line.endswith(b"\n"):
            line = f.readline(size)
            if not line:
                raise _Broken("cut short")
            crc = binascii.crc32(line, crc)
        yield line


def _open(p):
    # p opened at its first record and its format (1 or 2); None if there is
    # no such file. _Broken if it is not a schedules file.
    try:
        f = open(p, "rb")  # bytes: a piece of a line may end inside a character
    except OSError as e:
        if e.errno == 2:  # ENOENT
            return None, 0
        raise
    try:
        head = f.readline(_LINE)
        if head == _HEADER.encode():
            return f, 2
        if head.startswith(b"["):  # format 1: the whole list on this line
            f.seek(0)
            return f, 1
        raise _Broken("not a schedules file")
    except BaseException:
        f.close()
        raise


def _records(p):
    # The saved records of file p, one by one, after its checksum has been
    # checked; _Broken if it is broken. Format 1 is read whole.
    f, v = _open(p)
    if f is None:
        return
    try:
        if v == 1:
            text = f.read()
            i = text.rfind(b"\n", 0, len(text) - 1)
            if i < 0:
                raise _Broken("cut short")
            data = text[:i]
            try:
                ok = int(text[i + 1:], 16) == binascii.crc32(data)
            except ValueError:
                ok = False
            if not ok:
                raise _Broken("checksum")
            try:
                recs = json.loads(data)
            except ValueError:
                raise _Broken("not JSON")
            if not isinstance(recs, list):
                raise _Broken("not a list")
            text = data = None
            for r in recs:
                yield r
            return
        for _ in _lines(f, _LINE):  # first pass: the checksum
            pass
        f.seek(0)
        f.readline(_LINE)
        for line in _lines(f):
            try:
                r = json.loads(line)
            except ValueError:
                raise _Broken("not JSON")  # with a good checksum: written so
            yield r
    finally:
        f.close()


def _find():
    # The file to restore: path, or path.tmp if path is missing (a power cut
    # between the rename's removal and its write, on FAT). Checks it whole
    # first, so that nothing is restored from a broken file; a broken one is
    # set aside and the other tried. None if there is none.
    for p in (_path, _path + ".tmp"):
        try:
            for _ in _records(p):
                pass
        except _Broken as e:
            _say("error", "%s is broken (%s): set aside as %s.bad" % (p, e.args[0], p))
            try:
                os.rename(p, p + ".bad")
            except OSError:
                pass
            continue
        try:
            os.stat(p)
            return p
        except OSError:
            pass
    return None


def _clock_is_set():
    # aiocron's rule (clock_check). An app without calendars does not keep
    # aiocron for this: it is let go again unless it was loaded already.
    had = "aiocron" in sys.modules
    import aiocron

    ok = aiocron.clock_is_set(_s.wall_ms() // 1000)
    if not had:
        sys.modules.pop("aiocron")
    return ok


def _restore():
    # Puts the saved schedules back once the wall clock is set. A MemoryError
    # or OSError while reading leaves the file as it is: tick() reads it
    # again _AGAIN ms later, going on where it stopped.
    global _unread, _warned
    if _unread is None:
        return _done
    differ = []
    seen = []  # the names restored or kept in this reading of the file
    try:
        if not _clock_is_set():
            if not _warned:
                _say("warning", "the wall clock is not set: saved schedules wait for it")
                _warned = True
            return _done
        p = _find()
        if p is not None:
            for r in _records(p):
                _restore_one(r, _done, differ, seen)
    except (MemoryError, OSError) as e:
        _times[1] = _s.now_ms() + _AGAIN
        try:
            msg = "cannot read %s now (%r): the file is kept, read again in %d s" % (_unread, e, _AGAIN // 1000)
        except MemoryError:
            msg = "cannot read the file now (MemoryError): it is kept"
        _say("error", msg)
        return _done
    _unread = None
    _times[1] = None
    for v in _done.values():
        v.sort()
    if differ:
        differ.sort()
        _say("info", "the code schedules %s differently now: saved state dropped" % ", ".join(differ))
    return _done


def _restore_one(r, done, differ, seen):
    # Restores saved record r, or says why not. The first record of a name
    # wins; a second one is dropped.
    name = r[0] if isinstance(r, list) and r else None
    if name in seen:
        why = "name %r (a second record of it)" % (name,)
    elif name in done["restored"]:
        seen.append(name)
        return  # done already, before a MemoryError made the file be read again
    else:
        why = _bad(r)
    if why:
        _say("error", "saved schedule %r not restored: %s" % (name, why))
        done["dropped"].append(str(name))
        return
    old = _s.group().get(name) or _s.parked.get(name)
    if old is not None and _record(name, old)[1:_R_SIG] != r[1:_R_SIG]:
        differ.append(name)
        done["dropped"].append(name)
        return
    again = name in done["kept"]  # kept at a reading that a MemoryError cut short: tried again
    try:
        _put(name, r)
    except MemoryError:
        # This one does not fit now; it stays in the file (written back).
        if not again:
            _kept.append(r)
            done["kept"].append(name)
        seen.append(name)
        _say("error", "saved schedule %r not restored: MemoryError; kept in the file" % name)
        return
    if again:
        done["kept"].remove(name)
        for i in range(len(_kept)):
            if _kept[i][0] == name:
                del _kept[i]
                break
    done["restored"].append(name)
    seen.append(name)


def _int(v, lo, hi):
    return type(v) is int and lo <= v <= hi


def _bad(r):
    # What is wrong with saved record r (the field and its value), or None.
    if not isinstance(r, list) or len(r) != _R_LEN:
        return "not a schedule: %r" % (r,)
    name = r[0]
    if not isinstance(name, str) or not name or "*" in name:
        return "name %r" % (name,)
    if not _int(r[1], 0, _BIG):
        return "interval %r" % (r[1],)
    spec = r[2]
    if spec is not None:
        try:
            import aiocron

            spec = binascii.unhexlify(spec)
            aioctl.lazy("aiospec").check_spec(spec)  # a field with no value: next_time would search 400 years
            aiocron.next_time(spec, _s.wall_ms() // 1000)
        except MemoryError:
            raise  # not the record's fault: read again later
        except Exception:
            return "calendar %r" % (r[2],)
    if not (r[3] is None or _int(r[3], 0, _BIG)):
        return "grace %r" % (r[3],)
    if not _int(r[4], 0, _BIG):
        return "jitter %r" % (r[4],)
    p = r[5]
    if p is not None and not (isinstance(p, list) and len(p) == 3 and isinstance(p[0], (int, float))
                              and -1e9 <= p[0] <= 1e9
                              and _int(p[1], 0, 1 << 20) and _int(p[2], 1, _BIG)):
        return "policy %r" % (p,)
    if not (r[_R_AT] is None or _int(r[_R_AT], 0, _WALL)):
        return "wall-clock start %r" % (r[_R_AT],)
    if not (r[_R_LEFT] is None or _int(r[_R_LEFT], 0 if r[_R_STATE] else 1, 1 << 30)):  # 0: over
        return "starts left %r" % (r[_R_LEFT],)
    if not _int(r[_R_RUNS], 0, 1 << 40):
        return "runs %r" % (r[_R_RUNS],)
    if not _int(r[_R_SKIPPED], 0, 1 << 40):
        return "skipped %r" % (r[_R_SKIPPED],)
    if not _int(r[_R_DUE], 0, _WALL * 1000):
        return "next due %r" % (r[_R_DUE],)
    if not (r[_R_LAST] is None or _int(r[_R_LAST], 0, _WALL)):
        return "last start %r" % (r[_R_LAST],)
    if not _int(r[_R_STATE], 0, 2):
        return "state %r" % (r[_R_STATE],)
    return None


def _put(name, r):
    # Makes the schedule of saved record r, replacing the one there is. What
    # may fail with MemoryError comes before anything is changed.
    x = None
    spec = r[2]
    if spec is not None or r[3] is not None or r[4] or r[_R_AT] is not None or r[_R_LEFT] is not None:
        x = [binascii.unhexlify(spec) if spec is not None else None, r[_R_AT], r[_R_LEFT], r[3], r[4], 0]  # _X_SPEC...
    pol = r[5]
    if pol or "aiojob" in sys.modules:
        import aiojob

        aiojob.policy(name, pol)
    s = _s.new_schedule(name, _s.now_ms() + r[_R_DUE] - _s.wall_ms(), r[1], r[_R_RUNS], r[_R_SKIPPED])
    state = r[_R_STATE]
    if state == 2:
        s[_S_FLAG] = _OVER  # a one-off that has run (or times= used up)
    elif state == 0:
        _s.base(s, x)
    _s.put(name, s, x, state == 1)  # 1: set aside by aioctl.stop
    t = aioctl.group().get(name)
    if t is not None:
        if r[_R_LAST] is not None and t[STATE] != RUNNING:
            t[SINCE] = r[_R_LAST]  # status: "last @" the start before the reset
        aioctl.hold(t)  # added (and so started) before its schedule came back
        if r[_R_STATE] == 1 and t[STATE] == NEW:
            t[STATE] = STOPPED  # set aside by aioctl.stop: aioctl.start puts it back


def _record(name, s, state=0):
    # The saved form of schedule s (see the top).
    x = _s.extras.get(name)
    now = _s.now_ms()
    due = x[_X_BASE] if x and s[_S_FLAG] != _PENDING else s[_S_DUE]
    if s[_S_FLAG] == _PENDING:
        due += now if _s.t0 is None else _s.t0  # it counts from schedule_loop's start
    j = sys.modules.get("aiojob")
    pol = j and j.policies.get(name)
    t = aioctl.group().get(name)
    return [name, s[_S_EVERY],
            binascii.hexlify(x[_X_SPEC]).decode() if x and x[_X_SPEC] else None,
            x[_X_GRACE] if x else None, x[_X_JITTER] if x else 0, pol and pol[:_J_TRY],
            x[_X_AT] if x else None, x[_X_LEFT] if x else None,
            min(s[_S_RUNS], 1 << 40), min(s[_S_SKIPPED], 1 << 40), _s.wall_ms() + due - now,  # as _bad takes them
            t[SINCE] if t is not None and s[_S_RUNS] else None, state]


def _now_state():
    # The counters only grow, so their sum moves with any change; a sum,
    # not a tuple: tick() runs at every pass of schedule_loop and allocates
    # nothing. aiojob counts the runs its queue starts.
    j = sys.modules.get("aiojob")
    return _s.changes + _s.handled + (j.started if j else 0)


def save():
    # Writes the schedules now (before machine.deepsleep(), say). Returns how
    # many were written. Does nothing until persist() names the file.
    global _state
    if _path is None:
        raise RuntimeError("save: call aioschedule.persist(path) first")
    if _unread is not None:
        return 0  # the saved ones are not back yet: the file must stay as it is
    tmp = _path + ".tmp"
    try:
        n = _save(tmp)
        os.rename(tmp, _path)
    except OSError as e:
        raise OSError(e.errno, "save: cannot write %s: %s" % (tmp, e))  # which file
    _times[0] = _s.now_ms()
    _state = _now_state()
    return n


def _save(tmp):
    n = 0
    with open(tmp, "w") as f:
        # One line at a time, as restore reads it: no RAM for the whole text.
        crc = _write(f, _HEADER, 0)
        for name, s in _s.group().items():
            crc = _write(f, json.dumps(_record(name, s, 2 if s[_S_FLAG] == _OVER else 0)) + "\n", crc)
            n += 1
        for name, s in _s.parked.items():
            crc = _write(f, json.dumps(_record(name, s, 1)) + "\n", crc)
            n += 1
        for r in _kept:
            if r[0] not in _s.group() and r[0] not in _s.parked:
                crc = _write(f, json.dumps(r) + "\n", crc)
        f.write("%08x\n" % crc)
    return n


def _write(f, line, crc):
    f.write(line)
    return binascii.crc32(line, crc)


def tick(log, wait):
    # schedule_loop's pass: restores what waited for the wall clock (or for
    # RAM), and writes the file when the schedules have changed, at most
    # once every _every ms. Returns how long the loop may sleep.
    global _log
    _log = log
    if _unread is not None:
        again = _times[1]
        now = _s.now_ms()
        if again is None or now >= again:
            _restore()
            again = _times[1]
        if _unread is not None:
            # looks again for a set clock each second, or for RAM when due
            return min(wait, 1000 if again is None else max(again - now, 0))
    if _path is None or _now_state() == _state:
        return wait
    left = 0 if _times[0] is None else _every - (_s.now_ms() - _times[0])
    if left <= 0:
        try:
            save()
        except OSError as e:
            _say("error", "cannot write %s: %r" % (_path, e))
            _times[0] = _s.now_ms()  # tries again in _every ms, not at every pass
        return wait
    return min(wait, left)


def idle_seconds():
    # Seconds until the next start of any schedule (a float), 0 while a run
    # the scheduler started goes on or waits to start, None if nothing is
    # scheduled: how long a board may deep-sleep.
    now = _s.now_ms()
    tasks = aioctl.group()
    best = None
    for name, s in _s.group().items():
        t = tasks.get(name)
        if t is not None and t[STATE] == RUNNING:
            return 0
        flag = s[_S_FLAG]
        if flag == _LIVE or flag == _PENDING:
            d = s[_S_DUE] - now if flag == _LIVE else s[_S_DUE]
            if best is None or d < best:
                best = d
    j = sys.modules.get("aiojob")
    if j:
        if j.queue:
            return 0
        for at in j.retry_at.values():
            if at is not None and (best is None or at - now < best):
                best = at - now
    return None if best is None else max(0, best) / 1000




aioctl.attach("tick", tick)
aioctl.attach("clocked", _times)  # times on the scheduler's clock
