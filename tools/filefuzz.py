#!/usr/bin/env python3
"""File fuzz of aiostore: mutated schedules files, each read by the real
library in the MicroPython unix port at a boot. Prints one table; exits
non-zero if a case failed.

    .venv/bin/python tools/filefuzz.py [--cases 1000] [--seed 1] [--first 0] [--mpy] [--jobs N] [--micropython PATH]

Each case is a schedules file made from a valid one (1 to 6 random records;
format 2, or format 1 three times in ten) by one kind of mutation:
  value         fields set to junk: strings, floats, lists, dicts, null,
                true/false, lists and dicts 300 deep, huge and negative
                numbers, 1e400;
  bounds        fields set at or just past aiostore's bounds, or where aiocron
                and aiolog stop (1e11 s);
  calendar      a calendar with an empty field (it never matches), or of the
                wrong length, or not hex; and a wall-clock start;
                (in these three, half the records changed are due now: they
                run at the boot)
  fields        a record of 0, 1, 6, 12, 14 or 20 fields;
  records       no record, or 20 to 300;
  duplicates    a name in 2 to 4 records;
  truncated     the file cut at a random offset;
  junk bytes    1 to 4 runs of junk bytes written over or into the records;
  line ends     no last newline, lines after the checksum line, a blank line,
                CRLF, the checksum in other forms;
  long line     a name (or another field) of 400 to 5000 characters, some of
                them 2 or 3 bytes long in UTF-8;
  bad checksum  a bit flipped, the checksum changed or of other content;
  header        another header, or none;
  valid         none.
The checksum is recomputed after the mutation (but for truncated and bad
checksum, and one time in five for junk bytes, blank lines, CRLF and
headers), so the checks of the content are reached. Cases come from (seed,
case number) alone: `--first N --cases 1` replays case N.

A boot (tools/filefuzz.py's DRIVER, many per process): the library's modules
are let go (deleted from sys.modules, as a reset does) and imported again in
a new event loop, the wall clock is set (aioschedule.clock(wall_ms=...)), an
aioctl task is added for each name in the file, persist(path) restores, and
schedule_loop runs for 20 ms; then status() and save(), and a second boot
reads the file that save() wrote.

A case fails if:
  HANG     the case took more than --bound ms (default 2000) and 5 ms a
           record (its boots, in the interpreter), or schedule_loop
           made more passes than a 1 ms schedule needs, or the interpreter
           printed nothing for --timeout s (it is killed; the case is run
           again alone to confirm, and the batch goes on from the next case);
  CRASH    the interpreter died, or an exception escaped persist(), status()
           or save(), or schedule_loop ended (ERROR), or asyncio reported one;
  UNNAMED  a record of a file that was not set aside is neither restored nor
           dropped with "aiostore: saved schedule <name> not restored: <field>
           <value>" (the record's name, the field's word, its value in the file);
  GOOD SET ASIDE  a file with a good checksum whose lines parse (CPython's
           json) was renamed to .bad; CORRUPT USED: a file that is not one (bad
           checksum, cut, wrong header) was not, or something was restored
           from it; REWRITE LOST: the second boot did not restore, from the
           file the first one wrote, all that the first one had.
Host side: CPython standard library only.
"""

import argparse
import ast
import binascii
import json
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time

import hosttools
from hosttools import (LIB, add_cases_options, add_micropython_option, add_mpy_option, build_mpy, modules_note,
                       run_mp_watched, utc_now)

W0 = 1800000000  # the boots' wall clock: 2027-01-15 08:00:00 UTC
BIG = 1 << 40  # aiostore's bounds: ms of an interval, grace, jitter; runs, skipped
WALL = 10 ** 10  # s: the latest wall-clock time a record may hold
HEADER = b"aiostore 2\n"
RUN_MS = 20  # schedule_loop runs this long at each boot
CHUNK = 25  # cases per interpreter process
PER_RECORD = 5  # ms a case may take for each record, on top of --bound
# The words aiostore's messages name the fields with, by index in a record
FIELDS = ["name", "interval", "calendar", "grace", "jitter", "policy", "wall-clock start",
          "starts left", "runs", "skipped", "next due", "last start", "state"]

