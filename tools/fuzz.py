#!/usr/bin/env python3
"""Generated bad-input fuzz of every public function of aioctl, aioschedule,
aiolog, aiocron and aiospec (and the functions they import on first use:
aiojob, aiowatch, aiostore, aiostatus, aioinfo), on the MicroPython unix port, while
real tasks run.

    .venv/bin/python tools/fuzz.py [--cases 3000] [--seed 1] [--first 0] [--mpy] [--show N] [--micropython PATH]

Prints one table: cases run, calls per function, results and exceptions by
type, failures (and known failures: bugs in lib/ listed in
mp/tests/fuzzgen.py KNOWN). Exits 1 if a case failed or a final check did.
If the interpreter dies (a crash) or prints nothing for 10 s (a hang), the
case it was in is a failure and the run goes on in a new process from the
next case. The interpreter runs in a temporary directory (persist() writes
files there). --first N --cases M replays cases N..N+M-1 (their arguments
are the same in every run; the state they meet is that of a fresh start).

The MicroPython side is mp/tests/fuzzgen.py (the fixture, the junk values,
the rules); this side gives it the signatures of the functions (read from
lib/*.py with CPython's ast: MicroPython has no inspect), runs it and judges
what only the printed output shows: a REPL function that returns False must
have printed a line naming the value. The suite runs a short version:
tests/test_fuzz.py (FUZZ_CASES, default 300; FUZZ_SEED, default 1).
Host side: CPython standard library only.

The rules, in short (details in mp/tests/fuzzgen.py):
  - a call may return anything (many generated inputs are valid);
  - an exception must be an Exception with a message that names the bad
    value (contains repr() of an argument or of an item of one, or the text
    of a string argument or a word of it, or an unknown keyword's name, or
    the parameter's name). Accepted as well: a
    TypeError from binding the call (wrong number of arguments, unknown
    keyword: the interpreter's own message), a RuntimeError with a message
    (a state error: "schedule_loop is already running"), the __repr__ error
    of a BadRepr argument itself; internal hooks (HOOKS) need only a
    non-empty message; no exception type is clear with an empty message;
  - REPL functions (REPL: status, stop, start, ...) never raise; a False
    result comes with a printed line naming the value;
  - after every case: the protected tasks exist with the same records and in
    their states, the loops run, status() works; at the end bg.tick starts on
    its grid (within 10 ms) and the heartbeat and watcher go on;
  - the interpreter never dies or hangs, and writes nothing in /.
"""

import argparse
import ast
import os
import sys
import tempfile
import time
from collections import Counter, OrderedDict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # tests load this file by its path
from hosttools import (EXAMPLES, LIB, MP_TESTS, add_cases_options, add_micropython_option, add_mpy_option,  # noqa: E402
                       build_mpy, modules_note, run_mp_watched)

MODULES = ("aiolog", "aioctl", "aioschedule", "aiocron", "aiospec")  # fuzzed, in this order
MARK = "@@FZ "


# ------------------------------------------------------------- signatures


def _sig(fn, method=False):
    a = fn.args
    pos = list(a.posonlyargs) + list(a.args)
    if method and pos:
        pos = pos[1:]  # self
    nd = len(a.defaults)
    params = []
    for i, p in enumerate(pos):
        params.append((p.arg, i >= len(pos) - nd))
    kwonly = [(p.arg, d is not None) for p, d in zip(a.kwonlyargs, a.kw_defaults)]
    return (tuple(params), a.vararg is not None, tuple(kwonly), a.kwarg is not None,
            isinstance(fn, ast.AsyncFunctionDef))


def signatures(libdir=LIB):
    """qualname -> (positional params ((name, has_default), ...), *args?,
    keyword-only params, **kwargs?, async?) for every def in libdir/*.py:
    module.fn, module.Class.method, and nested defs as module.fn when that
    name is free (a decorator that schedule_task returns)."""
    sigs = {}
    nested = {}
    for f in sorted(os.listdir(libdir)):
        if not f.endswith(".py"):
            continue
        mod = f[:-3]
        tree = ast.parse(open(os.path.join(libdir, f), encoding="utf-8").read())
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                sigs[mod + "." + node.name] = _sig(node)
                for sub in ast.walk(node):
                    if sub is not node and isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        nested[mod + "." + sub.name] = _sig(sub)
            elif isinstance(node, ast.ClassDef):
                for sub in node.body:
                    if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        sigs[mod + "." + node.name + "." + sub.name] = _sig(sub, True)
                        if sub.name == "__init__":
                            sigs[mod + "." + node.name] = _sig(sub, True)
    for k, v in nested.items():
        sigs.setdefault(k, v)
    return sigs


