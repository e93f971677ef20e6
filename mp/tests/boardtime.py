# Stand-in for a board's time module: time() is an int and localtime() an
# 8-tuple, as on ESP32/RP2040. Install with sys.modules["time"] = boardtime.
import utime

ticks_ms = utime.ticks_ms
ticks_add = utime.ticks_add
ticks_diff = utime.ticks_diff
sleep_ms = utime.sleep_ms
mktime = utime.mktime
time_ns = utime.time_ns


def time():
    return int(utime.time())


def localtime(t=None):
    return (utime.localtime() if t is None else utime.localtime(t))[:8]


def gmtime(t=None):
    return localtime(t)