DRIVER = r"""
import sys, os, gc, json, time, asyncio
W = WALL * 1000
MODS = MODNAMES
RUN = RUN_MS


async def job():
    pass


def fresh():
    # A reset: the library's modules let go and imported again, a new loop.
    for m in MODS:
        if m in sys.modules:
            del sys.modules[m]
    gc.collect()
    asyncio.new_event_loop()
    import aioctl, aioschedule
    t0 = time.ticks_ms()
    aioschedule.clock(wall_ms=lambda: W + time.ticks_diff(time.ticks_ms(), t0))
    return aioctl, aioschedule


def exists(p):
    try:
        os.stat(p)
        return True
    except OSError:
        return False


async def boot(c, r, key, more):
    ctl, sch = fresh()
    errs = []
    asyncio.get_event_loop().set_exception_handler(lambda loop, ctx: errs.append(repr(ctx.get("exception"))))
    for n in c["n"]:
        ctl.add(job, name=n)
    try:
        done = sch.persist(c["p"])
    except Exception as e:
        r["crash"] = "%s: persist() raised %r" % (key, e)
        return
    r[key] = done
    r[key + "_bad"] = exists(c["p"] + ".bad")
    if not more:
        return
    passes = [0]
    real = sch._pass

    def counted(alog):
        passes[0] += 1
        return real(alog)

    sch._pass = counted
    ctl.add(sch.schedule_loop)
    await asyncio.sleep_ms(RUN)
    r["passes"] = passes[0]
    t = ctl.group()["schedule_loop"]
    if t[ctl.STATE] != ctl.RUNNING:
        r["crash"] = "schedule_loop ended: %r" % (t[ctl.EXC],)
        return
    if errs:
        r["crash"] = "asyncio: " + ", ".join(errs)
        return
    for what, f in (("status()", lambda: ctl.status(log=False)), ("idle_seconds()", sch.idle_seconds),
                    ("save()", sch.save)):
        try:
            f()
        except Exception as e:
            r["crash"] = "%s raised %r" % (what, e)
            return
    import aiostore
    r["unread"] = aiostore._unread is not None


async def case(c, r):
    await boot(c, r, "first", True)
    if "crash" in r or r.get("unread"):
        return
    if r["first_bad"]:
        os.rename(c["p"] + ".bad", c["p"] + ".bad1")
    print("@@2")
    await boot(c, r, "again", False)


def main():
    first, count = int(sys.argv[2]), int(sys.argv[3])
    with open(sys.argv[1]) as f:
        i = 0
        while i < first + count:
            line = f.readline()
            if not line:
                break
            if i >= first:
                c = json.loads(line)
                print("@@B %d" % i)
                r = {}
                t = time.ticks_ms()
                try:
                    asyncio.run(case(c, r))
                except BaseException as e:
                    r["crash"] = "escaped the loop: %r" % (e,)
                r["ms"] = time.ticks_diff(time.ticks_ms(), t)
                sys.stdout.write("@@R ")
                json.dump(r, sys.stdout)  # in pieces: a name may be long
                sys.stdout.write("\n")
            i += 1


main()
"""


# ------------------------------------------------------------ the files


class Raw:
    # A JSON token written as it is (1e400, -0, 1E2): json.dumps cannot.
    def __init__(self, text):
        self.text = text


