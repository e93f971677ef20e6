# Importing it makes the scheduler read its ticks through counting_ticks(),
# which counts the reads in reads[0]: an idle loop must not read at all.
import time, aioschedule

reads = [0]


def counting_ticks():
    reads[0] += 1
    return time.ticks_ms()


aioschedule.clock(ticks_ms=counting_ticks)
