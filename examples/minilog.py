# A stand-in for micropython-lib's logging, for where it is not installed
# (mpremote mip install logging gets the real one). It has the part the
# examples and aioschedule's loops use: Logger(name).debug/info/warning/
# error(msg, *args), writing "date [name] [LEVEL] msg" lines, as
# examples/seed.py's logging.basicConfig format does, to a stream (default
# aiolog.streamlog). Not run by itself: with examples/ on the path,
#
#   from minilog import Logger
#   log = Logger("app")                 # then pass alog=log to the loops

from aiolog import datestr, streamlog


class Logger:
    def __init__(self, name, stream=None):
        self.name = name
        self.stream = stream or streamlog

    def _log(self, level, msg, args):
        if args:
            msg = msg % args
        self.stream.write("%s [%s] [%s] %s\n" % (datestr(), self.name, level, msg))

    def debug(self, msg, *args):
        self._log("DEBUG", msg, args)

    def info(self, msg, *args):
        self._log("INFO", msg, args)

    def warning(self, msg, *args):
        self._log("WARNING", msg, args)

    def error(self, msg, *args):
        self._log("ERROR", msg, args)
