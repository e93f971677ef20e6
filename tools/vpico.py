#!/usr/bin/env python3
"""A virtual Raspberry Pi Pico: the real MicroPython RPI_PICO firmware
running in the rp2040js emulator (Node.js, tools/pico/).

Command line:

  vpico.py run [--flash IMAGE] [--lib DIR ...] [--timeout S] [-X heapsize=N]
               [--realtime] script.py [args ...]
      Boots the Pico, runs script.py through the raw REPL and exits like the
      unix `micropython` command: the program's output on stdout, an uncaught
      exception's traceback on stderr and status 1, `sys.exit(n)` status n.
  vpico.py serve [--link PATH] [--flash IMAGE] [--lib DIR ...] [--no-realtime]
      A pseudo-terminal bridged to the Pico's USB serial port, for stock
      `mpremote connect DEVICE ...`; prints the device path on the first line
      of stdout once the REPL is up, then runs until SIGTERM/SIGINT. A reset
      of the board (machine.reset(), mpremote reset, WDT) boots it again on
      the same flash; the device stays.

  Exit status 2: setup error (firmware, boot ROM, node/npm missing or
  unusable); 3: the emulator failed or did not boot; 124: --timeout passed.

From Python (tests), boot once and run many scripts:

  from vpico import Pico
  with Pico(libdirs=[...], flash=None) as p:
      out, err, rc = p.run("print(1)\n", timeout=60)   # code, or a path
      out, err, rc = p.run("tests/x.py", args=["a"], heap="96K")

  Pico(libdirs=(), flash=None, realtime=False, boot_timeout=30, raw=True)
      Boots the emulator (about 0.5 s). The files of each libdir go to /lib on
      the board's flash (a directory tree is copied as is); where two
      libdirs hold the same module (foo.py, foo.mpy or package foo), the
      earlier one wins, as on a module path. flash: a file holding the
      filesystem region of the flash (1408 KB, littlefs2, block size 4096,
      352 blocks; littlefs-python reads it), loaded at boot and written back
      at each erase/program, so what MicroPython writes survives a kill -9; it
      is made if missing. Without it, a fresh filesystem in a temporary file.
      raw=False leaves the board at its friendly REPL (what `serve` does).
  p.run(code_or_path, args=(), timeout=120, heap=None, name=None, out=None)
      -> (stdout, stderr, returncode), strings with "\\n" line ends. A str
      holding a newline, or naming no file, is code. Each run but the first
      after boot starts with a soft reset (clean heap, modules reloaded).
      sys.argv is [name] + args; heap ("96K", "1M" or bytes) holds back
      a bytearray so that about that much heap is left for the program.
      out: a binary stream the program's stdout is also copied to as it
      comes. Note: print(..., file=sys.stderr) on a board goes to the serial
      port as stdout does, so it ends up in stdout here.
      Raises PicoTimeout after `timeout` real seconds (the program is
      interrupted with Ctrl-C; if that fails too the emulator is stopped).
  p.exec(code, timeout=30) -> stdout; raises PicoError on an exception.
  p.soft_reset(); p.restart(libdirs=None): a power cycle (a new emulator
      on the same flash; with libdirs, /lib is filled from them first, and a
      temporary flash starts blank); p.close() (also at interpreter exit).
  p.fs() -> a littlefs-python LittleFS of the board's filesystem, read from
      the image (for reading what programs wrote, between runs);
      p.read_file(path) -> bytes (FileNotFoundError); p.write_file(path,
      data) writes through the board's REPL. A script's cwd is "/".
  p.set_rtc(when=None): the board's clock to Unix time `when` (UTC; default
      now); it reads 2021-01-01 after boot and keeps running over soft resets.
  p.boot_time: real seconds from start to the raw REPL.
  Errors: PicoSetupError (missing firmware/ROM/node), PicoBootError,
  PicoDied (the emulator exited), PicoReset (the board reset itself:
  machine.reset() or machine.WDT; it has booted again, flash kept; its .out
  has the output so far), PicoTimeout; all are PicoError.

Files: the firmware and boot ROM come from $PICO_FIRMWARE and $PICO_BOOTROM,
else <repo>/../shared/boards/. The npm packages (rp2040js, pinned in
tools/pico/package-lock.json) are installed on first use.

Emulated time is consistent (ticks_ms, time.time() advance with the
instructions run, at 125 MHz), but not tied to real time: busy code runs at
about a third of real speed, and by default idle time (sleep, asyncio
waits) is skipped, so sleeps cost almost no real time. With realtime (the
default for serve, --realtime for run, Pico(realtime=True)) waits take their
real time: needed where a host talks to the board while it waits with a
timeout (mpremote mount would time out at once otherwise).
"""

