"""Run ``nowaki.cli`` under cProfile timing CPU (not wall) time: ``python -m bench.cpu_profiled OUT ARGS…``.

Used by ``bench.hotspots``. A wall-clock profile of a front on a busy machine
is dominated by time spent descheduled inside ``write``/``send`` (waking the
peer hands it the CPU); CPU time shows what the front itself costs. The
profile is written when the front exits (SIGTERM makes it exit normally).
"""

from __future__ import annotations

import cProfile
import sys
import time

from nowaki.cli import main

if __name__ == "__main__":
    out, argv = sys.argv[1], sys.argv[2:]
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    try:
        status = main(argv)
    finally:
        profiler.disable()
        profiler.dump_stats(out)
    sys.exit(status)
