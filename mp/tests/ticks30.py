# ticks arithmetic of a 32-bit board (ticks_ms wraps at 2**30), for clocks
# that tests drive by hand: the unix port's ticks never wrap in a test.
P = 1 << 30
MASK = P - 1


def add30(a, b):
    return (a + b) & MASK


def diff30(a, b):
    d = (a - b) & MASK
    return d - P if d >= P // 2 else d
