# aiolog: a log stream that lives in a fixed block of RAM.
#
# streamlog is a ring buffer: writes wrap around and overwrite the oldest
# lines, so logging never allocates more than the size it was given.

import io
import time
from micropython import const
from aioctl import lazy, match  # match: aiolog.match too

_SIZE = const(2048)


def datestr(t=None, offset=None):
    # offset: seconds from UTC (aiocron.utc_offset); None: the port's
    # localtime. Its tuple has 8 items on boards and 9 on unix: use 6.
    if t is None:
        t = time.time()
    # Far-off times crash the unix port's localtime (past 6.7e16 s).
    if not (type(t) in (int, float) and -1e11 < t < 1e11 and (offset is None or type(offset) is int
                                                              and -86400 <= offset <= 86400)):
        raise ValueError("datestr: time %r, offset %r" % (t, offset))
    lt = time.localtime(t) if offset is None else time.gmtime(int(t) + offset)
    return "%d-%02d-%02d %02d:%02d:%02d" % (lt[0], lt[1], lt[2], lt[3], lt[4], lt[5])


class LogStream(io.IOBase):
    def __init__(self, size=_SIZE):
        if type(size) is not int or not 0 < size <= 1 << 24:
            raise ValueError("LogStream: size %r is not 1 to 2**24 bytes" % (size,))
        self._size = size
        self._buf = None  # the ring, allocated by the first write
        self._mv = None
        self._end = 0  # bytes written since creation; the next byte goes at _end % size
        self._event = None  # created by the first follow()
        self._nl = False  # the byte before the oldest one kept is a newline

    def write(self, data):
        if isinstance(data, str):
            data = data.encode()
        elif type(data) not in (bytes, bytearray):
            raise TypeError("write: %r is not str or bytes" % (data,))
        n = len(data)
        size = self._size
        if self._buf is None:
            self._buf = bytearray(size)
            self._mv = memoryview(self._buf)
        # Read before this write overwrites it: is the byte just before the
        # oldest one kept a newline (then the oldest line is whole)?
        p = self._end + n - size - 1
        if p >= 0:
            self._nl = (data[p - self._end] if p >= self._end else self._buf[p % size]) == 10
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

    def cat(self, grep=""):
        # Prints the lines that match grep. aiologread, the reading side of
        # the stream (it reads these attributes), is imported for the call
        # and let go after: only the REPL and status() read the log.
        lazy("aiologread", "cat")(self, grep)

    def follow(self, grep="", wait=0.05):
        # Like tail -F | grep: prints matching lines as they are written
        # (a coroutine: await it). wait: seconds to let a burst of writes
        # finish before printing.
        return lazy("aiologread", "follow")(self, grep, wait)


AioStream = LogStream  # asyncmd's name for the class


streamlog = LogStream()