def script(seed=1, first=0, cases=400, libdir=LIB, modules=MODULES):
    cfg = {
        "seed": seed, "first": first, "cases": cases, "modules": list(modules),
        "libmods": sorted(f[:-3] for f in os.listdir(LIB) if f.endswith(".py")),
        "sigs": signatures(),
    }
    return "import fuzzgen\nfuzzgen.run(%r)\n" % (cfg,)


# ---------------------------------------------------------------- results


class Case:
    __slots__ = ("i", "qual", "ctx", "note", "args", "kw", "kind", "rtype", "ms", "msg",
                 "verdict", "why", "printed", "cands", "names")

    def __init__(self, i, qual, ctx, note, args, kw):
        self.i, self.qual, self.ctx, self.note, self.args, self.kw = i, qual, ctx, note, args, kw
        self.kind = self.rtype = self.msg = self.verdict = self.why = None
        self.ms = 0
        self.printed = []
        self.cands = None


class Result:
    def __init__(self):
        self.cases = OrderedDict()  # i -> Case
        self.funcs = []
        self.skips = []
        self.notes = []
        self.live = []
        self.final = {}
        self.fatal = []
        self.crashes = []  # (case, returncode, stderr tail)
        self.wall = 0.0
        self.runs = 0
        self.known_list = []  # (function, kind, reason) from the KNOWN lines
        self.names = {}  # function -> every module.name it is reachable by

    # the judgement
    def failures(self):
        return [c for c in self.cases.values() if c.verdict not in ("ok", "known", None)]

    def known(self):
        return [c for c in self.cases.values() if c.verdict == "known"]

    def final_problems(self):
        p = list(self.fatal)
        for k in ("FIXTURE", "TIMING", "ALIVE"):
            v = self.final.get(k)
            if v is None:
                p.append("%s: no report (the run did not get to the end)" % k)
            elif not v.startswith("ok"):
                p.append("%s: %s" % (k, v))
        p += ["liveness at case %s: %s" % x for x in self.live]
        return p

    def ok(self):
        return not self.failures() and not self.final_problems()

    def apply_known(self, c):
        # Failures judged here (a crash, a hang, a REPL function silent) of a
        # kind the MicroPython side lists as known (KNOWN lines).
        for qual, kind, why in self.known_list:
            if kind == c.verdict and (qual == c.qual or qual in c.names):
                c.why = "%s -- %s -- %s" % (c.verdict, why, c.why)
                c.verdict = "known"
                return


def _split(rest, n):
    parts = rest.split(" ", n)
    return parts + [""] * (n + 1 - len(parts))


def parse(out, res=None):
    res = res or Result()
    cur = None
    for raw in out.splitlines():
        k = raw.find(MARK)
        if k < 0:
            if cur is not None and cur.kind is None:
                cur.printed.append(raw)
            continue
        if k > 0 and cur is not None and cur.kind is None:
            cur.printed.append(raw[:k])
        line = raw[k + len(MARK):]
        tag, _, rest = line.partition(" ")
        if tag == "FUNCS":
            res.funcs = rest.split(" ")[1:]
            for f in res.funcs:
                names = f.rstrip("?").split("=")
                res.names[names[0]] = names
        elif tag == "KNOWN":
            q, kind, why = _split(rest, 2)
            if (q, kind, why) not in res.known_list:
                res.known_list.append((q, kind, why))
        elif tag == "SKIP":
            if rest not in res.skips:
                res.skips.append(rest)
        elif tag == "B":
            i, qual, ctx, note, tail = _split(rest, 4)
            a, _, k = tail.partition(" \x03 ")
            cur = Case(int(i), qual, ctx, note, a, k)
            cur.names = res.names.get(qual, [qual])
            res.cases[cur.i] = cur
        elif tag == "R" and cur is not None:
            i, kind, tail = _split(rest, 2)
            cur.kind = kind
            if kind == "exc":
                cur.rtype, ms, cur.msg = _split(tail, 2)
            else:
                cur.rtype, ms, _ = _split(tail, 2)
            cur.ms = int(ms) if ms.isdigit() else 0
        elif tag == "P" and cur is not None:
            cur.cands = [c for c in rest.split(" ", 1)[1].split("\x02") if c] if " " in rest else []
        elif tag == "V" and cur is not None:
            i, verdict, why = _split(rest, 2)
            cur.verdict, cur.why = verdict, why
            if verdict == "ok" and cur.cands is not None:
                _judge_printed(cur)
                if cur.verdict != "ok":
                    res.apply_known(cur)
        elif tag == "LIVE":
            i, why = _split(rest, 1)
            res.live.append((i, why))
        elif tag in ("NOTE",):
            res.notes.append(rest)
        elif tag == "FATAL":
            res.fatal.append(rest)
        elif tag in ("FIXTURE", "TIMING", "ALIVE", "END"):
            res.final[tag] = rest
    return res


