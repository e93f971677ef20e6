# aiologread: the reading side of aiolog.LogStream: cat() and follow().
#
# LogStream.cat() and LogStream.follow() import it for the call and let it go
# after (aioctl.lazy): a board writes its log all the time but reads it
# only from the REPL or in aioctl.status(), so this code is not kept in RAM.

import asyncio
from aioctl import match


def _greps(grep):
    # grep: "" (everything), a pattern, or a list of patterns, each matched
    # anywhere in the line.
    if not grep:
        return None
    if not isinstance(grep, (list, tuple)):
        # Never iterate anything else: a coroutine object would run outside
        # the event loop.
        grep = (grep,)
    greps = []
    for g in grep:
        greps.append(("*%s*" % (g,)).encode())
    return greps


def _find(st, pos):
    # Position of the first newline written at or after pos, or -1.
    buf = st._buf
    size = st._size
    i = pos % size
    n = st._end - pos
    first = min(n, size - i)
    k = buf.find(b"\n", i, i + first)
    if k >= 0:
        return pos + k - i
    if first < n:
        k = buf.find(b"\n", 0, n - first)
        if k >= 0:
            return pos + first + k
    return -1


def _print(st, pos, greps):
    # Prints the matching complete lines written at or after position pos;
    # returns the position after the last one. Lines are cut from the ring
    # one at a time, so reading never copies the whole ring.
    size = st._size
    if pos < st._end - size:
        # Overwritten meanwhile: from the oldest whole line still there.
        pos = st._end - size
        if not st._nl:
            k = _find(st, pos)
            if k < 0:
                return pos
            pos = k + 1
    while True:
        k = _find(st, pos)
        if k < 0:
            return pos
        i = pos % size
        j = k % size
        mv = st._mv
        line = bytes(mv[i:j]) if i <= j else bytes(mv[i:]) + bytes(mv[:j])
        if greps is None:
            wanted = True
        else:
            wanted = False
            for g in greps:
                if match(g, line):
                    wanted = True
                    break
        if wanted:
            try:
                print(line.decode())
            except UnicodeError:
                print(repr(line)[2:-1])
        pos = k + 1


def cat(st, grep=""):
    greps = _greps(grep)
    if st._buf is not None:
        _print(st, 0, greps)


async def follow(st, grep="", wait=0.05):
    # wait: seconds to let a burst of writes finish before printing.
    if wait is True or wait is False or not isinstance(wait, (int, float)) or not 0 <= wait <= 3600:
        raise ValueError("follow: wait %r must be seconds, 0 to 3600" % (wait,))
    wait = int(wait * 1000 + 0.5)
    greps = _greps(grep)
    if st._event is None:
        st._event = asyncio.Event()
    pos = st._end
    while True:
        await st._event.wait()
        st._event.clear()
        await asyncio.sleep_ms(wait)
        pos = _print(st, pos, greps)