import argparse
import ast
import atexit
import errno
import fcntl
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from hosttools import BOARDS, ROOT, client_connected, link_device, open_device, unlink_device

PICO_DIR = os.path.join(ROOT, "tools", "pico")
FIRMWARE = "firmware-RPI_PICO-v1.27.0.bin"
BOOTROM = "rp2040-bootrom-b1.bin"

# The littlefs region of the 2 MB flash, as the rp2 port's _boot.py mounts it.
FS_BLOCK_SIZE = 4096
FS_BLOCKS = 352
SKIP = {"__pycache__", ".git"}  # not copied from --lib directories

PROMPT = b">>> "
RAW_PROMPT = b"raw REPL; CTRL-B to exit\r\n>"
SOFT_REBOOT = b"soft reboot\r\n"
EXIT_MARK = b"\x00vpico-exit:"
STDIN_FRAME = re.compile(r'  File "<stdin>", line \d+, in <module>\n')

# A run is a few raw-REPL programs. The script's source goes over in pieces
# of CHUNK characters: the raw REPL keeps the buffer of its largest input for
# good, so one big input would take as much heap from the program. PREPARE
# sets sys.argv and compiles the source under the script's name (so
# tracebacks name it). EXECUTE runs it in __main__ and reports a SystemExit,
# which the raw REPL itself would turn into a soft reset, losing the status.
CHUNK = 1024
PREPARE = """import sys
sys.argv[:]=%r
_vpico=compile(''.join(globals().pop('_vpico_src')),%r,'exec')
del sys
"""
# With a heap size N, PREPARE also holds back heap (a bytearray) so that
# what is free when the program starts is what the unix port started with
# -X heapsize=N has: N less its own start-up allocations (UNIX_BASE, measured
# on the 32-bit unix port v1.27) less the compiled code.
UNIX_BASE = 2900
PREPARE_HEAP = """import sys,gc
sys.argv[:]=%r
s=''.join(globals().pop('_vpico_src'))
n=len(s)
gc.collect()
a=gc.mem_alloc()
_vpico=compile(s,%r,'exec')
del s
gc.collect()
sys.modules['_vpico_heap']=bytearray(max(0,gc.mem_free()-%d+gc.mem_alloc()-a+n))
del sys,gc,n,a
"""
EXECUTE = """try:
 exec(globals().pop('_vpico'))
except SystemExit as e:
 print(end='\\x00vpico-exit:'+repr(e.args))
"""


class PicoError(Exception):
    out = ""  # what the program printed before the error, if one ran


class PicoSetupError(PicoError):
    pass


class PicoBootError(PicoError):
    pass


class PicoDied(PicoError):
    pass


class PicoReset(PicoDied):
    """The board reset itself (machine.reset(), machine.WDT); the Pico has
    booted again, keeping its flash."""


class PicoTimeout(PicoError):
    pass


def board_files():
    """The firmware and boot ROM paths; PicoSetupError if one is missing."""
    found = []
    for var, name in (("PICO_FIRMWARE", FIRMWARE), ("PICO_BOOTROM", BOOTROM)):
        path = os.environ.get(var) or os.path.join(BOARDS, name)
        if not os.path.isfile(path):
            raise PicoSetupError("%s not found (set %s or put it in %s)" % (path, var, BOARDS))
        found.append(path)
    return found


