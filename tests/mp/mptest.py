# Helpers for test scripts, run inside MicroPython.
import asyncio


def plain(text):
    # Drops ANSI colour codes.
    out = []
    i = 0
    while True:
        j = text.find("\033[", i)
        if j < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:j])
        i = text.find("m", j) + 1


def run(coro, ms=None):
    # Runs coro, or just the loop for ms milliseconds.
    async def wait():
        await asyncio.sleep_ms(ms)

    asyncio.run(coro if coro is not None else wait())