def _judge_printed(c):
    # A REPL function returned False: it must have printed a line naming the
    # value it refused.
    text = "\n".join(c.printed).lower()
    lines = [l for l in c.printed if l.strip()]
    if not lines:
        c.verdict, c.why = "repl-silent", "returned False and printed nothing"
    elif c.cands and c.cands != ["*"] and not any(x.lower() in text for x in c.cands):
        c.verdict, c.why = "repl-silent", "returned False; the printed line names none of the values: %r" % lines[0][:120]


# ------------------------------------------------------------------ running


HANG_S = 10  # s without output: the case hangs (the interpreter is killed)


def run_once(libdir, seed, first, cases, timeout, tmp, hang=HANG_S, exe=None):
    """One interpreter for cases [first, first+cases), in the directory tmp
    (files a case writes land there). Returns (returncode or "hang" or
    "timeout", stdout, stderr)."""
    path = os.path.join(tmp, "fuzz_%d.py" % first)
    with open(path, "w") as f:
        f.write(script(seed, first, cases))
    rc, out, err = run_mp_watched([path], hang, timeout, (libdir, MP_TESTS, EXAMPLES), exe=exe, cwd=tmp)
    return rc, out.decode("utf-8", "replace"), err


def run(seed=1, first=0, cases=400, mpy=False, resume=True, timeout=None, libdir=None, hang=HANG_S, exe=None):
    """Runs cases [first, first+cases) in as few processes as it can, on the
    interpreter exe (default: micropython from .venv); returns a Result."""
    res = Result()
    t0 = time.monotonic()
    root = set(os.listdir("/"))  # a case must not write outside its directory
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        if libdir is None:
            libdir = build_mpy(os.path.join(tmp, "mpy")) if mpy else LIB
        start, left = first, cases
        while left > 0:
            res.runs += 1
            rc, out, err = run_once(libdir, seed, start, left, timeout or (30 + left * 0.2), tmp, hang, exe)
            nfatal = len(res.fatal)
            parse(out, res)
            if rc == 0 and "END" in res.final:
                break
            last = next(reversed(res.cases.values()), None) if res.cases else None
            if rc == 0 and len(res.fatal) > nfatal and last is not None and last.i >= start:
                # The fixture could not be put back after a failure: go on
                # in a fresh interpreter from the next case.
                if not resume:
                    break
                start, left = last.i + 1, left - (last.i + 1 - start)
                res.final.clear()
                continue
            # The interpreter died (or hung) in a case: that case failed.
            last = next(reversed(res.cases.values()), None) if res.cases else None
            if last is None or last.i < start:
                res.fatal.append("the interpreter exited %s before the first case: %s" % (rc, err.strip()[-500:]))
                break
            if last.verdict is None:
                last.verdict = "hang" if rc == "hang" else "crash"
                last.why = "interpreter %s (%s)" % (
                    "hung (no output for %d s)" % hang if rc == "hang" else
                    "timed out" if rc == "timeout" else "exited %s" % rc, err.strip()[-300:])
                res.apply_known(last)
            res.crashes.append((last.i, rc, err.strip()[-500:]))
            if not resume:
                break
            done = last.i + 1 - start
            start, left = last.i + 1, left - done
            res.final.clear()
    new = sorted(set(os.listdir("/")) - root)
    if new:
        res.fatal.append("files appeared in / during the run (a function wrote outside the fuzz's "
                         "directory; remove them): %s" % ", ".join("/" + n for n in new))
    res.wall = time.monotonic() - t0
    return res