def dump(v, ascii_=True):
    if isinstance(v, Raw):
        return v.text
    if isinstance(v, list):
        return "[" + ", ".join(dump(x, ascii_) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join("%s: %s" % (json.dumps(k, ensure_ascii=ascii_), dump(x, ascii_))
                               for k, x in v.items()) + "}"
    return json.dumps(v, ensure_ascii=ascii_)


def crc_line(body):
    return b"%08x\n" % binascii.crc32(body)


def make_file(records, version, ascii_=True):
    # The file as aiostore writes it (format 2), or as it did (format 1).
    if version == 1:
        data = dump(records, ascii_).encode("utf-8", "surrogatepass")
        return data + b"\n" + crc_line(data)
    body = HEADER + b"".join(dump(r, ascii_).encode("utf-8", "surrogatepass") + b"\n" for r in records)
    return body + crc_line(body)


def spec_hex(rnd, valid=True):
    # A calendar spec (aiocron's layout: 27 bytes of bitmaps) as hex.
    b = bytearray(27)

    def put(off, lo, hi, n):
        for v in rnd.sample(range(lo, hi + 1), n):
            b[off + (v >> 3)] |= 1 << (v & 7)

    put(0, 0, 59, rnd.choice([1, 1, 2, 60]))
    put(8, 0, 59, rnd.choice([1, 1, 4, 60]))
    put(16, 0, 23, rnd.choice([1, 2, 24]))
    put(19, 1, 31, rnd.choice([31, 31, 1, 3]))
    put(23, 1, 12, rnd.choice([12, 12, 1, 4]))
    put(25, 0, 6, rnd.choice([7, 7, 5, 1]))
    b[26] = rnd.choice([0, 0, 1])
    if b[26] == 0 and not (b[19] & 2 or b[20] or b[21] or b[22] & 0x3f):
        b[19] |= 2  # AND: a day of the month that every month has (1)
    if not valid:
        # a field with no value at all: never matches (an empty seconds field
        # made aiocron search 400 years second by second)
        if rnd.random() < 0.5:
            b[0:19] = b"\xff" * 7 + b"\x0f" + b"\xff" * 7 + b"\x0f\xff\xff\xff"  # every second
        off, n = rnd.choice([(0, 8), (8, 8), (16, 3), (19, 4), (23, 2), (25, 1)])
        b[off:off + n] = bytes(n)
    return b.hex()


NAMES = ["job", "a b", "x@1", "über", "日本", "tab\tname", "new\nline", "q'uote", 'dq"x', "\u2028", "€uro",
         "a" * 200, "_", "0", "None", "inf"]


def valid_record(rnd, name):
    def big(lo, hi):
        return rnd.choice([lo, hi, rnd.randint(lo, hi), rnd.randint(lo, min(hi, lo + 1000))])

    due = rnd.choice([W0 * 1000 + rnd.randint(-10 ** 8, 10 ** 8), W0 * 1000 + rnd.randint(-5, 5),
                      W0 * 1000 + rnd.randint(0, 10 ** 7), big(0, WALL * 1000)])
    spec = rnd.random() < 0.25
    state = rnd.choice([0, 0, 0, 1, 2])
    return [
        name,
        rnd.choice([0, 1, 5, 1000, 60000, 3600000, 86400000, big(0, BIG)]),
        spec_hex(rnd) if spec else None,
        rnd.choice([None, None, 0, 1000, big(0, BIG)]),
        rnd.choice([0, 0, 0, 10, big(0, BIG)]),
        rnd.choice([None, None, [0, 0, 1000], [big(-1 << 29, 1 << 29), big(0, 1 << 20), big(1, BIG)]]),
        rnd.choice([None, None, None, W0 + rnd.randint(-10 ** 6, 10 ** 7), big(0, 3 * W0)]),
        rnd.choice([None, None, 1, big(0 if state else 1, 1 << 30)]),  # 0 left: over
        rnd.choice([0, 3, big(0, 1 << 40)]),
        rnd.choice([0, 1, big(0, 1 << 40)]),
        due,
        rnd.choice([None, W0 - rnd.randint(0, 10 ** 6), big(0, WALL)]),
        state,
    ]


def nested(rnd):
    v = rnd.choice([[], {}, 0, "x"])
    for _ in range(rnd.randint(1, 300)):
        v = [v] if rnd.random() < 0.8 else {"k": v}
    return v


def junk(rnd):
    return rnd.choice([
        None, True, False, 0, -1, 1, 2, -2 ** 31, 2 ** 29, 2 ** 30, 2 ** 31, 2 ** 40, 2 ** 40 + 1, 2 ** 50,
        2 ** 50 + 1, WALL, WALL + 1, WALL * 1000, WALL * 1000 + 1, 2 ** 62, 2 ** 63, 2 ** 64, 10 ** 30, -10 ** 30,
        1.0, 0.5, -0.0, 60000.0, 1e308, 1e-300,
        Raw("1e400"), Raw("-1e400"), Raw("1E2"), Raw("-0"), Raw("123456789012345678901234567890"),
        "", "1", "60000", "null", "x" * 50, "é", "\ud800", "\x00", "*", "a*", "00ff", "zz", "0" * 54,
        spec_hex(rnd, valid=False), spec_hex(rnd, valid=False).upper(), "f" * 54, "g" * 54, "0" * 53,
        [], [1], [None], [0, 0, 0], [0, 0, 0, 0], [0, -1, 1], [0, 0, 0.5], [True, 0, 1], {}, {"a": 1},
        [[[]]], nested(rnd), [1] * 13, [rnd.randint(-BIG, BIG) for _ in range(3)],
        rnd.randint(-2 ** 64, 2 ** 64), rnd.uniform(-1e6, 1e6), W0 * 1000 + 0.5, W0 + 0.25,
    ])


def edge(rnd, f):
    # A value at or just past a bound of field f, or where another module's
    # range ends (aiocron and aiolog take times below 1e11 s)
    times = [0, -1, WALL, WALL + 1, 2 ** 31, 2 ** 40, 10 ** 11, 10 ** 12, 2 ** 62]
    return rnd.choice({
        0: ["", "*", "a*b", None, 5, ["x"], "x" * 900],
        1: [0, 1, -1, BIG, BIG + 1, 2 ** 62, 1.5],
        2: [spec_hex(rnd, valid=False), spec_hex(rnd, valid=False), spec_hex(rnd)[:-2], spec_hex(rnd) + "00",
            "0" * 54, "f" * 54, "", "xyz"],
        3: [0, BIG, BIG + 1, -1, 0.5],
        4: [0, BIG, BIG + 1, -1, True],
        5: [[-2 ** 29, 0, 1], [2 ** 29, 0, 1], [2 ** 29 + 1, 0, 1], [0, 2 ** 20, 1], [0, 2 ** 20 + 1, 1], [0, 0, 0],
            [0, 0, BIG], [0, 0, BIG + 1], [0.5, 0, 1], [0, 0], []],
        6: times,
        7: [0, 1, -1, 2 ** 30, 2 ** 30 + 1],
        8: [0, -1, 2 ** 40, 2 ** 40 + 1, 2 ** 62],
        9: [0, -1, 2 ** 40, 2 ** 40 + 1, 2 ** 62],
        10: [t * 1000 for t in times] + [2 ** 50, 2 ** 50 + 1, 10 ** 14],
        11: times,
        12: [0, 1, 2, 3, -1, None],
    }[f])


def case(seed, i):
    """The case's kind, format, file (bytes), the task names to add and the
    number of records."""
    rnd = random.Random("%d:%d" % (seed, i))
    v = 1 if rnd.random() < 0.3 else 2
    n = rnd.choice([1, 1, 2, 3, 4, 6])
    names = rnd.sample(NAMES, 2) + ["j%d" % k for k in range(n)]
    rnd.shuffle(names)
    recs = [valid_record(rnd, names[k]) for k in range(n)]
    ascii_ = rnd.random() < 0.6
    kind = rnd.choice(["valid", "value", "value", "bounds", "bounds", "calendar", "fields", "records", "duplicates",
                       "truncated", "junk bytes", "line ends", "long line", "bad checksum", "header"])
    if kind in ("value", "bounds", "calendar"):
        for _ in range(rnd.choice([1, 1, 2, 3])):
            k = rnd.randrange(n)
            r = recs[k]
            f = None
            if kind == "calendar":
                r[2] = rnd.choice([spec_hex(rnd), edge(rnd, 2)])
                r[6] = rnd.choice([None, W0 - rnd.randint(0, 10 ** 6), edge(rnd, 6)])
            else:
                f = rnd.randrange(13)
                if kind == "bounds":
                    r[f] = edge(rnd, f)
                elif f == 5 and rnd.random() < 0.5:
                    r[5] = [0, 0, 1000]
                    r[5][rnd.randrange(3)] = junk(rnd)
                else:
                    r[f] = junk(rnd)
            if rnd.random() < 0.5 and f != 10:
                r[10] = W0 * 1000 - rnd.randint(0, 10 ** 6)  # due now: it runs at this boot
    elif kind == "fields":
        k = rnd.randrange(n)
        m = rnd.choice([0, 1, 6, 12, 14, 20])
        recs[k] = (recs[k] + [junk(rnd) for _ in range(m)])[:m]
    elif kind == "records":
        what = rnd.choice(["none", "many", "many"])
        if what == "none":
            recs = []
        else:
            recs = [valid_record(rnd, "m%d" % k) for k in range(rnd.randint(20, 300))]
    elif kind == "duplicates":
        k = rnd.randrange(n)
        for _ in range(rnd.randint(1, 3)):
            r = valid_record(rnd, recs[k][0]) if rnd.random() < 0.5 else list(recs[k])
            if rnd.random() < 0.3:
                f = rnd.randrange(1, 13)
                r[f] = junk(rnd)
            recs.insert(rnd.randint(0, len(recs)), r)
    elif kind == "long line":
        k = rnd.randrange(n)
        long = rnd.choice("Lé日") * rnd.choice([400, 1000, 1030, 2000, 5000])
        if rnd.random() < 0.5:
            recs[k][0] = long  # a task name can be that long: save() writes it
        else:
            recs[k][rnd.choice([2, 7, 11])] = long
    data = make_file(recs, v, ascii_)
    if kind in ("truncated", "junk bytes", "line ends", "bad checksum", "header"):
        data = mutate_bytes(rnd, kind, data, v)
    tasks = []
    for r in recs:
        if isinstance(r, list) and r and isinstance(r[0], str) and r[0] and "*" not in r[0] \
                and r[0] not in tasks and rnd.random() < 0.95:
            tasks.append(r[0])
    return kind, v, data, tasks, len(recs)


def mutate_bytes(rnd, kind, data, v):
    # the bytes the checksum is of, and the checksum line
    i = data.rindex(b"\n", 0, len(data) - 1) + 1
    body, crc = data[:i], data[i:]
    if v == 1:
        body = body[:-1]  # format 1: the checksum is of the data without its newline

    def seal(b, good):
        if v == 1:
            return b + b"\n" + (crc_line(b) if good else crc)
        return b + (crc_line(b) if good else crc)

    if kind == "truncated":
        return data[:rnd.randrange(len(data))]
    if kind == "junk bytes":
        b = bytearray(body)
        for _ in range(rnd.randint(1, 4)):
            at = rnd.randrange(len(b) + 1)
            bits = bytes(rnd.choice([0, 0xff, 0x80, ord("\n"), ord("\r"), ord('"'), ord("["), ord("]"), ord(","),
                                     ord(" "), rnd.randrange(256)]) for _ in range(rnd.randint(1, 3)))
            if rnd.random() < 0.5:
                b[at:at + len(bits)] = bits
            else:
                b[at:at] = bits
        return seal(bytes(b), rnd.random() < 0.8)
    if kind == "line ends":
        what = rnd.choice(["no last newline", "after the checksum", "blank line", "crlf", "crc forms"])
        if what == "no last newline":
            return data[:-1]
        if what == "after the checksum":
            return data + rnd.choice([b"\n", b"junk\n", crc, b"[1]\n", b"x"])
        if what == "blank line":
            lines = body.split(b"\n")
            lines.insert(rnd.randint(min(1, len(lines) - 1), len(lines) - 1), b"")
            return seal(b"\n".join(lines), rnd.random() < 0.8)
        if what == "crlf":
            return seal(body.replace(b"\n", b"\r\n"), rnd.random() < 0.8)
        c = binascii.crc32(body)
        form = rnd.choice([b"%08X\n", b"%x\n", b"%8x \n", b" %08x\n", b"0x%08x\n", b"%08x\n\n", b"%09x\n"])
        return (body + b"\n" if v == 1 else body) + form % c
    if kind == "bad checksum":
        what = rnd.choice(["flipped bit", "crc changed", "crc of another"])
        if what == "flipped bit":
            b = bytearray(body)
            k = rnd.randrange(len(b))
            b[k] ^= 1 << rnd.randrange(7)
            return seal(bytes(b), False)
        if what == "crc changed":
            return seal(body, False)[:-2] + rnd.choice([b"0", b"1", b"g"]) + b"\n"
        return (body + b"\n" if v == 1 else body) + crc_line(body + b"x")
    # header
    new = rnd.choice([b"", b"aiostore 3\n", b"aiostore 2 \n", b"aiostore 2\r\n", b"Aiostore 2\n", b"aiostore 1\n",
                      b"aiostore 2", b"\xef\xbb\xbfaiostore 2\n", b"aiostore\n"])
    if v == 2:
        return seal(new + body[len(HEADER):], rnd.random() < 0.8)
    return seal(new + body, rnd.random() < 0.8)


# ------------------------------------------------------------ the judge


def verdict(data):
    """What the file is, from the format alone: "good" (a good checksum and
    every record line parses: it must never be set aside), "bad" (proven
    corrupt: it must be set aside) or "either" (a good checksum but a line
    only a lenient parser reads, or a CRC line only int(x, 16) reads);
    and its records when it is good."""
    def crc_ok(line, body):
        c = binascii.crc32(body)
        if re.fullmatch(rb"[0-9a-fA-F]{1,8}\n?", line):
            return int(line, 16) == c
        try:
            return "either" if int(line, 16) == c else False
        except ValueError:
            return False

    def parse(lines):
        try:
            return [json.loads(x.decode()) for x in lines]
        except ValueError:  # UnicodeDecodeError is one
            return None

    if data.startswith(HEADER):
        if not data.endswith(b"\n"):
            return "bad", None
        lines = data[len(HEADER):-1].split(b"\n")
        last = lines.pop()
        ok = crc_ok(last + b"\n", data[:len(data) - len(last) - 1])
        if not ok:
            return "bad", None
        if any(not x.startswith(b"[") for x in lines):
            return ("either" if parse(lines) is not None else "bad"), None
        recs = parse(lines)
        if recs is None or ok == "either":
            return "either", None
        return "good", recs
    if not data.startswith(b"["):
        return "bad", None
    end = len(data) - 1
    i = data.rfind(b"\n", 0, end)
    if i < 0:
        return "bad", None
    ok = crc_ok(data[i + 1:], data[:i])
    if not ok:
        return "bad", None
    recs = parse([data[:i]])
    if recs is None or ok == "either" or not isinstance(recs[0], list):
        return "either", None
    return "good", recs[0]


_TOKEN = re.compile(r"""\s*(?:([][{}:,])|('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|"""
                    r"""(-?(?:inf|nan|\d+(?:\.\d*)?(?:e[-+]?\d+)?))|(None|True|False))""")


def mp_value(text):
    # A value as MicroPython's repr() printed it (ast.literal_eval stops at
    # 200 levels of nesting; JSON's nesting has none).
    toks = []
    i = 0
    while i < len(text.rstrip()):
        m = _TOKEN.match(text, i)
        if not m:
            raise ValueError(text[:80])
        toks.append(m.groups())
        i = m.end()
    toks.append((None, None, None, None))
    pos = [0]

    def take():
        t = toks[pos[0]]
        pos[0] += 1
        return t

    def value():
        punct, string, num, word = take()
        if string:
            return ast.literal_eval(string)
        if num:
            return float(num) if re.search("[.ein]", num) else int(num)
        if word:
            return {"None": None, "True": True, "False": False}[word]
        if punct not in ("[", "{"):
            raise ValueError(text[:80])
        close = "]" if punct == "[" else "}"
        out = [] if punct == "[" else {}
        if toks[pos[0]][0] == close:
            pos[0] += 1
            return out
        while True:
            v = value()
            if punct == "{":
                if take()[0] != ":":
                    raise ValueError(text[:80])
                out[v] = value()
            else:
                out.append(v)
            sep = take()[0]
            if sep == close:
                return out
            if sep != ",":
                raise ValueError(text[:80])

    v = value()
    if toks[pos[0]][0:4] != (None, None, None, None):
        raise ValueError(text[:80])
    return v


def same(a, b):
    # JSON values equal, type for type (a bool is not a number)
    if isinstance(a, float) or isinstance(b, float):
        if type(a) is not float or type(b) is not float:
            return False
        return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


MSG = "aiostore: saved schedule "


def messages(lines):
    # (name, field index or "len", value) of each drop message; None for one
    # that does not name all three.
    out = []
    for line in lines:
        if not line.startswith(MSG):
            continue
        got = None
        text = line[len(MSG):]
        k = text.find(" not restored: ")
        while k >= 0 and got is None:
            rest = text[k + len(" not restored: "):]
            try:
                name = mp_value(text[:k])
            except ValueError:
                k = text.find(" not restored: ", k + 1)
                continue
            if rest.startswith("not a schedule: "):
                field, value = "len", rest[len("not a schedule: "):]
            else:
                field = next((f for f in sorted(FIELDS, key=len, reverse=True) if rest.startswith(f + " ")), None)
                value = rest[len(field) + 1:] if field else None
            if field:
                for text_ in (value, re.sub(r" \([^()]*\)$", "", value)):  # a remark after the value
                    try:
                        got = (name, field if field == "len" else FIELDS.index(field), mp_value(text_))
                        break
                    except ValueError:
                        pass
            break
        out.append(got)
    return out


def account(recs, restored, msgs):
    # Each record is restored or dropped with a message naming it, its bad
    # field and the value there; returns the problems.
    msgs = list(msgs)
    restored = list(restored)
    problems = ["a drop message that does not name the record, the field and its value"] * msgs.count(None)
    msgs = [m for m in msgs if m is not None]
    for k, r in enumerate(recs):
        name = r[0] if isinstance(r, list) and r else None
        hit = None
        for j, (n, f, val) in enumerate(msgs):
            if not same(n, name):
                continue
            if f == "len" and same(val, r) or f != "len" and isinstance(r, list) and len(r) == 13 and same(val, r[f]):
                hit = j
                break
        if hit is not None:
            del msgs[hit]
        elif isinstance(name, str) and name in restored:
            restored.remove(name)
        else:
            problems.append("record %d (%r) neither restored nor named in a drop message" % (k, repr(name)[:60]))
    for n, f, val in msgs:
        problems.append("a drop message of no such record: %r %s" % (n, f))
    return problems


class Result:
    def __init__(self, i, kind, v):
        self.i, self.kind, self.v = i, kind, v
        self.restored = self.dropped = self.aside = self.grown = 0
        self.ms = 0  # how long its boots took in the interpreter
        self.fails = []  # (class, detail)

    def fail(self, what, detail):
        self.fails.append((what, detail))


def judge(i, kind, v, data, res, lines, status, bound):
    out = Result(i, kind, v)
    out.ms = res["ms"] if res else 0
    if status:
        out.fail(status[0], status[1])
        return out
    if res.get("crash"):
        out.fail("CRASH", res["crash"])
    if res["ms"] > bound:
        out.fail("HANG", "the case took %d ms" % res["ms"])
    if res.get("passes", 0) > 20 * RUN_MS + 100:
        out.fail("HANG", "schedule_loop spins: %d passes in %d ms" % (res["passes"], RUN_MS))
    first = res.get("first")
    if first is None:
        return out
    cut = lines.index("@@2") if "@@2" in lines else len(lines)
    one, two = lines[:cut], lines[cut:]
    msgs = messages(one)
    out.restored = len(first["restored"])
    out.dropped = len([m for m in msgs if m is not None])
    out.aside = int(res["first_bad"])
    if any(x.startswith("aiostore: cannot read") for x in one):
        out.fail("CRASH", "the file could not be read: " + next(x for x in one if "cannot read" in x))
    what, recs = verdict(data)
    if res["first_bad"]:
        if what == "good":
            out.fail("GOOD SET ASIDE", "a file with a good checksum whose lines parse was set aside")
        if first["restored"] or first["dropped"]:
            out.fail("CORRUPT USED", "records restored or dropped from a file set aside")
    elif what == "bad":
        out.fail("CORRUPT USED", "a corrupt file was not set aside: %r" % (first,))
    elif what == "good":
        for p in account(recs, first["restored"], msgs):
            out.fail("UNNAMED", p)
    elif None in msgs:
        out.fail("UNNAMED", "a drop message that does not name the record, the field and its value")
    if len(first["dropped"]) != len(msgs) and not out.fails:
        out.fail("UNNAMED", "%d dropped, %d drop messages" % (len(first["dropped"]), len(msgs)))
    again = res.get("again")
    if again is not None and not out.fails:
        # A time at aiostore's bound (year 2286) moves past it when the
        # calendar runs or the clocks are read: noted, not a failure.
        grown = [str(m[0]) for m in messages(two) if m and m[1] in (6, 10) and type(m[2]) is int
                 and m[2] > (WALL if m[1] == 6 else WALL * 1000)]
        out.grown = len(grown)
        lost = sorted(again["restored"] + grown) != sorted(first["restored"])
        if res["again_bad"] or sorted(again["dropped"]) != sorted(grown) or lost:
            out.fail("REWRITE LOST", "from the file save() wrote: %s; set aside: %s; dropped: %s" % (
                [x for x in two if x.startswith("aiostore")][:3], res["again_bad"], again["dropped"]))
    return out


# ------------------------------------------------------------ the runs


def _batch(exe, libdir, cwd, first, count, timeout):
    """Runs cases first..first+count-1 in one process. Returns the results
    {i: (record, lines)} and, if a case did not end, (i, status)."""
    rc, out, err = run_mp_watched(["driver.py", "cases.jsonl", first, count], timeout, path=[libdir], exe=exe,
                                  cwd=cwd)
    got, cur, lines = {}, None, []
    raw = out.split(b"\n")
    if raw[-1] == b"":
        raw.pop()
    for line in raw:
        try:
            line = line.decode("utf-8", "surrogatepass")  # a name may hold a lone surrogate
        except UnicodeDecodeError:
            line = line.decode("utf-8", "replace")
        if line.startswith("@@B "):
            cur, lines = int(line[4:]), []
        elif line.startswith("@@R "):
            got[cur] = (json.loads(line[4:]), lines)
            cur = None
        elif cur is not None:
            lines.append(line)
    if rc == "hang":
        return got, (cur, ("HANG", "no output for %d s (killed)" % timeout))
    if cur is not None:
        return got, (cur, ("CRASH", "the interpreter died (exit %d): %s" % (rc, err.strip()[-300:])))
    if len(got) < count and rc:
        return got, (first + len(got), ("CRASH", "the interpreter exited %d: %s" % (rc, err.strip()[-300:])))
    return got, None


def _chunk(exe, libdir, cwd, first, count, timeout):
    # All cases of a chunk; one that hangs or kills the interpreter is run
    # again alone (to confirm), and the chunk goes on from the next one.
    results = {}
    i, end = first, first + count
    while i < end:
        got, stuck = _batch(exe, libdir, cwd, i, end - i, timeout)
        for k, (r, lines) in got.items():
            results[k] = (r, lines, None)
        if stuck is None:
            break
        k, status = stuck
        alone, again = _batch(exe, libdir, cwd, k, 1, timeout)
        if k in alone:
            r, lines = alone[k]
            results[k] = (r, lines, (status[0], status[1] + "; alone it ended in %d ms" % r["ms"]))
        else:
            results[k] = (None, [], again[1] if again else status)
        i = k + 1
    return results


def run(cases=1000, seed=1, first=0, libdir=LIB, mpy=False, exe=None, jobs=None,
        bound=2000, timeout=10):
    """Returns the results (a list of Result, in case order)."""
    tmp = tempfile.mkdtemp(prefix="filefuzz-")
    try:
        mods = sorted(f[:-3] for f in os.listdir(LIB) if f.endswith(".py"))
        if mpy:
            libdir = build_mpy(os.path.join(tmp, "mpy"), libdir)
        work = os.path.join(tmp, "w")
        os.mkdir(work)
        made = {}
        with open(os.path.join(work, "cases.jsonl"), "w") as f:
            for i in range(first + cases):
                if i < first:
                    f.write("{}\n")
                    continue
                kind, v, data, tasks, n = case(seed, i)
                made[i] = (kind, v, data, n)
                path = "c%d.json" % i
                with open(os.path.join(work, path), "wb") as g:
                    g.write(data)
                f.write(json.dumps({"p": path, "n": tasks}) + "\n")
        with open(os.path.join(work, "driver.py"), "w") as f:
            f.write(DRIVER.replace("WALL", str(W0)).replace("MODNAMES", repr(mods)).replace("RUN_MS", str(RUN_MS)))
        chunks = [(a, min(CHUNK, first + cases - a)) for a in range(first, first + cases, CHUNK)]
        results = {}
        lock = threading.Lock()

        def worker():
            while True:
                with lock:
                    if not chunks:
                        return
                    a, n = chunks.pop(0)
                got = _chunk(exe, libdir, work, a, n, timeout)
                with lock:
                    results.update(got)

        threads = [threading.Thread(target=worker) for _ in range(jobs or os.cpu_count() or 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        out = []
        for i in range(first, first + cases):
            kind, v, data, n = made[i]
            r, lines, status = results.get(i, (None, [], ("CRASH", "no result")))
            out.append(judge(i, kind, v, data, r, lines, status, bound + PER_RECORD * n))
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


COLUMNS = ["cases", "restored", "dropped, named", "set aside", "hangs", "crashes", "unnamed",
           "good set aside", "corrupt used", "rewrite lost"]
FAILS = ["HANG", "CRASH", "UNNAMED", "GOOD SET ASIDE", "CORRUPT USED", "REWRITE LOST"]


def table(results, show=10):
    rows = {}
    for r in results:
        key = "%s (format %d)" % (r.kind, r.v)
        row = rows.setdefault(key, [0] * len(COLUMNS))
        row[0] += 1
        row[1] += r.restored
        row[2] += r.dropped
        row[3] += r.aside
        for what in set(w for w, _ in r.fails):
            row[4 + FAILS.index(what)] += 1
    total = [sum(x) for x in zip(*rows.values())] if rows else [0] * len(COLUMNS)
    ok = not any(total[4:])
    body = [[k] + rows[k] for k in sorted(rows)] + [["all"] + total]
    lines = [hosttools.table(["mutation"] + COLUMNS, body)]
    slow = max(results, key=lambda r: r.ms) if results else None
    lines.append("restored, dropped: records; set aside: files (as .bad). Slowest case: %s. Cases failed: %d" % (
        "%d ms (%d, %s)" % (slow.ms, slow.i, slow.kind) if slow else "-", sum(1 for r in results if r.fails)))
    grown = sum(r.grown for r in results)
    if grown:
        lines.append("noted: %d times at aiostore's bound (2286) moved past it, dropped at the second boot" % grown)
    for r in [r for r in results if r.fails][:show]:
        for what, detail in r.fails[:2]:
            lines.append("  case %d (%s, format %d): %s: %s" % (r.i, r.kind, r.v, what, detail[:300]))
    lines.append("result: %s" % ("PASS" if ok else "FAIL"))
    return "\n".join(lines), ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_cases_options(ap, 1000, 10)
    add_mpy_option(ap)
    ap.add_argument("--jobs", type=int, default=None, help="interpreters at once (default: the CPUs)")
    ap.add_argument("--bound", type=int, default=2000, help="ms a case may take (and 5 ms a record)")
    ap.add_argument("--timeout", type=int, default=10, help="s without output before a case is a hang")
    add_micropython_option(ap)
    a = ap.parse_args()
    t = time.monotonic()
    res = run(a.cases, a.seed, a.first, mpy=a.mpy, exe=a.micropython, jobs=a.jobs, bound=a.bound,
              timeout=a.timeout)
    text, ok = table(res, a.show)
    print("filefuzz: %s, seed %d, cases %d-%d, %s, %.0f s" % (
        utc_now(), a.seed, a.first, a.first + a.cases - 1,
        modules_note(a.mpy, a.micropython), time.monotonic() - t))
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
