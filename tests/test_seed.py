# The seed document's example (examples/seed.py), run as written on the unix
# port behind a pseudo-terminal: aiorepl's prompt is driven like a user at a
# terminal, and the aioctl.status() tree it prints is checked.
#
# seed.py needs micropython-lib's aiorepl and logging, which are not frozen
# into the unix port. They are looked for in the directories of $MICROPYPATH
# and $AIOREPL_PATH (both colon-separated), in ~/.micropython/lib and in
# <repo>/../shared/micropython-lib; without them this test skips.
# It runs on each tier (conftest.py's `tier` fixture); the rest is here. On
# the pico tier, seed.py runs on a virtual Pico of its own that keeps
# emulated time in step with real time (the prompt waits for a person):
# aiorepl and logging as the .mpy files mip puts on a board, the clock set
# to the host's, and the lines typed at its USB serial port.

import ast
import calendar
import os
import re
import select
import subprocess
import sys
import termios
import time

import pytest

import conftest
from conftest import LIB, ROOT
import helpers
from helpers import plain

SEED = os.path.join(ROOT, "examples", "seed.py")
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux ptys")

SKIP = "aiorepl/logging not importable: put micropython-lib's aiorepl.py and logging.py in a directory on MICROPYPATH to run the seed example"

DATE = "(%s)" % helpers.DATE
SECS = r"(\d+(?:\.\d)?) s"
SEP = r"<-{10,}>"  # the line under each task (80 dashes today)
PROMPT = b">>> "


def extra_dirs():
    # The user's module directories (minus .frozen, which goes last), then
    # $AIOREPL_PATH, then where `micropython -m mip install aiorepl` puts
    # packages on the unix port by default, then ../shared/micropython-lib.
    dirs = []
    for var in ("MICROPYPATH", "AIOREPL_PATH", "~/.micropython/lib"):
        for d in os.environ.get(var, var if var.startswith("~") else "").split(":"):
            if d and d != ".frozen":
                # Relative entries are the user's, from pytest's directory.
                d = os.path.abspath(os.path.expanduser(d))
                if d != LIB and d not in dirs:
                    dirs.append(d)
    shared = os.path.join(os.path.dirname(ROOT), "shared", "micropython-lib")
    if os.path.isdir(shared) and shared not in dirs:
        dirs.append(shared)
    return dirs


@pytest.fixture
def seed_env(tmp_path, tier, mpy_dir):
    if tier.name == "pico":
        # The board's /lib: aiorepl and logging as mip installs them (.mpy),
        # the library's .mpy files.
        src, why = conftest.find_aiorepl()
        if src is None:
            pytest.skip("tier pico: " + why)
        return [conftest.hosttools.build_mpy(str(tmp_path / "mplib"), src), mpy_dir]
    env = conftest.hosttools.mp_env(extra_dirs() + [LIB])
    run = lambda code: subprocess.run(
        [tier.exe, "-c", code], cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=10
    )
    if run("import aiorepl, logging").returncode != 0:
        pytest.skip(SKIP)
    # The extra directories come first: make sure they do not hide lib/.
    p = run("import aioctl, aioschedule, aiolog\nfor m in (aioctl, aioschedule, aiolog): print(m.__file__)")
    assert p.returncode == 0, p.stdout + p.stderr
    for f in p.stdout.split():
        assert os.path.dirname(os.path.abspath(os.path.join(str(tmp_path), f))) == LIB, (
            "%s shadows lib/ on MICROPYPATH=%s" % (f, env["MICROPYPATH"])
        )
    return env


