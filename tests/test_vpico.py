# Tests of tools/vpico.py, the virtual Raspberry Pi Pico: MicroPython's real
# RPI_PICO firmware in the rp2040js emulator (Node.js). Run as a command like
# `micropython`, as a Python class that boots once and runs many scripts, and
# as a serial device for stock mpremote and tools/deploy.py.

import os
import select
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import MPREMOTE, ROOT, tool_module

vpico = tool_module("vpico")

VPICO = [sys.executable, os.path.join(ROOT, "tools", "vpico.py")]


def missing():
    try:
        vpico.board_files()
    except vpico.PicoSetupError as e:
        return str(e)
    for cmd in ("node", "npm"):
        if not shutil.which(cmd):
            return "%s not found on PATH" % cmd
    try:
        import littlefs  # noqa: F401
    except ImportError:
        return "littlefs-python not installed"
    return None


# The pico tier's tests (counted in its summary line).
pytestmark = [pytest.mark.skipif(bool(missing()), reason="virtual Pico: %s" % missing()), pytest.mark.board]


def vrun(tmp_path, code, *args, env=None, timeout=60):
    script = tmp_path / "prog.py"
    script.write_text(code)
    return subprocess.run(
        VPICO + ["run"] + list(args) + [str(script), "a1", "a2"],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ, **(env or {})),
    )


def children(pid):
    with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
        return [int(c) for c in f.read().split()]


def test_run_like_micropython(tmp_path):
    p = vrun(
        tmp_path,
        "import sys, time\n"
        "print(sys.platform, sys.argv[1:])\n"
        "t = time.ticks_ms()\n"
        "time.sleep(2)\n"  # emulated time: costs no real time
        "print(time.ticks_diff(time.ticks_ms(), t) >= 2000)\n",
    )
    assert (p.returncode, p.stdout, p.stderr) == (0, "rp2 ['a1', 'a2']\nTrue\n", "")


def test_exit_status_and_traceback(tmp_path):
    p = vrun(tmp_path, "def f():\n    raise ValueError('boom')\nprint('before')\nf()\n")
    assert p.returncode == 1 and p.stdout == "before\n"
    assert p.stderr == (
        "Traceback (most recent call last):\n"
        '  File "%s", line 4, in <module>\n'
        '  File "%s", line 2, in f\n'
        "ValueError: boom\n" % ((str(tmp_path / "prog.py"),) * 2)
    )
    p = vrun(tmp_path, "import sys\nprint('x')\nsys.exit(5)\n")
    assert (p.returncode, p.stdout, p.stderr) == (5, "x\n", "")
    p = vrun(tmp_path, "import gc\ngc.collect()\nprint(gc.mem_free() // 1024)\n", "-X", "heapsize=96K")
    assert p.returncode == 0 and 90 <= int(p.stdout) <= 96, p


def test_pico_class_soft_reset_and_restart(tmp_path):
    image = str(tmp_path / "flash.img")
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "helper.py").write_text("X = 42\n")
    with vpico.Pico([str(lib)], flash=image) as p:
        out, err, rc = p.run("import helper\nwith open('/data.txt', 'w') as f:\n    f.write('kept')\ny = 1\n")
        assert (out, err, rc) == ("", "", 0)
        # Each run starts from a soft reset: globals gone, files kept.
        out, err, rc = p.run("import os, helper\nprint('y' in globals(), helper.X, open('/data.txt').read())\n")
        assert (out, err, rc) == ("False 42 kept\n", "", 0)
        with pytest.raises(vpico.PicoTimeout):
            p.run("while True:\n    pass\n", timeout=2)
        assert p.run("print(1 + 1)\n") == ("2\n", "", 0)  # usable after the timeout

        class Broken:  # a caller's error in the middle of a run
            def write(self, data):
                raise RuntimeError("reader gone")

        with pytest.raises(RuntimeError):
            p.run("print('x')\nwhile True:\n    pass\n", out=Broken())
        assert p.run("print(2 + 2)\n") == ("4\n", "", 0)
        p.set_rtc(1796534033)  # 2026-12-06 05:13:53 UTC; the board starts at 2021
        out, err, rc = p.run("import time\nprint(time.time() - 1796534033, time.localtime()[:3])\n")
        assert rc == 0 and int(out.split()[0]) in (0, 1) and out.endswith("(2026, 12, 6)\n"), out
    # A power cycle: a new emulator on the same image.
    p = vrun(tmp_path, "import os\nprint(open('/data.txt').read(), sorted(os.listdir('/lib')))\n", "--flash", image)
    assert (p.returncode, p.stdout) == (0, "kept ['helper.py']\n"), p.stderr


