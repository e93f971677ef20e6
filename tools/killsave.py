#!/usr/bin/env python3
"""Fault injection for aioschedule.persist: a MicroPython process that saves
its schedules all the time is killed (SIGKILL, a power cut) at random
moments, many times; each restart must load every schedule from the file,
never a broken one. Prints one table; exits non-zero if a check fails.

    .venv/bin/python tools/killsave.py [--kills 300] [--mpy] [--seed 7] [--micropython PATH]

The process (unix port) has 20 schedules repeating every 3 ms and
persist(every=0): it writes the file on every change, a few hundred times a
second, so most kills land during or between the steps of a write (the
write of the .tmp file, the rename). Host side: CPython standard library.
"""

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from hosttools import ROOT, add_micropython_option, micropython, tool

N = 20
APP = """
import asyncio, aioctl, aioschedule
async def job(i):
    pass
async def main():
    r = aioschedule.persist("k.json", every=0)
    print("RESTORED %d" % len(r["restored"]))
    for i in range(COUNT):
        aioctl.add(job, i, name="j%d" % i)
        aioschedule.schedule("j%d" % i, start_in=0.001 * i, repeat=0.003, conflict="ignore")
    aioctl.add(aioschedule.schedule_loop)
    print("GO")
    await asyncio.sleep_ms(10000)
asyncio.run(main())
""".replace("COUNT", str(N))


def build(libdir, mpy, tmp):
    if not mpy:
        return libdir
    out = os.path.join(tmp, "mpy")
    os.mkdir(out)
    for f in sorted(os.listdir(libdir)):
        if f.endswith(".py"):
            subprocess.run([tool("mpy-cross"), "-o", os.path.join(out, f[:-3] + ".mpy"),
                            os.path.join(libdir, f)], check=True)
    return out


def run(kills, mpy=False, seed=7, libdir=os.path.join(ROOT, "lib"), exe=None):
    """Returns (rows, ok): the table rows and whether every check passed."""
    tmp = tempfile.mkdtemp(prefix="killsave-")
    try:
        libdir = build(libdir, mpy, tmp)
        with open(os.path.join(tmp, "app.py"), "w") as f:
            f.write(APP)
        env = dict(os.environ, TZ="UTC", MICROPYPATH=libdir + ":.frozen")
        rnd = random.Random(seed)
        restored, broken, tmp_left, crashed = [], 0, 0, 0
        for i in range(kills + 1):
            p = subprocess.Popen([micropython(exe), "app.py"], cwd=tmp, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            first = p.stdout.readline()
            go = p.stdout.readline()
            if i < kills:
                time.sleep(rnd.uniform(0.005, 0.06))
                p.send_signal(signal.SIGKILL)
            else:
                p.send_signal(signal.SIGTERM)
            rest, err = p.communicate()
            if "broken" in first + rest:
                broken += 1
            if not first.startswith("RESTORED ") or go.strip() != "GO":
                crashed += 1
                print("unexpected start:", first, go, err[-500:], file=sys.stderr)
                continue
            if i:
                restored.append(int(first.split()[1]))
            if i < kills and os.path.exists(os.path.join(tmp, "k.json.tmp")):
                tmp_left += 1  # killed between the write of the .tmp file and the rename
        ok = not broken and not crashed and restored and min(restored) == N
        rows = [
            ("kills (SIGKILL at a random 5-60 ms after start)", str(kills), ""),
            ("kills that left a k.json.tmp behind (in the middle of a save)", str(tmp_left), ""),
            ("restarts that loaded every schedule", "%d of %d" % (restored.count(N), len(restored)),
             "all"),
            ("schedules loaded per restart (min / max)",
             "%d / %d" % (min(restored), max(restored)) if restored else "-", "%d / %d" % (N, N)),
            ("broken files reported", str(broken), "0"),
            ("restarts that did not start", str(crashed), "0"),
        ]
        return rows, ok
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def table(rows, ok):
    w = max(len(r[0]) for r in rows)
    lines = ["| %-*s | %-10s | %-7s |" % (w, "check", "figure", "target"),
             "|%s|%s|%s|" % ("-" * (w + 2), "-" * 12, "-" * 9)]
    for r in rows:
        lines.append("| %-*s | %-10s | %-7s |" % (w, r[0], r[1], r[2]))
    lines.append("result: %s" % ("PASS" if ok else "FAIL"))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kills", type=int, default=300)
    ap.add_argument("--mpy", action="store_true", help="modules as .mpy built by mpy-cross")
    ap.add_argument("--seed", type=int, default=7)
    add_micropython_option(ap)
    a = ap.parse_args()
    t = time.monotonic()
    rows, ok = run(a.kills, a.mpy, a.seed, exe=a.micropython)
    print("killsave: %s, %s%s, %.0f s" % (time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                                         ".mpy" if a.mpy else "lib/*.py",
                                         ", " + os.path.basename(a.micropython) if a.micropython else "",
                                         time.monotonic() - t))
    print(table(rows, ok))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