class Terminal:
    """micropython on the slave side of a pty; the test types on the master."""

    def __init__(self, argv, cwd, env):
        master, slave = os.openpty()
        attrs = termios.tcgetattr(slave)
        # A terminal in the mode the unix port leaves it in when it runs a
        # script (canonical, ICRNL: the Enter key's "\r" arrives as "\n",
        # the only line end aiorepl acts on), but without the tty's own
        # echo, so that what comes back is aiorepl's echo and output only.
        attrs[0] |= termios.ICRNL
        attrs[3] |= termios.ICANON
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        self.fd = master
        self.buf = b""
        self.mark = 0
        try:
            self.proc = subprocess.Popen(
                argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env, start_new_session=True
            )
        finally:
            os.close(slave)

    def transcript(self):
        return "\n".join(clean(self.buf))

    def expect(self, pattern, timeout=5.0):
        """Reads until pattern (bytes) appears after the mark; returns the
        text between the mark and it, and moves the mark past it."""
        end = time.monotonic() + timeout
        while True:
            i = self.buf.find(pattern, self.mark)
            if i >= 0:
                text = self.buf[self.mark : i]
                self.mark = i + len(pattern)
                return clean(text)
            left = end - time.monotonic()
            if left <= 0:
                break
            data = self.read(left)
            if data is None:
                break
            self.buf += data
        pytest.fail(
            "no %r from seed.py within %s s (exit code %s); transcript:\n%s"
            % (pattern, timeout, self.proc.poll(), self.transcript())
        )

    def read(self, timeout):
        """What came within timeout seconds (b"" if nothing), None at the end."""
        if not select.select([self.fd], [], [], timeout)[0]:
            return b""
        try:
            return os.read(self.fd, 4096) or None
        except OSError:  # EIO: the process has gone
            return None

    def type(self, line):
        # One line as typed at a terminal, ended by the Enter key.
        os.write(self.fd, line.encode() + b"\r")

    def command(self, line):
        """Types line at the prompt; returns the lines printed before the
        next prompt, after aiorepl's echo of the line."""
        self.type(line)
        lines = self.expect(PROMPT)
        assert lines and lines[0] == line, "aiorepl did not echo %r:\n%s" % (line, self.transcript())
        out = lines[1:]
        assert not any("Error" in s or "Traceback" in s for s in out), self.transcript()
        return out

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()  # seed.py runs forever
        self.proc.wait(5)
        os.close(self.fd)


class PicoTerminal(Terminal):
    """seed.py on a virtual Pico of its own (realtime: its clock keeps pace
    with the host's while it waits at the prompt), started through the raw
    REPL; the test types at the board's USB serial port, as at a terminal
    program (Enter sends "\\r"; aiorepl echoes, the port does not)."""

    def __init__(self, libdirs, script):
        vpico = conftest.tool_module("vpico")
        self.buf = b""
        self.mark = 0
        self.pico = vpico.Pico(libdirs, realtime=True)
        self.proc = self.pico.emu.proc  # poll(): None while the board runs
        # Set at a whole second, so the board's dates are not behind the
        # host's by a fraction (set_rtc takes whole seconds).
        time.sleep(1 - time.time() % 1)
        self.pico.set_rtc(round(time.time()))
        with open(script) as f:
            src = f.read()
        self.pico.emu.write(src.encode() + b"\x04")  # the raw REPL runs it at once
        self.expect(b"OK", 10)

    def read(self, timeout):
        vpico = conftest.tool_module("vpico")
        try:
            return self.pico.emu.read(timeout)
        except vpico.PicoError:
            return None

    def type(self, line):
        self.pico.emu.write(line.encode() + b"\r")

    def close(self):
        self.pico.close()


def clean(raw):
    # Lines as a user reads them: no colours, no "\r" from the tty's ONLCR.
    text = plain(raw.decode("utf-8", "replace")).replace("\r", "")
    return [s.rstrip() for s in text.split("\n") if s.strip()]


def utc(date):
    return calendar.timegm(time.strptime(date, "%Y-%m-%d %H:%M:%S"))


def near(t, lo, hi, what):
    # t: whole seconds as printed (truncated), so it may be up to 1 s under
    # the instant lo stands for
    fmt = lambda x: time.strftime("%H:%M:%S", time.gmtime(x))
    assert int(lo) <= t <= hi, "%s: %s is not in %s..%s (UTC)" % (what, fmt(t), fmt(lo), fmt(hi))


