# asyncmd's full example: tasks added by name, two schedules, the watcher
# and the scheduler, with an aiorepl prompt where `import aioctl` and
# `aioctl.status()` show the tasks while they run.
#
#   tools/run.sh mp examples/seed.py          (unix port)
#   mpremote run examples/seed.py             (a board with the library in /lib)
#
# It needs micropython-lib's aiorepl and logging: `mpremote mip install
# aiorepl logging` on a board, `.venv/bin/micropython -m mip install aiorepl
# logging` for the unix port (both need a network). examples/demo.py does
# the same without them.
import sys

try:
    import aiorepl
    import logging
except ImportError as e:
    print("examples/seed.py needs micropython-lib's aiorepl and logging (%s). Get them with" % e)
    print("  mpremote mip install aiorepl logging                  (on a board)")
    print("  .venv/bin/micropython -m mip install aiorepl logging  (for the unix port)")
    print("or run examples/demo.py, which needs neither: tools/run.sh demo")
    sys.exit(1)

import aioctl
import aioschedule
import uasyncio as asyncio
from aiolog import streamlog
import time


# Logger
logging.basicConfig(
    level=logging.INFO,
    format="%(asctime)s [%(name)s] [%(levelname)s] %(message)s",
    datefmt="%Y-%m-%d %H:%M:%S",
    stream=streamlog,
)

log = logging.getLogger(sys.platform)


aioctl.set_log(streamlog)


@aioschedule.schedule_task(start_in=10, repeat=120)
@aioctl.aiotask
async def test(a, b=1, alog=log, logid=""):
    if not logid:
        logid = "test"
    await asyncio.sleep_ms(100)
    alog.info(f"[{logid}] start: hello {a}, {b}")
    t0 = time.time()
    while (time.time() - t0) < 5:
        await asyncio.sleep(2)
    alog.info(f"[{logid}] done: hello {a}, {b}")
    return 42


async def main():
    print("starting tasks...")

    # start other program tasks.
    aioctl.add(test, "world", b=10)
    aioctl.add(test, "from", b=20, name="test_from", _id="test_from", logid="test_from")
    aioschedule.schedule(
        "test_from", start_in=time.localtime(time.time() + 20), repeat=30
    )
    # start the aiorepl task.
    aioctl.add(aiorepl.task, name="repl", prompt=">>> ")
    # start the watcher task
    aioctl.add(aioschedule.watcher_loop)
    # start the scheduler task
    aioctl.add(aioschedule.schedule_loop)

    await asyncio.gather(*aioctl.tasks())


asyncio.run(main())
