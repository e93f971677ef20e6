# A stand-in wall clock for the scheduler: start(ms) makes it read ms now and
# run on with the ticks, as a board's RTC does once it is set.
import time, aioschedule


def start(wall_ms):
    t0 = time.ticks_ms()
    aioschedule.clock(wall_ms=lambda: wall_ms + time.ticks_diff(time.ticks_ms(), t0))
