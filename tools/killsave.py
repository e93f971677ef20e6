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

import hosttools
from hosttools import LIB, add_micropython_option, add_mpy_option, build_mpy, modules_note, mp_command, mp_env, utc_now

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


def run(kills, mpy=False, seed=7, libdir=LIB, exe=None):
    """Returns (rows, ok): the table rows and whether every check passed."""
    tmp = tempfile.mkdtemp(prefix="killsave-")
    try:
        if mpy:
            libdir = build_mpy(os.path.join(tmp, "mpy"), libdir)
        with open(os.path.join(tmp, "app.py"), "w") as f:
            f.write(APP)
        cmd, env = mp_command(["app.py"], exe=exe), mp_env([libdir])
        rnd = random.Random(seed)
        restored, broken, tmp_left, crashed = [], 0, 0, 0
        for i in range(kills + 1):
            p = subprocess.Popen(cmd, cwd=tmp, env=env,
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
    return hosttools.table(("check", "figure", "target"), rows) + "\nresult: %s" % ("PASS" if ok else "FAIL")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kills", type=int, default=300)
    add_mpy_option(ap)
    ap.add_argument("--seed", type=int, default=7)
    add_micropython_option(ap)
    a = ap.parse_args()
    t = time.monotonic()
    rows, ok = run(a.kills, a.mpy, a.seed, exe=a.micropython)
    print("killsave: %s, %s, %.0f s" % (utc_now(),
                                       modules_note(a.mpy, a.micropython), time.monotonic() - t))
    print(table(rows, ok))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