def ensure_node():
    """Node.js with rp2040js installed (npm ci on first use)."""
    for cmd in ("node", "npm"):
        if not shutil.which(cmd):
            raise PicoSetupError("%s not found on PATH (the virtual Pico needs Node.js >= 18 and npm)" % cmd)
    stamp = os.path.join(PICO_DIR, "node_modules", ".package-lock.json")
    lock = os.path.join(PICO_DIR, "package-lock.json")
    if os.path.exists(stamp) and os.path.getmtime(stamp) >= os.path.getmtime(lock):
        return
    # Several test processes may start at once: one installs, the others wait.
    with open(lock) as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        if os.path.exists(stamp) and os.path.getmtime(stamp) >= os.path.getmtime(lock):
            return
        p = subprocess.run(
            ["npm", "ci", "--silent", "--no-audit", "--no-fund"],
            cwd=PICO_DIR,
            capture_output=True,
            text=True,
        )
        if p.returncode:
            raise PicoSetupError("npm ci in %s failed:\n%s" % (PICO_DIR, (p.stderr or p.stdout).strip()))


def make_image(path, libdirs=()):
    """Makes or updates the flash's filesystem region in the file path: each
    libdir's files are put in /lib of the littlefs there (made if the image
    holds none). A new image with no libdirs is left blank: the firmware
    formats it at boot, as on a new Pico (that costs no noticeable time)."""
    size = FS_BLOCK_SIZE * FS_BLOCKS
    if os.path.exists(path):
        if os.path.getsize(path) != size:
            raise PicoSetupError("%s: a flash image is %d bytes, not %d" % (path, size, os.path.getsize(path)))
        if not libdirs:
            return
        with open(path, "rb") as f:
            data = bytearray(f.read())
    else:
        data = bytearray(b"\xff" * size)
    if libdirs:
        try:
            import littlefs
        except ImportError:
            raise PicoSetupError("the Python package littlefs-python is missing (pip install littlefs-python)")
        # As the rp2 port's _boot.py makes it (disk version 2.1); a blank
        # image is formatted on mount.
        fs = littlefs.LittleFS(
            context=littlefs.UserContext(buffer=data),
            block_size=FS_BLOCK_SIZE,
            block_count=FS_BLOCKS,
            prog_size=256,
            read_size=32,
            lookahead_size=32,
            disk_version=0x00020001,
        )
        fs.makedirs("lib", exist_ok=True)
        taken = set()
        for d in libdirs:
            names = [n for n in sorted(os.listdir(d)) if n not in SKIP]
            for name in names:
                if os.path.splitext(name)[0] not in taken:
                    copy_in(fs, os.path.join(d, name), "lib/" + name)
            taken.update(os.path.splitext(n)[0] for n in names)
        fs.unmount()
    with open(path, "wb") as f:
        f.write(data)


def copy_in(fs, src, dest):
    if os.path.isdir(src):
        fs.makedirs(dest, exist_ok=True)
        for name in sorted(os.listdir(src)):
            if name not in SKIP:
                copy_in(fs, os.path.join(src, name), dest + "/" + name)
    else:
        with open(src, "rb") as f, fs.open(dest, "wb") as g:
            g.write(f.read())


def parse_size(text):
    m = re.fullmatch(r"(\d+)([kKmM]?)", str(text))
    if not m:
        raise ValueError("bad heap size %r (e.g. 96K, 1M or bytes)" % text)
    return int(m.group(1)) << {"": 0, "k": 10, "m": 20}[m.group(2).lower()]


_live = set()


@atexit.register
def _close_all():
    for p in list(_live):
        p.close()


