# aiospec: schedule()'s options: options() and job_options() check them,
# and cron() and compile() (aiocron.cron and aiocron.compile are these) make
# the calendar specs they give.
#
# Needed only while schedules are made: aioschedule imports it for a
# schedule() with options and lets it go at schedule_loop's next pass, so
# the parsing code does not stay in RAM (a batch of schedule() calls at boot
# loads it once). Specs are aiocron's (see there); its next_time() uses them.

from micropython import const

# aiocron's spec layout (compile-time copies, checked by
# tests/test_layers.py): aiocron is imported by check_spec() only, so
# options without a calendar do not load it.
_SEC = const(0)
_MIN = const(8)
_HR = const(16)
_MDAY = const(19)
_MON = const(23)
_WDAY = const(25)
_RULE = const(26)
_LEN = const(27)
_OR = const(1)


def check_spec(spec):
    # A spec that can match: every field has a value, and with the day rule
    # AND, some month of the spec has its earliest mday (Feb: 29, leap
    # years). Any real date falls on every weekday in some year (Feb 29 moves
    # 5 weekdays every 4 years, and 5 is prime to 7), so wday never makes a
    # spec impossible; with OR, the wday part alone matches some day of
    # every month. ValueError naming what is wrong.
    from aiocron import scan, has, month_len

    if not isinstance(spec, (bytes, bytearray)) or len(spec) != _LEN:
        raise ValueError("%r is not a spec from aiocron.cron() or compile()" % (spec,))
    for off, lo, end in ((_SEC, 0, 60), (_MIN, 0, 60), (_HR, 0, 24), (_MDAY, 1, 32), (_MON, 1, 13), (_WDAY, 0, 7)):
        if scan(spec, off, lo, end) < 0:
            raise ValueError("a spec field has no value")
    if spec[_RULE] & _OR:
        return
    d = scan(spec, _MDAY, 1, 32)
    top = 0
    for m in range(1, 13):
        if has(spec, _MON, m):
            top = max(top, 29 if m == 2 else month_len(1, m))
    if d > top:
        ms = ",".join(str(m) for m in range(1, 13) if has(spec, _MON, m))
        raise ValueError("impossible: mday %d never occurs in month %s" % (d, ms))


def _put(b, off, v):
    b[off + (v >> 3)] |= 1 << (v & 7)


def _field(b, off, v, lo, hi, name):
    if v is None:
        v = range(lo, hi + 1)
    elif isinstance(v, int):
        v = (v,)
    elif v is True or v is False or not isinstance(v, (tuple, list, range, set)):
        # Not any iterable: iterating a coroutine object here would run it
        # outside the event loop and corrupt asyncio's task queue.
        raise ValueError("bad %s %r" % (name, v))
    n = 0
    for x in v:
        # isinstance(True, int) is False in MicroPython: bools land here too
        if not isinstance(x, int) or not lo <= x <= hi:
            raise ValueError("%s %r not in %d-%d" % (name, x, lo, hi))
        _put(b, off, x)
        n += 1
    if not n:
        raise ValueError("empty " + name)


def compile(secs=0, mins=0, hrs=None, mday=None, month=None, wday=None):
    # Each field: None (any), an int or an iterable of ints. secs and mins
    # default to 0, so hrs=6 means 06:00:00 once a day and compile() hourly;
    # pass mins=None (or secs=None) to fire every minute (second). All given
    # fields must match, mday AND wday too. wday: Monday = 0 .. Sunday = 6.
    b = bytearray(_LEN)
    _field(b, _SEC, secs, 0, 59, "secs")
    _field(b, _MIN, mins, 0, 59, "mins")
    _field(b, _HR, hrs, 0, 23, "hrs")
    _field(b, _MDAY, mday, 1, 31, "mday")
    _field(b, _MON, month, 1, 12, "month")
    _field(b, _WDAY, wday, 0, 6, "wday")
    check_spec(b)
    return bytes(b)


# Names in cron fields, as crontab takes them (any case): months 1-12 and
# weekdays 0-6 (Sunday 0), by their first three letters.
_MONTHS = "janfebmaraprmayjunjulaugsepoctnovdec"
_DAYS = "sunmontuewedthufrisat"
# Shorthands -> the five fields they stand for
_AT = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
       "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}


def _num(s, lo, hi, name):
    names = _MONTHS if name == "month" else _DAYS if name == "wday" else None
    if names and len(s) == 3 and s.isalpha():
        i = names.find(s.lower())
        if i >= 0 and i % 3 == 0:
            return i // 3 + lo
    if not s.isdigit() or not lo <= int(s) <= hi:
        raise ValueError("%s %r not in %d-%d" % (name, s, lo, hi))
    return int(s)


def _cron_field(b, off, text, lo, hi, name):
    # Items: * a a-b, each optionally /step; joined by commas
    for item in text.split(","):
        rng, slash, step = item.partition("/")
        if rng == "*":
            a, z = lo, hi
            if name == "wday":
                z = 6  # * is Sunday once, not 0 and 7
        else:
            a, dash, z = rng.partition("-")
            a = _num(a, lo, hi, name)
            if dash:
                z = _num(z, lo, hi, name)
                if z < a:
                    raise ValueError("%s range %r reversed" % (name, item))
            elif slash:
                raise ValueError("%s %r: a step needs * or a range" % (name, item))
            else:
                z = a
        n = 1
        if slash:
            if not step.isdigit() or not 1 <= int(step) <= hi:
                raise ValueError("%s %r: the step is not in 1-%d" % (name, item, hi))
            n = int(step)
        for v in range(a, z + 1, n):
            if name == "wday":
                v = (v + 6) % 7  # cron: Sunday 0 or 7, Monday 1; here Monday 0
            _put(b, off, v)