def test_machine_reset_boots_again(tmp_path):
    with vpico.Pico() as p:
        with pytest.raises(vpico.PicoReset):
            p.run("import machine\nmachine.WDT(timeout=200)\nwhile True:\n    pass\n")
        assert p.run("print(3)\n") == ("3\n", "", 0)


def test_bad_files(tmp_path):
    p = vrun(tmp_path, "print(1)\n", env={"PICO_FIRMWARE": str(tmp_path / "nope.bin")})
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.startswith("vpico: ") and "nope.bin not found" in p.stderr and p.stderr.count("\n") == 1
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\0" * 4096)
    p = vrun(tmp_path, "print(1)\n", env={"PICO_BOOTROM": str(bad)})
    assert p.returncode == 2 and "bad.bin: a boot ROM is 16384 bytes" in p.stderr, p.stderr
    # A firmware that never reaches its REPL: a bounded wait, then status 3.
    with open(vpico.board_files()[0], "rb") as f:
        fw = bytearray(f.read())
    fw[0x200:0x2000] = b"\0" * (0x2000 - 0x200)
    bad.write_bytes(fw)
    start = time.monotonic()
    p = vrun(tmp_path, "print(1)\n", "--timeout", "4", env={"PICO_FIRMWARE": str(bad)})
    assert p.returncode == 3 and p.stderr.startswith("vpico: "), p.stderr
    assert time.monotonic() - start < 10


def test_timeout_and_signals_leave_no_emulator(tmp_path):
    p = vrun(tmp_path, "print('spin')\nwhile True:\n    pass\n", "--timeout", "3")
    assert p.returncode == 124 and p.stdout == "spin\n" and "timed out after 3 s" in p.stderr
    script = tmp_path / "spin.py"
    script.write_text("with open('/f.txt', 'w') as f:\n    f.write('on flash')\nprint('written')\nwhile True:\n    pass\n")
    image = tmp_path / "flash.img"
    for how in (signal.SIGTERM, signal.SIGKILL):
        proc = subprocess.Popen(VPICO + ["run", "--flash", str(image), str(script)], stdout=subprocess.PIPE)
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        assert ready and proc.stdout.readline() == b"written\n"
        nodes = children(proc.pid)
        assert len(nodes) == 1
        proc.send_signal(how)
        assert proc.wait(10) == (130 if how == signal.SIGTERM else -signal.SIGKILL)
        # Killed outright, vpico.py cannot stop the emulator: it ends by
        # itself when its input closes.
        end = time.monotonic() + 10
        while os.path.exists("/proc/%d" % nodes[0]) and time.monotonic() < end:
            time.sleep(0.1)
        assert not os.path.exists("/proc/%d" % nodes[0])
        # What the program wrote is in the image.
        p = vrun(tmp_path, "print(open('/f.txt').read())\n", "--flash", str(image))
        assert p.stdout == "on flash\n"
        image.unlink()


def test_emulator_killed(tmp_path):
    with vpico.Pico() as p:
        os.kill(p.emu.proc.pid, signal.SIGKILL)
        with pytest.raises(vpico.PicoDied, match="killed"):
            p.run("print(1)\n")


