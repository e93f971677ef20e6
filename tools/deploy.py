#!/usr/bin/env python3
# Compile lib/*.py to .mpy with mpy-cross and copy them to a board with
# mpremote.
#
#   python tools/deploy.py [--device DEV] [--dest :/lib]
#
# Before copying, the board is asked which .mpy version it loads
# (sys.implementation._mpy), so an incompatible board fails here rather than
# at import time. A same-named .py next to the .mpy is removed: within one
# directory MicroPython imports foo.py before foo.mpy. Finally each module is
# imported on the board to check that the .mpy is what gets loaded.

import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # tests load this file by its path
from hosttools import LIB, ROOT, BuildError, build_mpy, tool  # noqa: E402

TIMEOUT = 20

# Native architectures, as numbered in sys.implementation._mpy >> 10 and in
# the top 6 bits of an .mpy header's feature byte.
ARCHS = [None, "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp",
         "armv7emdp", "xtensa", "xtensawin", "rv32imc", "rv64imc"]


class DeployError(Exception):
    pass


def arch_name(n):
    return ARCHS[n] if n < len(ARCHS) else "arch %d" % n


def compile_all(src, build):
    # [(each src/*.py, the .mpy built of it)]
    build_mpy(build, src)
    return [(os.path.join(src, f), os.path.join(build, f[:-3] + ".mpy")) for f in sorted(os.listdir(src))
            if f.endswith(".py")]


def mpy_header(path):
    with open(path, "rb") as f:
        h = f.read(4)
    if len(h) < 4 or h[0] != ord("M"):
        raise DeployError("%s is not an .mpy file" % path)
    # version, sub-version, native arch (0: bytecode only), small int bits
    return h[1], h[2] & 3, h[2] >> 2, h[3]


def mpremote(device, *args, resume=True):
    cmd = [tool("mpremote"), "connect", device]
    if resume:
        cmd.append("resume")
    cmd += args
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise DeployError("no answer from the board at %s (mpremote timed out after %d s)" % (device, TIMEOUT))
    if p.returncode:
        msg = (p.stderr.strip() or p.stdout.strip()).splitlines()
        raise DeployError("mpremote failed on %s: %s" % (device, msg[-1] if msg else "exit %d" % p.returncode))
    return p.stdout


def board_mpy(device):
    # The first connection soft-resets the board: a clean state to work in.
    out = mpremote(
        device,
        "exec",
        "import sys; print('MPY', getattr(sys.implementation, '_mpy', None),"
        " '.'.join(str(v) for v in sys.implementation.version[:3]))",
        resume=False,
    )
    m = re.search(r"^MPY (\S+) (.*)$", out, re.M)
    if not m:
        raise DeployError("no answer from the board at %s (got %r)" % (device, out))
    return (None if m.group(1) == "None" else int(m.group(1))), m.group(2).strip()


def check_compatible(sys_mpy, header):
    ver, sub, arch, _ = header
    if sys_mpy is None:
        raise DeployError("the board's MicroPython cannot load .mpy files (no sys.implementation._mpy)")
    b_ver, b_sub, b_arch = sys_mpy & 0xFF, sys_mpy >> 8 & 3, sys_mpy >> 10
    if b_ver != ver:
        raise DeployError(
            "the board loads mpy v%d.%d but mpy-cross emits mpy v%d: "
            "use the mpy-cross of the board's MicroPython release" % (b_ver, b_sub, ver)
        )
    # The sub-version and the architecture only matter for native code.
    if arch and (arch != b_arch or sub != b_sub):
        raise DeployError(
            "native code for %s v%d.%d, board is %s v%d.%d"
            % (arch_name(arch), ver, sub, arch_name(b_arch), b_ver, b_sub)
        )


def deploy(device, dest, src, build):
    files = compile_all(src, build)
    sys_mpy, version = board_mpy(device)
    if sys_mpy is None:
        print("board %s: MicroPython %s, no .mpy support" % (device, version))
    else:
        arch = arch_name(sys_mpy >> 10)
        print("board %s: MicroPython %s, loads mpy v%d.%d%s" % (
            device, version, sys_mpy & 0xFF, sys_mpy >> 8 & 3, " (native: %s)" % arch if arch else ""))
    for _, mpy in files:
        check_compatible(sys_mpy, mpy_header(mpy))

    names = [os.path.basename(mpy)[:-4] for _, mpy in files]
    # Make dest (and its parents), and remove .py files that would shadow the
    # .mpy ones.
    prep = (
        "import os\n"
        "p=''\n"
        "for d in %r.split('/'):\n"
        " if d:\n"
        "  p+='/'+d\n"
        "  try:\n   os.mkdir(p)\n  except OSError:\n   pass\n"
        "for n in %r:\n"
        " try:\n  os.remove(%r+'/'+n+'.py')\n  print('removed',n+'.py')\n except OSError:\n  pass\n"
    ) % (dest, names, dest)
    for line in mpremote(device, "exec", prep).splitlines():
        print("  " + line)
    mpremote(device, "fs", "cp", *[mpy for _, mpy in files], ":" + dest + "/")

    # Sizes as the board sees them, and the file each module imports from.
    # Each module is let go after its check: all of them at once need more
    # RAM than an application that uses them (some are loaded for a call).
    # One exec each: in one loop, stale pointers on the C stack kept
    # modules that were let go, and a 96K heap ran out.
    check = (
        "import os, sys, gc\n"
        "n=%r\n"
        "m=__import__(n)\n"
        "print(n, os.stat(%r+'/'+n+'.mpy')[6], m.__file__)\n"
        "m=None\n"
        "for k in list(sys.modules):\n"
        " if k.startswith('aio') and k != 'aiorepl':\n"
        "  sys.modules.pop(k)\n"
        "gc.collect()\n"
    )
    out = "".join(mpremote(device, "exec", check % (n, dest)) for n in names)
    seen = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] in names:
            seen[parts[0]] = (int(parts[1]), parts[2])
    ok = True
    for (py, mpy), n in zip(files, names):
        size = os.path.getsize(mpy)
        b_size, loaded = seen.get(n, (None, None))
        want = dest + "/" + n + ".mpy"
        status = "ok"
        if b_size != size:
            status = "SIZE MISMATCH on board: %s" % b_size
            ok = False
        elif loaded != want:
            status = "but import loads %s" % loaded
            ok = False
        print("  %-16s %6d -> %-16s %6d  %s" % (os.path.basename(py), os.path.getsize(py), n + ".mpy", size, status))
    if not ok:
        raise DeployError("the board does not load every .mpy from %s" % dest)
    print("deployed %d files to %s:%s" % (len(files), device, dest))


def main():
    ap = argparse.ArgumentParser(description="Compile lib/*.py with mpy-cross and copy the .mpy files to a board.")
    ap.add_argument("--device", default="auto", help="serial device (default: mpremote's auto)")
    ap.add_argument("--dest", default=":/lib", help="directory on the board (default :/lib)")
    ap.add_argument("--src", default=LIB, help=argparse.SUPPRESS)
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "mpy"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    dest = "/" + args.dest.lstrip(":").strip("/")
    try:
        deploy(args.device, dest, args.src, args.build)
    except (DeployError, BuildError) as e:
        print("deploy: error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
