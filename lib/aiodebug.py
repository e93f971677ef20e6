# aiodebug: the extra lines of aioctl.status(debug=True).
#
# Imported by the first status in debug mode only.

import aioctl
from aioctl import NAME, ARGS, KWARGS, STATE, SINCE, DONE_AT, EXC, NEW


def show(t, indent):
    name = t[NAME]
    sch = aioctl.sched
    s = sch and sch._active.get(name)
    if s:
        every = s[3]
        x = sch._extras.get(name)
        kind = "every " + aioctl.duration(every / 1000) if every else "once"
        if x and x[0]:
            kind = "calendar"
        print("%s┗━► schedule: %s, runs: %d, skipped: %d" % (indent, kind, s[5], s[6]))
        import aiocron

        runs = []
        for tm in aiocron.next_runs(name, 3):
            runs.append("%d-%02d-%02d %02d:%02d:%02d" % tm[:6])
        print("%s┗━► next runs: %s" % (indent, ", ".join(runs)))
    print("%s┗━► args: %r" % (indent, t[ARGS]))
    print("%s┗━► kwargs: %r" % (indent, t[KWARGS]))
    if t[DONE_AT] is not None and t[STATE] != NEW:
        print("%s┗━► runtime: %s" % (indent, aioctl.duration(t[DONE_AT] - t[SINCE])))
    if t[EXC] is not None:
        print("%s┗━► traceback:" % indent)
        aioctl._traceback(t, indent + "      ")
