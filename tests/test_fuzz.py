# Bad input, at random: every public function called with junk while tasks
# run. Functions that define things may raise only TypeError/ValueError; the
# ones people type at the REPL never raise; the loop and the tasks that are
# not touched keep running.

FUZZ = """
import asyncio, random, time, sys
import aioctl, aioschedule, aiocron

random.seed(%(seed)d)
beats = [0]
ticks = [0]

async def heartbeat():
    while True:
        beats[0] += 1
        await asyncio.sleep_ms(2)

async def tick():
    ticks[0] += 1

async def work(x=0):
    await asyncio.sleep_ms(random.getrandbits(4))
    if random.getrandbits(2) == 0:
        raise OSError(x)
    return x

def plain(*a, **k):
    return len(a)

JUNK = [None, True, False, 0, -1, 1, 7, 2.5, -0.5, 10 ** 12, 1e30, "", "x", "f*",
        "nope", "f0", "f1", "f2", "x@1", (), (2026,), (2026, 13, 1, 0, 0, 0, 0, 0),
        time.localtime(time.time() + 5), time.localtime(0), [1, 2], {}, {"a": 1},
        b"\\xff", work, plain, work(), "*/0 * * * *", "61 * * * *", "* * * * *",
        range(3), range(0, 60, 20), -10 ** 12]
NAMES = ["f0", "f1", "f2", "f*", "nope", "", "x@1", 5, (), "f0@1", "*f1"]
OPTS = ["cron", "secs", "mins", "hrs", "mday", "month", "wday", "times", "misfire",
        "grace", "jitter", "soft_start", "colour"]

def pick(seq):
    return seq[random.getrandbits(16) %% len(seq)]

bad = []

def defining(fn, *a, **k):
    try:
        fn(*a, **k)
    except (TypeError, ValueError):
        pass
    except Exception as e:
        bad.append("%%s%%r%%r: %%r" %% (fn.__name__, a, k, e))

def repl(fn, *a, **k):
    try:
        fn(*a, **k)
    except Exception as e:
        bad.append("REPL %%s%%r%%r: %%r" %% (fn.__name__, a, k, e))

async def main():
    import aiolog
    aioctl.set_log(aiolog.LogStream(512))
    print("[f0] a line", file=aioctl.log_stream)
    aioctl.add(heartbeat)
    aioctl.add(tick)
    aioschedule.schedule("tick", start_in=0, repeat=0.01)
    aioctl.add(aioschedule.schedule_loop)
    aioctl.add(aioschedule.watcher_loop, backoff=0.01, max_backoff=0.05)
    for i in range(3):
        aioctl.add(work, i, name="f%%d" %% i)
    await asyncio.sleep_ms(20)
    b0, t0 = beats[0], ticks[0]
    for i in range(%(n)d):
        r = random.getrandbits(4)
        if r == 0:
            defining(aioctl.add, pick(JUNK), pick(JUNK), name=pick(NAMES + JUNK))
        elif r == 1:
            kw = {}
            if random.getrandbits(1):
                kw[pick(OPTS)] = pick(JUNK)
            defining(aioschedule.schedule, pick(NAMES + JUNK), start_in=pick(JUNK), repeat=pick(JUNK), **kw)
        elif r == 2:
            defining(aioschedule.schedule, pick(NAMES), **{pick(OPTS): pick(JUNK)})
        elif r == 3:
            repl(aioctl.status, pick(NAMES + [None]), debug=bool(random.getrandbits(1)))
        elif r == 4:
            repl(aioctl.result, pick(NAMES + JUNK))
        elif r == 5:
            repl(aioctl.traceback, pick(NAMES + JUNK))
        elif r == 6:
            repl(aioctl.stop, pick(NAMES), stop_sch=bool(random.getrandbits(1)))
        elif r == 7:
            repl(aioctl.start, pick(NAMES))
        elif r == 8:
            repl(aioctl.delete, pick(NAMES))
        elif r == 9:
            repl(aioschedule.unschedule, pick(NAMES + JUNK))
        elif r == 10:
            repl(aiocron.next_runs, pick(NAMES + JUNK), pick([1, 3]))
        elif r == 11:
            repl(aiocron.info, pick(NAMES + JUNK))
        elif r == 12:
            repl(aioctl.log, pick(NAMES + JUNK))
        elif r == 13:
            defining(aiocron.utc_offset, pick(JUNK + [3600, -18000, None]))
        elif r == 14:
            defining(aiocron.cron, pick(JUNK))
        else:
            defining(aiocron.compile, **{pick(OPTS[1:7]): pick(JUNK)})
        if i %% 20 == 0:
            await asyncio.sleep_ms(1)
    aiocron.utc_offset(None)
    await asyncio.sleep_ms(50)
    states = [aioctl.group()[n][aioctl.STATE] for n in ("heartbeat", "schedule_loop", "watcher_loop")]
    print("FUZZ", len(bad), beats[0] > b0 + 50, ticks[0] > t0 + 5, states == [aioctl.RUNNING] * 3)
    for b in bad[:10]:
        print("BAD", b)

asyncio.run(main())
"""


def test_fuzz_public_api(mp):
    # seeds 1 and 2 found: localtime() of a due time 10**12 s away, and a
    # coroutine object iterated as a calendar field or a grep pattern, each
    # crashing the interpreter (asyncio's task queue corrupted)
    for seed in (1, 2, 3):
        out = mp.run(FUZZ % {"seed": seed, "n": 1500}, timeout=60)
        report = [line for line in out.splitlines() if line.startswith(("FUZZ", "BAD"))]
        assert report[0] == "FUZZ 0 True True True", "\n".join(report)


def test_inputs_that_crashed_the_interpreter(mp):
    # What the fuzz found, one by one: each used to end in a segfault.
    out = mp.run(
        """
        import asyncio, aioctl, aioschedule, aiocron, aiolog

        async def job():
            await asyncio.sleep_ms(1)

        async def main():
            aioctl.add(job)
            aioctl.set_log(aiolog.LogStream(256))
            aioctl.log(job())  # a coroutine object as a grep pattern
            aioctl.log(5)
            for kw in (dict(start_in=1e30), dict(start_in=1, repeat=10 ** 12),
                       dict(start_in=(99999, 1, 1, 0, 0, 0, 0, 0)), dict(wday=job()), dict(cron=7)):
                try:
                    aioschedule.schedule("job", **kw)
                except (ValueError, TypeError) as e:
                    print(type(e).__name__, str(e)[:60])
            await asyncio.sleep_ms(5)
            aioctl.status("job")
            print("alive")

        asyncio.run(main())
        """
    )
    lines = out.splitlines()
    assert lines[0] == "ValueError aioschedule: start_in 1e+30 is more than 10**9 s"
    assert lines[1] == "ValueError aioschedule: repeat 1000000000000 is more than 10**9 s"
    assert lines[2] == "ValueError schedule: start_in (99999, 1, 1, 0, 0, 0, 0, 0) is not a tim"
    assert lines[3].startswith("ValueError bad wday <generator object 'job' at ")
    assert lines[4] == "TypeError cron: 7 is not a cron string"
    assert "job: status: done @" in lines[5]
    assert lines[-1] == "alive"
