# fill() takes every free byte of the heap, for tests of what the library
# does when memory runs out at the worst moment.


def fill():
    # Returns what holds the bytes: a chain of pairs [older pair, bytes] (one
    # list of them would need ever larger blocks to grow). Drop it, or
    # better cut() it, to free them.
    junk = None
    for size in (4096, 256, 16, 1):
        try:
            while True:
                junk = [junk, bytearray(size)]
        except MemoryError:
            pass
    return junk


def cut(junk):
    # Empties every pair of the chain, so that a stale pointer to one of them
    # (the GC is conservative) keeps nothing else alive.
    while junk is not None:
        older = junk[0]
        junk[0] = junk[1] = None
        junk = older


def scrub(n=40):
    # The GC is conservative: a stale pointer left on the C stack by fill()
    # can keep the dropped chain alive. Calls n frames deep to overwrite it.
    return 0 if n == 0 else scrub(n - 1)