def cron(text):
    # Standard 5-field cron: "min hour mday month wday", seconds 0. wday 0 or
    # 7 is Sunday. When mday and wday are both restricted, a day matching
    # either fires; as in Vixie cron, a field starting with * is unrestricted
    # ("*/2" too).
    if not isinstance(text, str):
        raise TypeError("cron: %r is not a cron string" % (text,))
    if text.startswith("@"):
        if text.strip().lower() == "@reboot":
            raise ValueError("cron: @reboot is not a time: add the task at boot (aioctl.add) instead")
        f = _AT.get(text.strip().lower())
        if f is None:
            raise ValueError("cron: unknown shorthand %r (@yearly, @monthly, @weekly, @daily, @hourly)" % text)
        text = f
    f = text.split()
    if len(f) != 5:
        raise ValueError("cron needs 5 fields: %r" % text)
    b = bytearray(_LEN)
    _put(b, _SEC, 0)
    _cron_field(b, _MIN, f[0], 0, 59, "mins")
    _cron_field(b, _HR, f[1], 0, 23, "hrs")
    _cron_field(b, _MDAY, f[2], 1, 31, "mday")
    _cron_field(b, _MON, f[3], 1, 12, "month")
    _cron_field(b, _WDAY, f[4], 0, 7, "wday")
    if f[2][0] != "*" and f[4][0] != "*":
        b[_RULE] = _OR
    check_spec(b)
    return bytes(b)


def options(name, start_in, repeat, opts, scheduled):
    # schedule()'s options -> (the schedule's options, a list in
    # aioschedule's _X_ layout, or None; soft-start delay in ms; job policy
    # or None), or False if conflict="ignore" keeps the schedule there is
    # (scheduled: name has one). All are checked before anything changes.
    from aioctl import seconds, random_ms

    opts = dict(opts)
    job = job_options(name, opts, scheduled)
    if job is False:
        return False
    text = opts.pop("cron", None)
    times = opts.pop("times", None)
    misfire = opts.pop("misfire", "run")
    grace = opts.pop("grace", None)
    jitter = seconds("jitter", opts.pop("jitter", 0))
    soft = seconds("soft_start", opts.pop("soft_start", 0))
    cal = {}
    for k in ("secs", "mins", "hrs", "mday", "month", "wday"):
        if k in opts:
            cal[k] = opts.pop(k)
    if opts:
        raise TypeError("schedule: unknown option %r" % (list(opts)[0],))
    if misfire != "run" and misfire != "skip":
        raise ValueError("schedule: misfire %r must be 'run' or 'skip'" % (misfire,))
    if times is not None and (type(times) is not int or not 1 <= times <= 1 << 30):
        raise ValueError("schedule: times %r must be a whole number, 1 to 2**30" % (times,))
    if grace is not None:
        grace = seconds("grace", grace)
    elif misfire == "skip":
        grace = 0
    spec = None
    if text is not None or cal:
        if text is not None and cal:
            raise ValueError("schedule: give cron or calendar fields, not both")
        if start_in != 0 or not (repeat is False or repeat is None):
            raise ValueError("schedule: a calendar schedule takes no start_in or repeat, not %r, %r" % (
                start_in, repeat))
        spec = cron(text) if text is not None else compile(**cal)
    if soft:
        soft = random_ms(soft)
    if spec is None and times is None and grace is None and not jitter:
        return None, soft, job
    return [spec, None, times, grace, jitter, 0], soft, job  # _X_SPEC, _X_AT, _X_LEFT, _X_GRACE, _X_JITTER, _X_BASE


def job_options(name, opts, scheduled):
    # Takes aiojob's options out of schedule()'s opts -> a policy
    # (priority, max_retries, retry_delay ms), None if there is none, False
    # if conflict="ignore" keeps the schedule there is (scheduled: name has
    # one). The bounds are aiostore's too: what is accepted here is restored
    # after a reset.
    from aioctl import seconds, is_number

    c = opts.pop("conflict", "replace")
    if c != "replace" and c != "ignore" and c != "raise":
        raise ValueError("schedule: conflict %r must be 'replace', 'ignore' or 'raise'" % (c,))
    if c != "replace" and scheduled:
        if c == "raise":
            raise ValueError("schedule: %r is scheduled already (conflict='raise')" % (name,))
        return False
    pr = opts.pop("priority", 0)
    if not is_number(pr) or pr != pr:
        raise TypeError("schedule: priority %r must be a number" % (pr,))
    if not -1e9 <= pr <= 1e9:
        raise ValueError("schedule: priority %r must be within -1e9 to 1e9" % (pr,))
    n = opts.pop("max_retries", 0)
    if type(n) is not int or not 0 <= n <= 1 << 20:
        raise ValueError("schedule: max_retries %r must be a whole number, 0 to 2**20" % (n,))
    ms = seconds("retry_delay", opts.pop("retry_delay", 1))
    if pr or n:
        return pr, n, ms or 1


def schedule_task(start_in=0, repeat=False, **opts):
    # aioschedule.schedule_task: a decorator over @aioctl.aiotask that
    # schedules the task of the function's name, which waits for
    # aioctl.add() and schedule_loop.
    def deco(fn):
        if not callable(fn):
            raise TypeError("schedule_task: %r is not a function" % (fn,))
        import aioschedule

        aioschedule.make(fn.__name__, start_in, repeat, dict(opts))
        return fn

    return deco
