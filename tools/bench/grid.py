# Shared by the lateness and burst benchmarks: schedule_loop started through
# loop() records when it started (t0), from which start_in counts, so run k
# of a task with start_in=1, repeat=1 is due at t0 + 1000 + k*1000.
import time
import aioschedule

t0 = 0


async def loop():
    global t0
    t0 = time.ticks_ms()
    await aioschedule.schedule_loop()
