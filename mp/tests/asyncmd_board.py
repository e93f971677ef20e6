# Stand-ins for the board modules asyncmd's examples import (machine.Pin,
# pyb.LED, pyb.Switch) and for aiorepl: task() "types" the lines of `typed`
# at its prompt, evaluating each in `env` (the script's globals) and echoing
# a value that is not None, as aiorepl does; with nothing to type it stays
# for `session_ms` and exits. A script installs them with sys.modules
# (tests/test_asyncmd.py: USE_BOARD).
import sys
import asyncio

pins = {}  # machine.Pin number -> values written (1 on, 0 off)
leds = {}  # pyb.LED number -> toggles


class Pin:
    OUT = 1
    IN = 0

    def __init__(self, n, mode=None):
        self.n = n
        pins.setdefault(n, [])

    def on(self):
        pins[self.n].append(1)

    def off(self):
        pins[self.n].append(0)


class LED:
    def __init__(self, n):
        self.n = n

    def toggle(self):
        leds[self.n] = leds.get(self.n, 0) + 1

    def on(self):
        pass

    def off(self):
        pass


_switch_cb = [None]


class Switch:
    def callback(self, cb):
        _switch_cb[0] = cb

    def value(self):
        return False


def press():
    # The user button is pressed: its interrupt callback runs (pyb calls it
    # with no argument).
    cb = _switch_cb[0]
    if cb is not None:
        cb()


typed = []
env = {}
gap_ms = 30
session_ms = 150
sessions = [0]


async def task(prompt="--> ", shutdown_on_exit=True, exit_cb=None):
    sessions[0] += 1
    print("Starting asyncio REPL")
    if not typed:
        await asyncio.sleep_ms(session_ms)
    while typed:
        await asyncio.sleep_ms(gap_ms)
        line = typed.pop(0)
        print(prompt + line)
        try:
            try:
                r = eval(line, env)
            except SyntaxError:
                exec(line, env)
                continue
        except Exception as e:  # aiorepl prints it and goes on
            sys.print_exception(e)
            continue
        if r is not None:
            print(repr(r))
    if exit_cb is not None:
        exit_cb()
