# aioheap: the scheduler's heap of schedules by due time. Pure: it imports
# nothing of the library. Items are lists that compare by their first
# items (a schedule: its due time, then its sequence number).
#
# Three levels of lists of at most _PART items, each a heap (heapq): parts
# hold items, groups hold parts, heap holds groups. Lists compare by their
# first item, so a part sits in its group by its earliest item and
# heap[0][0][0] is the earliest of all. No list needs a large free block of
# RAM to grow, as one list of every schedule does on a board's fragmented
# heap. Empty parts and groups leave.

from heapq import heappop, heappush, heapify
from micropython import const

_PART = const(16)
heap = []  # read it; change it only through the functions here
size = 0  # items in the heap
_room_g = None  # a group, and a part with room in it (or an empty part)
_room_h = None
_first_g = None  # the group and part of the last first()
_first_h = None
_moved = False  # put() or drop() since the last first(): settle() looks again


def _room():
    # A part with room, and a group for it (a new part or group if need be)
    for g in heap:
        for h in g:
            if len(h) < _PART:
                return g, h
    for g in heap:
        if len(g) < _PART:
            return g, []
    return [], []


def put(s):
    # Puts item s in the heap. On MemoryError nothing has changed.
    global _room_g, _room_h, size, _moved
    _moved = True
    g, h = _room_g, _room_h
    if h is None or len(h) >= _PART or not h and len(g) >= _PART:
        g, h = _room_g, _room_h = _room()
    heappush(h, s)
    if len(h) == 1:
        try:
            heappush(g, h)
            if len(g) == 1:
                try:
                    heappush(heap, g)
                except MemoryError:
                    g.pop()
                    raise
            elif g[0] is h:
                heapify(heap)  # its group's first item is earlier now
        except MemoryError:
            h.pop()
            raise
    elif h[0] is s:
        heapify(g)  # its part's first item is earlier now
        if g[0] is h:
            heapify(heap)
    size += 1


def first():
    # The earliest item (None: the heap is empty), for settle()
    return settle()


def settle(s=None, again=False):
    # s, the last first(), changed in place: it goes back in order (again)
    # or leaves, then its part and group, if they no longer come before the
    # two that follow them. Nothing allocates: each list had room. Returns
    # first(), the next item: without s, only that (so the scheduler's pass
    # makes one call an item).
    global size, _first_g, _first_h, _moved
    if s is not None:
        g, h = _first_g, _first_h
        if _moved and (h[0] is not s or g[0] is not h or heap[0] is not g):
            # (rare) an item was put ahead of s since first()
            if not again:
                h.remove(s)
                size -= 1
            _order(h, g)
        else:
            heappop(h)
            if again:
                heappush(h, s)
            else:
                size -= 1
            if not h:
                heappop(g)
            elif len(g) > 1 and (h > g[1] or len(g) > 2 and h > g[2]):
                heappop(g)
                heappush(g, h)
            if not g:
                heappop(heap)
            elif len(heap) > 1 and (g > heap[1] or len(heap) > 2 and g > heap[2]):
                heappop(heap)
                heappush(heap, g)
    _moved = False
    if not heap:
        return None
    g = _first_g = heap[0]
    h = _first_h = g[0]
    return h[0]


def _order(h, g):
    # The heap in order again after items of part h (in group g) changed
    # in place; an empty part or group leaves.
    heapify(h)
    if not h:
        g.remove(h)
    heapify(g)
    if not g:
        heap.remove(g)
    heapify(heap)


def items():
    # every item, in no order
    for g in heap:
        for h in g:
            yield from h


def drop(gone):
    # Removes the items for which gone(item) is true (no list grows: each
    # keeps fewer items than it had).
    global size, _room_g, _room_h, _moved
    _moved = True
    size = k = 0
    for g in heap:
        n = 0
        for h in g:
            j = 0
            for x in h:
                if not gone(x):
                    h[j] = x
                    j += 1
            del h[j:]
            if j:
                heapify(h)
                g[n] = h
                n += 1
                size += j
        del g[n:]
        if n:
            heapify(g)
            heap[k] = g
            k += 1
    del heap[k:]
    heapify(heap)
    _room_g = _room_h = None
