#!/usr/bin/env python3
# A virtual board: the MicroPython unix port behind a pseudo-terminal, so that
# stock `mpremote connect DEVICE ...` works against it as against a USB board.
#
#   python tools/vboard.py --dir BOARD_DIR [--heap 96K] [--link PATH]
#
# Prints the device path on the first line of stdout, then runs until
# SIGTERM/SIGINT. BOARD_DIR is the board's "/" and BOARD_DIR/lib its /lib.
#
# micropython runs on its own pty (the "board side"); the vboard copies bytes
# between that pty and a second one whose slave is the device clients open.
# Ctrl-C: the unix port keeps its tty raw while it runs pasted code, so the
# tty never turns Ctrl-C into SIGINT. The vboard sends SIGINT itself, but only
# while MicroPython has its SIGINT handler installed (it is running code); at
# the prompt the handler is off, a signal would kill it, and the REPL wants
# the Ctrl-C byte instead. A board's UART does the same split.
# Typed-ahead input: some unix ports (v1.27) switch the tty's mode with
# TCSAFLUSH at each prompt and before running a line, dropping whatever the
# client sent meanwhile; a board's UART buffer keeps it. So after a byte the
# REPL acts on (a line end, Ctrl-B, Ctrl-D, an interrupt) the vboard holds
# the client's further input until the next prompt (after an interrupt, one
# that stays QUIET_S: the unix port's raw REPL shows its ">" before it falls
# back to the friendly REPL), or HOLD_S.

import argparse
import errno
import os
import select
import signal
import subprocess
import sys
import time
import tty

from hosttools import (add_micropython_option, client_connected, link_device, mp_command, mp_env, open_device,
                       unlink_device)

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
FRIENDLY_BANNER = b'Type "help()" for more information.\r\n'
PROMPT = b">>> "
SOFT_REBOOT = b"MPY: soft reboot\r\n"
HOLD_S = 0.5  # longest hold of typed-ahead input when no prompt comes (a program reading stdin)
QUIET_S = 0.03  # after an interrupt: a prompt is the last output for this long
# ">>> ", "... ", paste mode's "=== ", the raw REPL's ">": at a line's start
# (a prompt, not the echo of typed text)
PROMPT_ENDS = (b"\n>>> ", b"\n... ", b"\n=== ", b"\n>", b"\x04>")

# Runs in the interpreter before the REPL starts. The unix port mounts the
# host's "/" at "/"; replace it with a filesystem rooted at the board
# directory. Paths are resolved here, ".." stopping at the board's root, so
# that fs commands, mip and open() cannot reach outside it. Imports go through
# the same mount.
PRELUDE = """
import sys, vfs, os
class BoardFS:
    def __init__(self, root):
        self.fs = vfs.VfsPosix(root)
        self.cwd = "/"
    def _p(self, path):
        if not path.startswith("/"):
            path = self.cwd + "/" + path
        parts = []
        for p in path.split("/"):
            if p == "..":
                if parts:
                    parts.pop()
            elif p and p != ".":
                parts.append(p)
        return "/" + "/".join(parts)
    def __str__(self):
        return "<BoardFS>"
    def mount(self, readonly, mkfs):
        pass
    def umount(self):
        pass
    def chdir(self, path):
        path = self._p(path)
        if not self.fs.stat(path)[0] & 0x4000:
            raise OSError(20)
        self.cwd = path
    def getcwd(self):
        return self.cwd
    def ilistdir(self, path):
        # With sizes, as boards' filesystems give them (mpremote fs ls).
        path = self._p(path)
        for e in self.fs.ilistdir(path):
            n = self.fs.stat(path + "/" + e[0])[6] if e[1] == 0x8000 else 0
            yield (e[0], e[1], e[2], n)
    def stat(self, path):
        return self.fs.stat(self._p(path))
    def statvfs(self, path):
        return self.fs.statvfs(self._p(path))
    def open(self, path, mode):
        return self.fs.open(self._p(path), mode)
    def mkdir(self, path):
        self.fs.mkdir(self._p(path))
    def remove(self, path):
        self.fs.remove(self._p(path))
    def rmdir(self, path):
        self.fs.rmdir(self._p(path))
    def rename(self, old, new):
        self.fs.rename(self._p(old), self._p(new))
vfs.umount("/")
vfs.mount(BoardFS(%r), "/")
os.chdir("/")
sys.path[:] = ["", ".frozen", "/lib"]
del BoardFS, sys, vfs, os
"""