def match_lines(lines, patterns, transcript):
    assert len(lines) >= len(patterns), "status printed too few lines:\n" + transcript
    found = []
    for line, pat in zip(lines, patterns):
        m = re.fullmatch(pat, line)
        assert m, "line %r does not match %r; transcript:\n%s" % (line, pat, transcript)
        found.append(m.groups())
    return found


def scheduled(name):
    # A task waiting for its first run: the head line and its schedule line.
    return [
        r"● %s: status: scheduled @ %s --> result:" % (name, DATE),
        r"    ┗━► schedule: starts in %s @ %s" % (SECS, DATE),
    ]


def running(name):
    return [r"● %s: status: running since %s; %s ago" % (name, DATE, SECS)]


@pytest.mark.board
def test_seed_example_status_tree(tier, seed_env, tmp_path):
    t0 = time.time()
    if tier.name == "pico":
        term = PicoTerminal(seed_env, SEED)
    else:
        term = Terminal([tier.exe, SEED], str(tmp_path), seed_env)
    try:
        head = term.expect(PROMPT)
        assert "starting tasks..." in head, term.transcript()
        assert term.command("import aioctl") == []

        out = term.command("aioctl.status()")
        now = time.time()
        sep = [SEP]
        pats = (
            scheduled("test") + sep
            + scheduled("test_from") + sep
            + running("repl") + sep
            + running("watcher_loop") + sep
            + running("schedule_loop") + sep
        )
        got = match_lines(out, pats, term.transcript())
        # After the tree, at most status()'s return value.
        assert len(out) - len(pats) <= 1 and not any(s.startswith("●") for s in out[len(pats):]), term.transcript()

        (since_t,), (in_t, at_t), _, (since_f,), (in_f, at_f), _ = got[:6]
        runs = [got[6], got[8], got[10]]
        for date in [since_t, since_f] + [r[0] for r in runs]:
            near(utc(date), int(t0), now, "added at")
        for _, ago in runs:
            assert float(ago) <= now - t0 + 1, term.transcript()
        # test: start_in=10 s, counted from schedule_loop's start (just after
        # the adds); test_from: the wall-clock time 20 s after its add.
        assert 0 < float(in_t) <= 10, term.transcript()
        assert 10 < float(in_f) <= 20, term.transcript()
        near(utc(at_t), utc(since_t) + 9, utc(since_t) + 11, "test due")
        near(utc(at_f), utc(since_f) + 19, utc(since_f) + 21, "test_from due")
        near(utc(at_t), now + float(in_t) - 2, now + float(in_t) + 1, "test due vs 'starts in'")
        near(utc(at_f), now + float(in_f) - 2, now + float(in_f) + 1, "test_from due vs 'starts in'")

        out = term.command('aioctl.status("test_from", debug=True)')
        match_lines(out, scheduled("test_from"), term.transcript())
        args = [s for s in out if s.startswith("    ┗━► args: ")]
        kwargs = [s for s in out if s.startswith("    ┗━► kwargs: ")]
        assert len(args) == 1 and len(kwargs) == 1, term.transcript()
        assert ast.literal_eval(args[0].split(": ", 1)[1]) == ("from",)
        # name and _id are aioctl's options, not the function's arguments.
        assert ast.literal_eval(kwargs[0].split(": ", 1)[1]) == {"b": 20, "logid": "test_from"}
        assert out.index(args[0]) < out.index(kwargs[0])
        # One task: its lines, then one separator.
        assert [s for s in out if s.startswith("●")] == [out[0]], term.transcript()
        seps = [i for i, s in enumerate(out) if re.fullmatch(SEP, s)]
        assert len(seps) == 1 and seps[0] > out.index(kwargs[0]), term.transcript()
        assert term.proc.poll() is None, term.transcript()
    finally:
        term.close()