class Emulator:
    """The node process: bytes to and from the Pico's USB serial port."""

    def __init__(self, flash=None, libdirs=(), realtime=False):
        firmware, bootrom = board_files()
        ensure_node()
        self.tmp = tempfile.mkdtemp(prefix="vpico-")
        self.kept = flash is not None
        self.image = flash or os.path.join(self.tmp, "flash.img")
        try:
            make_image(self.image, libdirs)
        except BaseException:
            shutil.rmtree(self.tmp)
            raise
        self.log = os.path.join(self.tmp, "node.log")
        self.cmd = ["node", os.path.join(PICO_DIR, "vpico.mjs"), bootrom, firmware, self.image]
        if realtime:
            self.cmd.append("--realtime")
        self.proc = None
        self.start()

    def start(self):
        """Starts the emulator (again: a power cycle, the flash kept)."""
        self.stop()
        with open(self.log, "wb") as log:
            # Its own process group: a Ctrl-C at the terminal is ours to
            # handle; it also ends by itself when its stdin closes.
            self.proc = subprocess.Popen(
                self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, start_new_session=True
            )
        self.fd = self.proc.stdout.fileno()
        self.wfd = self.proc.stdin.fileno()
        os.set_blocking(self.fd, False)
        os.set_blocking(self.wfd, False)
        _live.add(self)

    def write(self, data, timeout=30):
        # The emulator reads its input every 20 ms or so; waiting longer
        # means it is stuck.
        deadline = time.monotonic() + timeout
        view = memoryview(data)
        while view:
            if not select.select([], [self.wfd], [], max(0, deadline - time.monotonic()))[1]:
                raise PicoDied("the emulator takes no input (stuck for %g s)" % timeout)
            try:
                view = view[os.write(self.wfd, view):]
            except BlockingIOError:
                pass
            except (BrokenPipeError, ValueError):
                raise self.died()

    def read(self, timeout):
        """Bytes from the board within timeout seconds (b"" if none)."""
        if select.select([self.fd], [], [], max(0, timeout))[0]:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return b""
            if data:
                return data
            raise self.died()
        return b""

    def died(self):
        """The error to raise now that the emulator has stopped talking."""
        try:
            self.proc.wait(2)
        except subprocess.TimeoutExpired:
            pass
        status = self.proc.returncode
        with open(self.log, errors="replace") as f:
            msg = f.read().strip().replace("vpico: ", "")
        if status == 2:  # it could not use a file it was given
            return PicoSetupError(msg)
        if status == 4:
            return PicoReset(msg)
        if status is None:
            what = "the emulator closed its output"
        elif status < 0:
            what = "the emulator was killed (signal %d)" % -status
        else:
            what = "the emulator exited with status %d" % status
        return PicoDied(what + (": " + msg if msg else ""))

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        self.proc = None

    def close(self):
        _live.discard(self)
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