class BootError(Exception):
    pass


class VBoard:
    def __init__(self, board_dir, heap=None, micropython=None):
        self.dir = os.path.realpath(board_dir)
        os.makedirs(os.path.join(self.dir, "lib"), exist_ok=True)
        self.cmd = mp_command(["-i", "-c", PRELUDE % self.dir], heap, micropython)
        # No HOME: the unix REPL keeps its history file there.
        self.env = mp_env()
        self.env.pop("HOME", None)

        self.dev_fd, self.device = open_device()  # the device side

        self.proc = None
        self.mp_fd = None
        self.booting = None
        self.raw = False  # the REPL mode, restored after a soft reboot
        self.to_mp = bytearray()
        self.to_dev = bytearray()
        self.tail = b""
        self.cook = True
        self.hold = None  # [deadline, quiet, last output, its time]: input held until a prompt

    # The interpreter

    def boot(self):
        fd, slave = os.openpty()
        tty.setraw(slave)
        self.proc = subprocess.Popen(
            self.cmd,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=self.dir,
            env=self.env,
            start_new_session=True,
        )
        os.close(slave)
        os.set_blocking(fd, False)
        self.mp_fd = fd
        self.booting = bytearray()  # output held until the first prompt
        self.hold = None
        self.cook = True

    def booted(self):
        out = bytes(self.booting)
        self.booting = None
        if self.raw:
            # Back into the raw REPL, as a board does after a soft reset.
            # Whatever the start-up printed before the banner still shows.
            self.to_mp[:0] = b"\x01"
            i = out.rfind(b"MicroPython ")
            if i >= 0:
                out = out[:i]
        self.send_dev(out)

    def died(self):
        os.close(self.mp_fd)
        self.mp_fd = None
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:  # closed its tty but lives on
            self.proc.kill()
            self.proc.wait()
        if self.booting is not None:
            raise BootError(
                "micropython exited with %d while starting:\n%s"
                % (self.proc.returncode, self.booting.decode(errors="replace"))
            )
        # The unix port exits where a board soft-resets (Ctrl-D, sys.exit).
        self.send_dev(SOFT_REBOOT)
        self.boot()

    def track(self, data):
        # Which REPL is on: the later of the two banners wins.
        buf = self.tail + data
        r, f = buf.rfind(RAW_BANNER), buf.rfind(FRIENDLY_BANNER)
        if r != f:
            self.raw = r > f
        self.tail = buf[-64:]

    # The client side

    def connected(self):
        return client_connected(self.dev_fd)

    def send_dev(self, data):
        # Output nobody reads is dropped, like a USB board with no host.
        if data and self.connected():
            self.to_dev += data

    def from_mp(self, data):
        if self.booting is not None:
            self.booting += data
            if PROMPT in self.booting:
                self.booted()
            return
        self.track(data)
        if self.hold:
            self.hold[2:] = (self.hold[2] + data)[-8:], time.monotonic()
        if not self.raw and self.cook:
            # Boards turn \n into \r\n on stdout; the unix port on a raw tty
            # does not, which staircases the friendly REPL.
            data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        self.send_dev(data)

    def from_dev(self, data):
        if b"__mount()" in data:
            # mpremote mount speaks a binary protocol: leave bytes alone.
            self.cook = False
        if b"\x03" in data and self.booting is None and self.handles_sigint():
            os.kill(self.proc.pid, signal.SIGINT)
            data = data.replace(b"\x03", b"")
            self.hold_input(QUIET_S)
        self.to_mp += data

    def hold_input(self, quiet=0):
        now = time.monotonic()
        self.hold = [now + HOLD_S, quiet, b"", now]

    def hold_left(self):
        # seconds until held input may go (0: now, or nothing is held)
        if not self.hold:
            return 0
        d, quiet, out, t = self.hold
        if out.endswith(PROMPT_ENDS):
            d = min(d, t + quiet)
        left = d - time.monotonic()
        if left <= 0:
            self.hold = None
        return max(0, left)

    def next_input(self):
        # How much to write now: up to and including the first byte the REPL
        # acts on (True: hold the rest until a prompt), or all of it.
        if self.cook:
            ends = [i for i in map(self.to_mp.find, b"\x02\x04" if self.raw else b"\r\x02\x04") if i >= 0]
            if ends:
                return min(ends) + 1, True
        return len(self.to_mp), False

    def handles_sigint(self):
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith("SigCgt:"):
                        return int(line.split()[1], 16) >> (signal.SIGINT - 1) & 1
        except OSError:
            pass
        return False

    # The loop

    def step(self):
        conn = self.connected()
        if not conn:
            self.to_dev.clear()
        fds = {}
        if self.mp_fd is not None:
            ev = select.POLLIN
            if self.to_mp and self.booting is None and not self.hold_left():
                ev |= select.POLLOUT
            fds[self.mp_fd] = ev
        if conn:
            ev = select.POLLIN
            if self.to_dev:
                ev |= select.POLLOUT
            fds[self.dev_fd] = ev
        p = select.poll()
        for fd, ev in fds.items():
            p.register(fd, ev)
        # Without a client the device master reports POLLHUP forever: look
        # again for a new client every 50 ms instead.
        wait = None if conn else 50
        if self.hold and self.to_mp:
            left = int(self.hold_left() * 1000) + 1
            wait = left if wait is None else min(wait, left)
        ready = p.poll(wait)
        for fd, ev in ready:
            if fd == self.mp_fd:
                if ev & select.POLLOUT:
                    try:
                        want, turn = self.next_input()
                        n = os.write(fd, self.to_mp[:want])
                        del self.to_mp[:n]
                        if turn and n == want:
                            self.hold_input()
                    except OSError:
                        pass  # it has exited: the read below sees that
                if ev & (select.POLLIN | select.POLLHUP | select.POLLERR):
                    data = self.read(fd)
                    if data is None:
                        self.died()
                    elif data:
                        self.from_mp(data)
            elif fd == self.dev_fd:
                if ev & select.POLLOUT and self.to_dev:
                    try:
                        n = os.write(fd, self.to_dev)
                        del self.to_dev[:n]
                    except OSError:
                        self.to_dev.clear()
                if ev & select.POLLIN:
                    data = self.read(fd)
                    if data:
                        self.from_dev(data)

    @staticmethod
    def read(fd):
        # None at end of file: on a pty master that is EIO once the slave
        # side has closed.
        try:
            data = os.read(fd, 4096)
        except BlockingIOError:
            return b""
        except OSError as e:
            if e.errno == errno.EIO:
                return None
            raise
        return data or None

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for fd in (self.mp_fd, self.dev_fd):
            if fd is not None:
                os.close(fd)
        self.mp_fd = self.dev_fd = None


def main():
    ap = argparse.ArgumentParser(description="Run the MicroPython unix port as a board on a pty.")
    ap.add_argument("--dir", required=True, help="board filesystem root")
    ap.add_argument("--heap", help="heap size, e.g. 96K")
    ap.add_argument("--link", help="also make a symlink to the device here")
    add_micropython_option(ap)
    args = ap.parse_args()

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    board = VBoard(args.dir, args.heap, args.micropython)
    try:
        link_device(board.device, args.link)
        print(board.device, flush=True)
        board.boot()
        while True:
            board.step()
    except BootError as e:
        print("vboard: %s" % e, file=sys.stderr)
        return 1
    finally:
        board.close()
        unlink_device(args.link)
    return 0


if __name__ == "__main__":
    sys.exit(main())
