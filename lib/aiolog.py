# aiolog: a log stream that lives in a fixed block of RAM.
#
# streamlog is a ring buffer: writes wrap around and overwrite the oldest
# lines, so logging never allocates more than the size it was given.

import io
import time
import asyncio
from micropython import const

_SIZE = const(2048)


def datestr(t=None):
    # localtime is an 8-tuple on boards and a 9-tuple on unix: use the first 6.
    lt = time.localtime() if t is None else time.localtime(t)
    return "%d-%02d-%02d %02d:%02d:%02d" % (lt[0], lt[1], lt[2], lt[3], lt[4], lt[5])


def match(pattern, text):
    # Glob match of the whole text; "*" is the only wildcard.
    parts = pattern.split("*")
    if len(parts) == 1:
        return pattern == text
    head = parts[0]
    tail = parts[-1]
    i = len(head)
    end = len(text) - len(tail)
    if end < i or not text.startswith(head) or not text.endswith(tail):
        return False
    for part in parts[1:-1]:
        j = text.find(part, i, end)
        if j < 0:
            return False
        i = j + len(part)
    return True


def _greps(grep):
    # grep: "" (everything), a pattern, or a list of patterns, each matched
    # anywhere in the line.
    if not grep:
        return None
    if isinstance(grep, str):
        grep = (grep,)
    greps = []
    for g in grep:
        greps.append("*" + g + "*")
    return greps


def _wanted(greps, line):
    if greps is None:
        return True
    for g in greps:
        if match(g, line):
            return True
    return False


class LogStream(io.IOBase):
    def __init__(self, size=_SIZE):
        self._size = size
        self._mv = None  # the ring, allocated by the first write
        self._end = 0  # bytes written since creation; the next byte goes at _end % size
        self._event = None  # created by the first follow()

    def write(self, data):
        if isinstance(data, str):
            data = data.encode()
        n = len(data)
        size = self._size
        if self._mv is None:
            self._mv = memoryview(bytearray(size))
        src = memoryview(data)
        if n > size:
            # Only the newest size bytes can be kept.
            self._end += n - size
            src = src[n - size :]
            n = size
        i = self._end % size
        first = min(n, size - i)
        self._mv[i : i + first] = src[:first]
        if first < n:
            self._mv[: n - first] = src[first:]
        self._end += n
        if self._event:
            self._event.set()
        return len(data)

    def flush(self):
        pass

    def _lines(self, start):
        # Complete lines written at or after byte position start, and the
        # position just past the last of them.
        size = self._size
        oldest = self._end - size
        partial = start < oldest
        if partial:
            start = oldest
        if start < 0:
            start = 0
        if start >= self._end:
            return [], start
        i = start % size
        j = self._end % size
        if i < j:
            raw = bytes(self._mv[i:j])
        else:
            raw = bytes(self._mv[i:]) + bytes(self._mv[:j])
        lines = raw.split(b"\n")
        if partial:
            # The first line lost its beginning when the ring wrapped.
            lines.pop(0)
        rest = lines.pop()  # after the last newline: incomplete, or empty
        return lines, self._end - len(rest)

    def cat(self, grep=""):
        greps = _greps(grep)
        for raw in self._lines(0)[0]:
            line = _decode(raw)
            if _wanted(greps, line):
                print(line)

    async def follow(self, grep="", wait=50):
        # Like tail -F | grep: prints matching lines as they are written.
        # wait: ms to let a burst of writes finish before printing.
        greps = _greps(grep)
        if self._event is None:
            self._event = asyncio.Event()
        pos = self._end
        while True:
            await self._event.wait()
            self._event.clear()
            await asyncio.sleep_ms(wait)
            lines, pos = self._lines(pos)
            for raw in lines:
                line = _decode(raw)
                if _wanted(greps, line):
                    print(line)


def _decode(raw):
    try:
        return raw.decode()
    except UnicodeError:
        return repr(raw)[2:-1]


streamlog = LogStream()
