# aionames: a dict of names made of small dicts, so that it never needs one
# large free block of RAM to grow. aioctl.group() and aioschedule.group()
# are Names. Pure: it imports nothing of the library.
#
# One dict of every name must find one free block for all of them each time
# it grows; on a board's fragmented heap that fails while a third of the
# heap is still free in smaller pieces. Here no block holds more than
# _SPLIT names or 32 pointers.

from micropython import const

_NONE = {}  # the part a name goes to while that part has none: stays empty
_NO_DEFAULT = object()  # pop() without a default

# How Names picks a part: the name's hash times _MUL spreads its bits (a
# str hash's low bits follow the last characters: "job1", "job2"; the
# product stays below 2**30, a small int on 32-bit). Bits 11-15 pick one of
# the _TOP parts; a part whose dict is full becomes a list of 4 parts, picked
# by the next 2 bits, down to _DEEPEST lists.
_MUL = const(12059)
_TOP_BITS = const(5)
_TOP = const(32)  # 1 << _TOP_BITS
_SPLIT = const(8)  # names a dict holds before it is split
_DEEPEST = const(3)


def _dicts(parts):
    # the dicts that hold names, at every level below parts
    for d in parts:
        if type(d) is list:
            yield from _dicts(d)
        elif d:
            yield d


class Names:
    # name (str) -> value; reads like a dict
    def __init__(self):
        self.parts = [None] * _TOP  # a dict or a list of parts each, made when it gets a name

    def _part(self, k, make=False):
        # The dict that holds k, or would (made, or split when full, if make)
        try:
            x = hash(k) * _MUL >> 11
        except TypeError:
            raise TypeError("Names: key %r is not a name" % (k,))
        parts = self.parts
        i = x & (_TOP - 1)
        x >>= _TOP_BITS
        deep = 0
        while True:
            d = parts[i]
            if type(d) is list:
                parts = d
                i = x & 3
                x >>= 2
                deep += 1
            elif d is None:
                if not make:
                    return _NONE
                d = parts[i] = {}
                return d
            elif make and len(d) >= _SPLIT and deep < _DEEPEST and k not in d:
                # A list of smaller parts in its place, filled before it
                # replaces the dict (a MemoryError changes nothing)
                sub = [None] * 4
                for key in d:
                    j = hash(key) * _MUL >> 11 + _TOP_BITS + 2 * deep & 3
                    if sub[j] is None:
                        sub[j] = {}
                    sub[j][key] = d[key]
                parts[i] = sub
            else:
                return d

    def __getitem__(self, k):
        return self._part(k)[k]

    # The dict goes in a local first: `self._part(k, True)[k] = v` makes a
    # bound method (an allocation: it can fail on a full heap), as any call
    # of a method inside an assignment's target does.
    def __setitem__(self, k, v):
        d = self._part(k, True)
        d[k] = v

    def __contains__(self, k):
        return k in self._part(k)

    def get(self, k, default=None):
        return self._part(k).get(k, default)

    def pop(self, k, default=_NO_DEFAULT):  # not *default: that makes a tuple
        d = self._part(k)
        if default is _NO_DEFAULT:
            return d.pop(k)
        return d.pop(k, default)

    # len(), keys and values make no (key, value) pair per name: on a full
    # heap `if group():` still works.
    def __len__(self):
        n = 0
        for d in _dicts(self.parts):
            n += len(d)
        return n

    def __iter__(self):
        for d in _dicts(self.parts):
            yield from d

    keys = __iter__

    def values(self):
        for d in _dicts(self.parts):
            yield from d.values()

    def items(self):
        for d in _dicts(self.parts):
            yield from d.items()

    def __repr__(self):
        return repr(dict(self.items()))


