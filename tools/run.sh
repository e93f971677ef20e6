#!/bin/sh
# Sets up .venv with the pinned host tools (once), then:
#   tools/run.sh demo    runs examples/demo.py on the MicroPython unix port
#   tools/run.sh test    runs the whole test suite (on lib/*.py and on .mpy)
#   tools/run.sh bench   runs the scheduler benchmark
#   tools/run.sh mp script.py [args]   runs your script on the unix port
#   tools/run.sh repl    the unix port's REPL, with the library importable
# mp and repl put lib/ on the module path, then .frozen (the port's own
# asyncio: MICROPYPATH=lib alone loses it), then any MICROPYPATH you set,
# then ~/.micropython/lib, where `micropython -m mip install` puts packages.
set -e
CALLER=$(pwd)  # mp and repl run from here, so your script's path is yours
cd "$(dirname "$0")/.."
ROOT=$(pwd)
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
    mp|repl)
        [ "$1" = mp ] && [ $# -lt 2 ] && { echo "usage: tools/run.sh mp script.py [args]" >&2; exit 2; }
        shift
        MICROPYPATH="$ROOT/lib:.frozen:${MICROPYPATH:+$MICROPYPATH:}$HOME/.micropython/lib"
        export MICROPYPATH
        cd "$CALLER"
        exec "$ROOT/$VENV/bin/micropython" "$@" ;;
    bench)
        shift
        exec "$VENV/bin/python" tools/bench.py "$@" ;;
    *)
        echo "usage: tools/run.sh demo|test|bench|mp script.py [args]|repl" >&2
        exit 2 ;;
esac