@pytest.mark.skipif(not MPREMOTE, reason="mpremote not in the venv")
class TestServe:
    @pytest.fixture(scope="class")
    def dev(self, tmp_path_factory):
        link = str(tmp_path_factory.mktemp("serve") / "pico.dev")
        proc = subprocess.Popen(VPICO + ["serve", "--link", link], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        line = proc.stdout.readline().decode().strip() if ready else ""
        if not line.startswith("/dev/"):
            proc.kill()
            raise AssertionError("serve printed no device: %r %s" % (line, proc.stderr.read()))
        yield link
        proc.terminate()
        assert proc.wait(10) == 0, proc.stderr.read()
        assert not os.path.lexists(link)

    @staticmethod
    def mpremote(dev, *args, timeout=30, resume=False):
        cmd = [MPREMOTE, "connect", dev] + (["resume"] if resume else []) + list(args)
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        assert p.returncode == 0, "%s: %s%s" % (args, p.stdout, p.stderr)
        return p.stdout

    def test_exec_fs_and_soft_reset(self, dev, tmp_path):
        assert self.mpremote(dev, "exec", "import sys; x = 1; print(sys.platform)").strip() == "rp2"
        assert self.mpremote(dev, "exec", "print('x' in globals())", resume=True).strip() == "True"
        assert self.mpremote(dev, "exec", "print('x' in globals())").strip() == "False"  # soft reset
        data = bytes(range(256)) * 8 + b"\r\n\x03\x04 end"
        (tmp_path / "d.bin").write_bytes(data)
        self.mpremote(dev, "fs", "mkdir", ":/d", "+", "fs", "cp", str(tmp_path / "d.bin"), ":/d/d.bin")
        self.mpremote(dev, "fs", "cp", ":/d/d.bin", str(tmp_path / "back.bin"))
        assert (tmp_path / "back.bin").read_bytes() == data
        assert "%d d.bin" % len(data) in self.mpremote(dev, "fs", "ls", ":/d")
        self.mpremote(dev, "fs", "rm", ":/d/d.bin", "+", "fs", "rmdir", ":/d")

    def test_mount(self, dev, tmp_path):
        # The board waits for the host with a timeout here: serve keeps
        # emulated waits in real time, or it would give up at once.
        (tmp_path / "hostmod.py").write_text("print('from the host')\n")
        assert self.mpremote(dev, "mount", str(tmp_path), "exec", "import hostmod").endswith("from the host\n")

    def test_client_killed_mid_transfer(self, dev, tmp_path):
        (tmp_path / "big.bin").write_bytes(os.urandom(20000))
        p = subprocess.Popen([MPREMOTE, "connect", dev, "fs", "cp", str(tmp_path / "big.bin"), ":big.bin"])
        time.sleep(1.5)
        p.send_signal(signal.SIGKILL)
        p.wait()
        assert self.mpremote(dev, "exec", "print(6 * 7)").strip() == "42"

    def test_mip_install_then_import(self, dev):
        assert "Done" in self.mpremote(dev, "mip", "install", "./package.json", timeout=60)
        out = self.mpremote(dev, "exec", "import aioctl; print(aioctl.__file__)")
        assert out.strip() == "/lib/aioctl.py"

    def test_deploy(self, dev, tmp_path):
        p = subprocess.run(
            [sys.executable, os.path.join(ROOT, "tools", "deploy.py"), "--device", dev, "--build", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert p.returncode == 0 and "armv6m" in p.stdout, p.stdout + p.stderr
        out = self.mpremote(dev, "exec", "import aioctl; print(aioctl.__file__)")
        assert out.strip() == "/lib/aioctl.mpy"

    def test_repl(self, dev):
        # mpremote's repl wants a terminal: give it a pty.
        fd, slave = os.openpty()
        p = subprocess.Popen([MPREMOTE, "connect", dev, "repl"], stdin=slave, stdout=slave, stderr=slave)
        os.close(slave)
        # What to type, then what must show (None: give it half a second).
        dialogue = [
            (b"", "Ctrl-]"),
            (b"", None),  # till mpremote has put its terminal in raw mode
            (b"\r", ">>> "),
            (b"y = 6 * 7; print(y)\r", "42\r\n>>> "),
            (b"while True: pass\r\r", None),
            (b"\x03", "KeyboardInterrupt"),
            (b"\x04", "soft reboot"),  # soft reset, done by the firmware
            (b"'y' in globals()\r", "False"),
            (b"\x1d", None),  # Ctrl-]: leave mpremote
        ]
        try:
            for keys, want in dialogue:
                os.write(fd, keys)
                if want is None:
                    time.sleep(0.5)
                    continue
                seen = b""
                end = time.monotonic() + 10
                while want.encode() not in seen:
                    ready, _, _ = select.select([fd], [], [], max(0, end - time.monotonic()))
                    assert ready, "no %r in %r" % (want, seen)
                    seen += os.read(fd, 4096)
            assert p.wait(10) == 0
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            os.close(fd)
        assert self.mpremote(dev, "exec", "print(3)", resume=True).strip() == "3"
