# Host-side helpers shared by the test files (conftest.py has the fixtures
# and the interpreter tiers). Test files import from here and from conftest,
# never from each other.

from conftest import hosttools

# Scheduling jitter allowed in the timing tests. Starts are 0-1 ms late on a
# quiet machine; a loaded CI machine adds more. The tests are built so that
# a wrong rule (drift, a burst, a stacked run) misses by far more than this.
TOL = 20  # ms: a start 11 ms late was seen with two CPU-bound processes beside the suite

# A date and time as status() prints it.
DATE = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"

# text without ANSI escape codes (status() colours, a REPL's cursor moves):
# the tools' one stripper
plain = hosttools.strip_ansi


def ints(line):
    """The numbers after a line's first word ("tag 1 2 3" -> [1, 2, 3])."""
    return [int(x) for x in line.split()[1:]]


def sim(mp, body):
    """Runs body (the indented lines of `async def main()`) on the simulated
    clock, mp/tests/simclock.py; its output lines."""
    return mp.run("from simclock import *\n\nasync def main():\n" + body + "\nasyncio.run(main())\n").splitlines()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def check_status(out):
    # what examples/board_check.py prints on a board that has the library
    assert "● " in out, out
    assert "result: 42" in out, out
    assert "ValueError" in out, out