class Pico:
    """A booted virtual Pico driven through its raw REPL (see the module
    docstring)."""

    def __init__(self, libdirs=(), flash=None, realtime=False, boot_timeout=30, raw=True):
        self.emu = Emulator(flash, libdirs, realtime)
        self.boot_timeout = boot_timeout
        self.buf = b""
        try:
            self._boot(boot_timeout, raw)
        except BaseException:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.emu:
            self.emu.close()
            self.emu = None

    def _read_until(self, marker, deadline, sink=None):
        """Reads to marker; returns what came before it (the rest stays in
        self.buf). sink(bytes) sees output as it comes. None at deadline."""
        while True:
            i = self.buf.find(marker)
            if i >= 0:
                head, self.buf = self.buf[:i], self.buf[i + len(marker):]
                if sink:
                    sink(head, True)
                return head
            if sink:
                self.buf = sink(self.buf, False)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.buf += self.emu.read(min(left, 1))

    def _boot(self, timeout, raw):
        self.buf = b""
        self.fresh = True
        self.busy = False  # a run was started and has not ended
        start = time.monotonic()
        deadline = start + timeout
        # The REPL prompt shows once boot.py/main.py are done; a main.py that
        # does not end is interrupted, as mpremote does.
        if self._read_until(PROMPT, min(deadline, start + 5)) is None:
            self.emu.write(b"\x03\x03")
            if self._read_until(PROMPT, deadline) is None:
                raise PicoBootError("the Pico showed no REPL prompt within %g s" % timeout)
        self.boot_time = time.monotonic() - start
        if not raw:
            return
        self.emu.write(b"\x01")
        if self._read_until(RAW_PROMPT, deadline) is None:
            raise PicoBootError("the Pico did not enter its raw REPL within %g s" % timeout)
        self.boot_time = time.monotonic() - start

    def _raw(self, code, deadline, sink=None):
        """Runs code in the raw REPL: (stdout, traceback) bytes, or None at
        the deadline."""
        self.emu.write(code.encode() + b"\x04")
        if self._read_until(b"OK", deadline) is None:
            return None
        out = self._read_until(b"\x04", deadline, sink)
        if out is None:
            return None
        err = self._read_until(b"\x04>", deadline)
        if err is None:
            return None
        return out, err

    def soft_reset(self, timeout=10):
        deadline = time.monotonic() + timeout
        self.emu.write(b"\x04")
        if self._read_until(SOFT_REBOOT, deadline) is None or self._read_until(RAW_PROMPT, deadline) is None:
            raise PicoTimeout("no soft reset within %g s" % timeout)
        self.fresh = True

    def _recover(self, deadline):
        # A run was cut short on our side (an exception in the caller): the
        # board may be anywhere in it. Back to a raw REPL prompt, as
        # mpremote does when it connects.
        self.emu.write(b"\r\x03\x03")
        self._read_until(b"\x00", time.monotonic() + 0.2)  # let it settle
        self.buf = b""
        self.emu.write(b"\r\x01")
        if self._read_until(RAW_PROMPT, deadline) is None:
            raise PicoTimeout("the board did not come back to its raw REPL")
        self.busy = False

    def _interrupt(self):
        # Ctrl-C; the board is usable again if the raw REPL comes back.
        self.emu.write(b"\x03")
        if self._read_until(b"\x04>", time.monotonic() + 5) is None:
            self.close()
            return False
        self.busy = False
        return True

    def run(self, code_or_path, args=(), timeout=120, heap=None, name=None, out=None):
        code, name = self._source(code_or_path, name)
        if self.emu is None:
            raise PicoDied("the emulator has been stopped")
        deadline = time.monotonic() + timeout
        size = parse_size(heap) if heap else 0
        stream = Stream(out)
        try:
            if self.busy:
                self._recover(deadline)
            if not self.fresh:
                self.soft_reset(timeout)
            self.fresh = False
            self.busy = True
            res = self._prepare(code, name, args, size, deadline)
            if res and not res[1]:  # compiled: run it
                res = self._raw(EXECUTE, deadline, stream.feed)
        except PicoError as e:
            stream.feed(self.buf, True)
            e.out = stream.text()
            if isinstance(e, PicoReset):
                self.emu.start()
                self._boot(self.boot_timeout, True)
            raise
        if res is None:
            ok = self._interrupt()
            e = PicoTimeout(
                "the program did not end within %g s (real time)%s"
                % (timeout, "" if ok else "; the emulator was stopped")
            )
            e.out = stream.text()
            raise e
        self.busy = False
        stdout = stream.text()
        err = STDIN_FRAME.sub("", text(res[1]), count=1)  # the frame of EXECUTE
        rc = 1 if err else 0
        i = stdout.rfind(EXIT_MARK.decode())
        if i >= 0:
            stdout, status = stdout[:i], ast.literal_eval(stdout[i + len(EXIT_MARK):])
            rc, err = exit_status(status)
        return stdout, err, rc

    def _prepare(self, code, name, args, heap, deadline):
        chunks = [code[i:i + CHUNK] for i in range(0, len(code), CHUNK)] or [""]
        for i, chunk in enumerate(chunks):
            res = self._raw(("_vpico_src.append(%r)" if i else "_vpico_src=[%r]") % chunk, deadline)
            if res is None or res[1]:
                return res
        if heap:
            return self._raw(PREPARE_HEAP % ([name] + list(args), name, heap - UNIX_BASE), deadline)
        return self._raw(PREPARE % ([name] + list(args), name), deadline)

    def restart(self, libdirs=None):
        """A power cycle: the emulator starts again on the same flash. With
        libdirs, their files are put in /lib first; on a temporary flash
        (no flash= given) the filesystem is made anew from them."""
        self.emu.stop()
        if libdirs is not None:
            if not self.emu.kept:
                os.remove(self.emu.image)
            make_image(self.emu.image, libdirs)
        self.emu.start()
        self._boot(self.boot_timeout, True)

    def fs(self):
        """The board's filesystem as a littlefs-python LittleFS, read from
        the flash image: for reading what programs wrote (between runs).
        Writes to it are not seen by the running board: use write_file."""
        import littlefs

        with open(self.emu.image, "rb") as f:
            ctx = littlefs.UserContext(buffer=bytearray(f.read()))
        return littlefs.LittleFS(context=ctx, block_size=FS_BLOCK_SIZE, block_count=FS_BLOCKS, mount=True)

    def read_file(self, path):
        """A file's bytes from the board's filesystem (FileNotFoundError)."""
        fs = self.fs()  # kept while the file is open
        try:
            with fs.open(path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            raise FileNotFoundError(errno.ENOENT, "no such file on the board", path) from None

    def write_file(self, path, data, timeout=60):
        """Writes bytes (or str) to a file on the board, through its REPL."""
        if isinstance(data, str):
            data = data.encode()
        code = "with open(%r, 'wb') as f:\n" % path
        code += "".join(" f.write(%r)\n" % data[i:i + 512] for i in range(0, len(data), 512)) or " pass\n"
        self.exec(code, timeout)

    def set_rtc(self, when=None):
        """Sets the board's clock to when (Unix seconds, default now), UTC,
        as `mpremote rtc --set` does; it keeps running over soft resets (at
        boot it reads 2021-01-01)."""
        t = time.gmtime(when)
        self.exec(
            "import machine\nmachine.RTC().datetime((%d,%d,%d,%d,%d,%d,%d,0))\n"
            % (t.tm_year, t.tm_mon, t.tm_mday, t.tm_wday, t.tm_hour, t.tm_min, t.tm_sec)
        )

    def exec(self, code, timeout=30):
        out, err, rc = self.run(code, timeout=timeout)
        if rc:
            raise PicoError("exit %d\n%s%s" % (rc, out, err))
        return out

    @staticmethod
    def _source(code_or_path, name):
        p = os.fspath(code_or_path)
        if isinstance(code_or_path, os.PathLike) or ("\n" not in p and os.path.isfile(p)):
            with open(p, encoding="utf-8") as f:
                return f.read(), name or p
        return p, name or "<string>"


def text(data):
    return data.decode("utf-8", "replace").replace("\r\n", "\n")


def exit_status(args):
    # As CPython and the unix port: sys.exit() and sys.exit(None) are 0, an
    # int is the status, anything else is printed and gives 1.
    value = args[0] if args else None
    if value is None:
        return 0, ""
    if isinstance(value, int):
        return value & 0xFF, ""
    return 1, "%s\n" % value


class Stream:
    """The program's stdout as it comes: copied to a binary stream with \\n
    line ends, holding back what may be the start of the exit mark."""

    def __init__(self, out):
        self.out = out
        self.parts = []

    def feed(self, data, last):
        keep = b""
        if not last:
            i = data.find(b"\x00")
            if i < 0 and data.endswith(b"\r"):
                i = len(data) - 1
            if i >= 0:
                data, keep = data[:i], data[i:]
        if data:
            self.parts.append(data)
            if self.out:
                self.out.write(data.replace(b"\r\n", b"\n").split(EXIT_MARK)[0])
                self.out.flush()
        return keep

    def text(self):
        return text(b"".join(self.parts))


class Bridge:
    """Copies bytes between the Pico's USB serial port and a pty whose
    slave is the device clients open (as tools/vboard.py does)."""

    def __init__(self, emu):
        self.emu = emu
        self.fd, self.device = open_device()
        self.to_dev = bytearray()

    def step(self):
        conn = client_connected(self.fd)
        if not conn:
            self.to_dev.clear()  # like a USB port with no host reading it
        p = select.poll()
        p.register(self.emu.fd, select.POLLIN)
        if conn:
            p.register(self.fd, select.POLLIN | (select.POLLOUT if self.to_dev else 0))
        # Without a client the master reports POLLHUP at once: look for a
        # new client every 50 ms instead.
        for fd, ev in p.poll(None if conn else 50):
            if fd == self.emu.fd:
                try:
                    data = self.emu.read(0)
                except PicoReset:
                    # A board's USB port would drop; this one stays, and
                    # the client sees the board boot again.
                    self.emu.start()
                    return
                if conn:
                    self.to_dev += data
            elif ev & select.POLLOUT:
                try:
                    del self.to_dev[: os.write(self.fd, self.to_dev)]
                except OSError:
                    self.to_dev.clear()
            if fd == self.fd and ev & select.POLLIN:
                try:
                    data = os.read(self.fd, 4096)
                except OSError as e:
                    if e.errno not in (errno.EIO, errno.EAGAIN):
                        raise
                    data = b""
                if data:
                    self.emu.write(data)

    def close(self):
        os.close(self.fd)


def cmd_serve(args):
    with Pico(args.lib, args.flash, args.realtime, raw=False) as p:
        bridge = Bridge(p.emu)
        try:
            link_device(bridge.device, args.link)
            print(bridge.device, flush=True)
            while True:
                bridge.step()
        finally:
            bridge.close()
            unlink_device(args.link)


def cmd_run(args):
    heap = None
    for x in args.X:
        if not x.startswith("heapsize="):
            raise PicoSetupError("unknown -X option %r (only heapsize=N)" % x)
        heap = x[len("heapsize="):]
        try:
            parse_size(heap)
        except ValueError as e:
            raise PicoSetupError(e)
    start = time.monotonic()
    with Pico(args.lib, args.flash, args.realtime, boot_timeout=min(args.timeout, 30)) as p:
        left = args.timeout - (time.monotonic() - start)
        try:
            out, err, rc = p.run(args.script, args.args, timeout=left, heap=heap, out=sys.stdout.buffer)
        except PicoTimeout:
            raise PicoTimeout("timed out after %g s (real time); the emulator was stopped" % args.timeout)
    sys.stderr.write(err)
    return rc


def main(argv=None):
    ap = argparse.ArgumentParser(description="A virtual Raspberry Pi Pico (MicroPython in rp2040js).")
    sub = ap.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="run a script, like the micropython command")
    serve = sub.add_parser("serve", help="a pseudo-terminal for mpremote")
    for p in (run, serve):
        p.add_argument("--flash", help="flash filesystem image, kept between runs (made if missing)")
        p.add_argument("--lib", action="append", default=[], help="copy this directory's files to /lib")
        p.add_argument(
            "--realtime",
            action=argparse.BooleanOptionalAction,
            default=p is serve,
            help="waits take real time (default for serve) or are skipped (default for run)",
        )
    run.add_argument("--timeout", type=float, default=120, help="real seconds for boot and run (default 120)")
    run.add_argument("-X", action="append", default=[], help="heapsize=N: leave about N bytes of heap")
    run.add_argument("script")
    run.add_argument("args", nargs=argparse.REMAINDER)
    serve.add_argument("--link", help="also make a symlink to the device here")
    args = ap.parse_args(argv)

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        for d in args.lib:
            if not os.path.isdir(d):
                raise PicoSetupError("--lib %s: not a directory" % d)
        if args.cmd == "run":
            if not os.path.isfile(args.script):
                raise PicoSetupError("can't open file %r" % args.script)
            return cmd_run(args)
        return cmd_serve(args)
    except PicoSetupError as e:
        print("vpico: %s" % e, file=sys.stderr)
        return 2
    except PicoTimeout as e:
        print("vpico: %s" % e, file=sys.stderr)
        return 124
    except PicoError as e:
        print("vpico: %s" % e, file=sys.stderr)
        return 3
    except BrokenPipeError:
        # Our reader went away (| head): end as a process killed by SIGPIPE
        # would, without a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except KeyboardInterrupt:
        # serve runs until it is stopped: that is its normal end.
        if args.cmd == "serve":
            return 0
        print("vpico: interrupted; the emulator was stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
