# asyncmd's example on a bare unix port: scheduled tasks, a watcher that
# restarts a failing task, a task stopped and started again, a job that
# shows its progress and is retried, a run started by an interrupt, and the
# aioctl.status() tree printed as it all happens. Ends by itself after about
# 13 s. Uses micropython-lib logging when it is installed (examples/minilog.py
# otherwise), and adds an aiorepl prompt when aiorepl is installed.
#
#   tools/run.sh demo                         (unix port)
#   mpremote run examples/demo.py             (a board with the library in /lib)

import asyncio
import sys
import time
import micropython
import aioctl
import aioschedule
from aiolog import streamlog

try:
    import logging

    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s [%(name)s] [%(levelname)s] %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
        stream=streamlog,
    )
    log = logging.getLogger(sys.platform)
except ImportError:
    from minilog import Logger

    log = Logger(sys.platform)

aioctl.set_log(streamlog)


@aioschedule.schedule_task(start_in=2, repeat=4)
@aioctl.aiotask
async def test(a, b=1, alog=log, logid=""):
    if not logid:
        logid = "test"
    await asyncio.sleep_ms(100)
    alog.info(f"[{logid}] start: hello {a}, {b}")
    await asyncio.sleep(1)
    alog.info(f"[{logid}] done: hello {a}, {b}")
    return 42


async def flaky(alog=log):
    # Fails every time: watcher_loop restarts it, waiting longer each time.
    await asyncio.sleep_ms(300)
    alog.info("[flaky] reading sensor")
    raise OSError(110)


tries = [0]


async def upload(alog=log):
    # Shows its progress; the first try fails half-way and is retried.
    tries[0] += 1
    for i in range(1, 11):
        aioctl.progress(i / 10, "uploading")
        await asyncio.sleep_ms(100)
        if tries[0] == 1 and i == 5:
            raise OSError(104)
    alog.info("[upload] done after %d tries" % tries[0])
    return "uploaded"


async def door(alog=log):
    alog.info("[door] opened: started by an interrupt")


def irq(_):
    # what a pin interrupt handler does (pin.irq): it only flags the run
    aioschedule.trigger("door")


async def blink(alog=log):
    n = 0
    while True:
        n += 1
        await asyncio.sleep_ms(500)
    return n


async def conductor():
    def show(title, **kw):
        print("\n=== %s" % title)
        aioctl.status(**kw)

    await asyncio.sleep_ms(500)
    show("t=0.5 s: test and test_from wait for their schedules")
    await asyncio.sleep(2)
    show("t=2.5 s: upload shows its progress", name="upload", log=False)
    await asyncio.sleep(1)
    show("t=3.5 s: both have run; flaky was restarted by watcher_loop; upload was retried")
    micropython.schedule(irq, None)  # a button press
    aioctl.stop("blink")
    await asyncio.sleep(3)
    show("t=6.5 s: blink stopped", name="blink")
    aioctl.start("blink")
    await asyncio.sleep(6)
    show("t=12.5 s")
    show("test_from and flaky in debug mode", name="test_from", debug=True)
    aioctl.status("flaky", debug=True, log=False)
    aioctl.stop()  # everything else; the demo ends


async def main():
    print("starting tasks...")
    aioctl.add(test, "world", b=10)
    aioctl.add(test, "from", b=20, name="test_from", _id="test_from", logid="test_from")
    aioschedule.schedule("test_from", start_in=time.localtime(time.time() + 3), repeat=3)
    aioctl.add(flaky)
    aioctl.add(upload)
    aioschedule.schedule("upload", start_in=1.5, max_retries=2, retry_delay=0.2)
    aioctl.add(door)
    aioschedule.schedule("door", start_in=3600)  # its own time is far off
    aioschedule.trigger  # gets the function in normal code, before any interrupt
    aioctl.add(blink)
    try:
        import aiorepl

        aioctl.add(aiorepl.task, name="repl", prompt=">>> ")
    except ImportError:
        pass
    aioctl.add(aioschedule.watcher_loop, alog=log, backoff=1, max_backoff=4)
    aioctl.add(aioschedule.schedule_loop, alog=log)
    aioctl.add(conductor)
    await asyncio.gather(*aioctl.tasks())
    print("\nall tasks ended")


asyncio.run(main())