# -------------------------------------------------------------------- table


def table(res, show=20):
    cases = list(res.cases.values())
    lines = []
    w = lines.append
    w("cases run: %d (in %d process%s, %.1f s); functions: %d; skipped: %s" % (
        len(cases), res.runs, "" if res.runs == 1 else "es", res.wall, len(res.funcs),
        ", ".join(s.split(" ", 1)[0] for s in res.skips) or "none"))
    per = Counter(c.qual for c in cases)
    by = {}
    for c in cases:
        d = by.setdefault(c.qual, Counter())
        d["calls"] += 1
        if c.kind == "exc":
            d["raised"] += 1
        elif c.kind == "timeout":
            d["timeout"] += 1
        else:
            d["returned"] += 1
        if c.ctx == "task":
            d["in task"] += 1
        d[c.verdict or "none"] += 1
    w("")
    w("| function | calls | returned | raised | awaited to timeout | in a task | failed | known |")
    w("|---|---|---|---|---|---|---|---|")
    for q in sorted(per):
        d = by[q]
        failed = sum(v for k, v in d.items() if k not in ("calls", "raised", "timeout", "returned",
                                                          "in task", "ok", "known"))
        w("| %s | %d | %d | %d | %d | %d | %d | %d |" % (q, d["calls"], d["returned"], d["raised"],
                                                        d["timeout"], d["in task"], failed, d["known"]))
    exc = Counter(c.rtype for c in cases if c.kind == "exc")
    w("")
    w("exceptions by type: " + (", ".join("%s %d" % kv for kv in exc.most_common()) or "none"))
    verdicts = Counter(c.verdict for c in cases)
    w("verdicts: " + ", ".join("%s %d" % kv for kv in verdicts.most_common()))
    slow = sorted(cases, key=lambda c: -c.ms)[:3]
    w("slowest cases: " + ", ".join("#%d %s %d ms" % (c.i, c.qual, c.ms) for c in slow))
    for k in ("FIXTURE", "TIMING", "ALIVE", "END"):
        if k in res.final:
            v = res.final[k]
            w("%s: %s" % (k.lower(), v if len(v) < 300 else v[:300] + "..."))
    kn = res.known()
    if kn:
        w("")
        w("known failures (bugs in lib/, see KNOWN): %d" % len(kn))
        for why, n in Counter(c.qual + ": " + (c.why.split(" -- ") + ["", ""])[1] for c in kn).most_common():
            w("  %3d  %s" % (n, why))
    fails = res.failures()
    probs = res.final_problems()
    w("")
    w("failures: %d%s" % (len(fails), "" if not probs else "; final checks: " + "; ".join(probs)))
    for c in fails[:show]:
        w("  #%d %s [%s] %s: %s" % (c.i, c.qual, c.ctx, c.verdict, c.why))
        w("      args %s kwargs %s -> %s %s" % (c.args, c.kw, c.kind, (c.rtype or "") + (" " + c.msg if c.msg else "")))
    if len(fails) > show:
        w("  ... %d more" % (len(fails) - show))
    for n in res.notes[:10]:
        w("note: " + n)
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_cases_options(ap, 3000, 20)
    add_mpy_option(ap)
    ap.add_argument("--no-resume", action="store_true", help="stop at an interpreter crash")
    ap.add_argument("--raw", action="store_true", help="print the interpreter's output too")
    add_micropython_option(ap)
    a = ap.parse_args()
    res = run(a.seed, a.first, a.cases, a.mpy, not a.no_resume, exe=a.micropython)
    print("fuzz: seed %d, cases %d-%d, %s" % (a.seed, a.first, a.first + a.cases - 1,
                                             modules_note(a.mpy, a.micropython)))
    print(table(res, a.show))
    sys.exit(0 if res.ok() else 1)


if __name__ == "__main__":
    main()
