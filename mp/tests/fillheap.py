# fill() takes every free byte of the heap, for tests of what the library
# does when memory runs out at the worst moment.

import gc


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


def squeeze(room):
    # fill(), leaving room bytes free in one piece: they come free at the
    # next collection (the first allocation that does not fit makes one).
    # A sweep of room from 0 up makes an operation fail at each of its
    # allocations in turn, then succeed. cut() what it returns.
    spare = bytearray(room)
    top = [None, None]  # [fill()'s chain, a chain of 1-tuples]: one more pair for cut()
    top[0] = fill()
    gc.collect()  # what fill() dropped on its way
    _plug(top)
    spare = None
    return top


def _plug(top):
    # The holes fill() left (too small for its pairs; its own frame) take
    # 1-tuples, one block each. Recursion, not a loop: a function's frame
    # with a try in a loop is on the heap until it returns, and would leave
    # a hole; this one, and squeeze()'s, fit on the C stack.
    try:
        top[1] = (top[1],)
    except MemoryError:
        return
    _plug(top)
