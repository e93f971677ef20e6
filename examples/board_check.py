# A quick check that aioctl works on a board: two short tasks, one that
# returns a value and one that fails, then the status of both.
#
#   mpremote run examples/board_check.py       (a board with the library in /lib)
#   tools/run.sh mp examples/board_check.py    (unix port)

import asyncio
import aioctl


async def answer():
    await asyncio.sleep_ms(50)
    return 42


async def fail():
    await asyncio.sleep_ms(50)
    raise ValueError("board check")


async def main():
    aioctl.add(answer)
    aioctl.add(fail)
    await asyncio.sleep_ms(200)
    aioctl.status()


asyncio.run(main())
