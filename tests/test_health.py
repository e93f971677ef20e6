# Health: hung tasks (heartbeat limits) cancelled and restarted by
# watcher_loop, and a hardware watchdog fed only while critical tasks are
# healthy (a stand-in object with feed(): the unix port has no machine.WDT).

import re

from test_aioschedule import TOL, plain

HEAD = """
import asyncio, time, aioctl, aioschedule, minilog, sys
T0 = time.ticks_ms()
def ms():
    return time.ticks_diff(time.ticks_ms(), T0)
log = minilog.Logger("w", sys.stdout)

class WDT:
    # stands in for machine.WDT: records when it was fed
    def __init__(self):
        self.fed = []
    def feed(self):
        self.fed.append(ms())

def gaps(xs):
    return [b - a for a, b in zip(xs, xs[1:])]
"""


def test_a_hung_task_is_cancelled_and_restarted(mp):
    out = mp.run(HEAD + """
runs = []
never = asyncio.Event()

async def worker():
    runs.append(ms())
    for i in range(3):
        aioctl.heartbeat()
        await asyncio.sleep_ms(10)
    await never.wait()          # hangs: no more heartbeats

async def steady():
    beat = aioctl.heartbeat
    while True:
        beat()
        await asyncio.sleep_ms(20)

async def main():
    aioctl.add(worker, _heartbeat=0.05)
    aioctl.add(steady, _heartbeat=0.05)
    aioctl.add(aioschedule.watcher_loop, alog=log, sleep=30, backoff=0.01, max_backoff=0.01)
    await asyncio.sleep_ms(100)
    aioctl.status("worker", log=False)
    await asyncio.sleep_ms(60)
    print("runs", runs)
    g = aioctl.group()
    print("steady", g["steady"][aioctl.STATE] == aioctl.RUNNING)
    aioctl.status("steady", log=False)

asyncio.run(main())
""")
    text = plain(out)
    runs = eval(re.search(r"runs (\[.*\])", text).group(1))
    # beats at 0, 10, 20; hung after 20 + 50 ms; restarted at once
    assert len(runs) >= 2 and 70 - 1 <= runs[1] - runs[0] <= 70 + TOL * 2, runs
    assert re.search(r"\[w\] \[ERROR\] \[worker\] hung: no heartbeat for 0\.0\d+ s \(limit 0\.05 s\); "
                     r"watcher_loop cancels it", text), text
    assert "[worker] failed: RuntimeError: hung: no heartbeat for" in text
    assert "[worker] restarted by watcher_loop (1)" in text
    assert re.search(r"┗━► heartbeat: 0\.0 s ago, limit 0\.05 s; hung 1 times", text), text
    assert "steady True" in text  # beating in time: never cancelled
    assert re.search(r"● steady: status: running.*\n    ┗━► heartbeat: 0\.0 s ago, limit 0\.05 s\n", text), text


def test_heartbeat_bad_input(mp):
    out = mp.run(HEAD + """
async def job():
    pass

for bad in (0, -1, "5", True):
    try:
        aioctl.add(job, _heartbeat=bad)
    except ValueError as e:
        print(e)
try:
    aioctl.heartbeat()
except RuntimeError as e:
    print(e)

async def main():
    for kw in ({"wdt": object()}, {"critical": "net"}, {"feed": -1}):
        aioctl.add(aioschedule.watcher_loop, name="w", **kw)
        await asyncio.sleep_ms(5)
        print(repr(aioctl.group()["w"][aioctl.EXC]))
        aioctl.delete("w")
    print(sorted(aioctl.group()))

asyncio.run(main())
""")
    lines = out.splitlines()
    assert lines[:5] == [
        "add: _heartbeat 0 must be seconds, more than 0",
        "add: _heartbeat -1 must be seconds, more than 0",
        "add: _heartbeat '5' must be seconds, more than 0",
        "add: _heartbeat True must be seconds, more than 0",
        "heartbeat: call it from inside an aioctl task",
    ]
    assert lines[5] == "TypeError('watcher_loop: wdt <object> has no feed()',)"
    assert lines[6] == "TypeError(\"watcher_loop: critical 'net' must be a tuple or list of task names\",)"
    assert lines[7] == "ValueError('aioschedule: feed -1 is negative',)"
    assert lines[8] == "[]"


def test_watchdog_fed_whatever_the_sleep_while_critical_tasks_are_healthy(mp):
    out = mp.run(HEAD + """
async def net():
    while True:
        aioctl.heartbeat()
        await asyncio.sleep_ms(10)

async def side():
    await asyncio.sleep_ms(5)
    raise OSError("not critical")

async def main():
    w = WDT()
    aioctl.add(net, _heartbeat=0.05)
    aioctl.add(side, _restart=False)
    # sleep=30 s, far longer than any board's watchdog: it is fed every 20 ms anyway
    aioctl.add(aioschedule.watcher_loop, sleep=30, wdt=w, critical=("net",), feed=0.02)
    await asyncio.sleep_ms(200)
    n = len(w.fed)
    print("healthy", n, max(gaps(w.fed)))
    aioctl.stop("net")            # a critical task stopped: no more feeding
    await asyncio.sleep_ms(100)
    print("stopped", len(w.fed) - n)
    aioctl.start("net")
    await asyncio.sleep_ms(50)
    print("started", len(w.fed) - n > 0)
    n = len(w.fed)
    aioctl.delete("net")          # gone: no feeding either
    await asyncio.sleep_ms(60)
    print("deleted", len(w.fed) - n)

asyncio.run(main())
""")
    lines = out.splitlines()
    m = re.match(r"healthy (\d+) (\d+)", lines[0])
    assert m and int(m.group(1)) >= 8 and int(m.group(2)) <= 20 + TOL, lines[0]
    assert lines[1] == "stopped 0"
    assert lines[2] == "started True"
    assert lines[3] == "deleted 0"


def test_watchdog_not_fed_while_a_critical_task_hangs_or_crash_loops(mp):
    out = mp.run(HEAD + """
never = asyncio.Event()

async def stuck():
    aioctl.heartbeat()
    await never.wait()

async def crash():
    await asyncio.sleep_ms(2)
    raise OSError("down")

async def main():
    w = WDT()
    aioctl.add(stuck, _heartbeat=0.04)
    aioctl.add(aioschedule.watcher_loop, sleep=30, wdt=w, critical=("stuck",), feed=0.01,
               backoff=0.1, max_backoff=0.1)
    await asyncio.sleep_ms(150)
    g = gaps(w.fed)
    # fed while stuck's heartbeat was on time; it hangs (cancelled at 40 ms),
    # is restarted at once, hangs again (80 ms) and waits 100 ms for its
    # restart: not fed since
    print("hung", g[0] <= 20, ms() - w.fed[-1] >= 50, aioctl.group()["stuck"][aioctl.STATE] == aioctl.ERROR)
    aioctl.delete("stuck")
    aioctl.delete("watcher_loop")
    await asyncio.sleep_ms(0)  # the old loop ends when it gets to run
    w2 = WDT()
    aioctl.add(crash)
    aioctl.add(aioschedule.watcher_loop, name="w2", sleep=30, wdt=w2, critical=["cr*"], feed=0.01,
               backoff=0.1, max_backoff=0.1)
    await asyncio.sleep_ms(400)
    # restarted at once after its first failure, then every 100 ms: in ERROR
    # nearly all the time, so the watchdog is (nearly) never fed: 40 wake-ups
    print("crash", len(w2.fed) <= 5, __import__("aiowatch").restarts["crash"] >= 3)

asyncio.run(main())
""")
    assert out.splitlines() == ["hung True True True", "crash True True"]
