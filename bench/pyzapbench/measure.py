"""Running child processes and summarising samples.

Wall time is ``time.perf_counter()`` around ``fork/exec`` + ``os.wait4``.
Peak memory is the ``ru_maxrss`` that ``wait4`` reports for the child: on
Linux that is the larger of the child's own peak RSS and the peak RSS of every
descendant it waited for (``RUSAGE_BOTH`` semantics), i.e. the peak of the
*largest single process* in the build's process tree -- the same number
``/usr/bin/time -v`` prints as "Maximum resident set size".  It is not the sum
of processes that ran at the same time.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Run:
    argv: list
    rc: int
    seconds: float
    maxrss_kb: int
    stdout: str = ""
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.rc == 0

    def error_line(self) -> str:
        """The most telling line of a failure: a ``… error: …`` line, else the last line."""
        lines = [l.strip() for l in (self.stderr + "\n" + self.stdout).splitlines() if l.strip()]
        if not lines:
            return f"exit status {self.rc}"
        for l in lines:
            low = l.lower()
            if low.startswith(("error", "pyzap: error")) or ": error:" in low:
                return l[:240]
        return lines[-1][:240]


def run(argv, env=None, cwd=None, timeout=None, capture=True) -> Run:
    """Run ``argv`` to completion; wall time, peak RSS (KiB), exit status, output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen(
                [str(a) for a in argv],
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out if capture else subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,  # own process group, so a timeout can end the whole tree
            )
        except OSError as e:
            return Run(list(argv), 127, time.perf_counter() - t0, 0, "", f"error: {e}")
        timer = None
        killed = []
        if timeout is not None:  # a timer thread, so the wait itself stays a blocking wait4
            def kill():
                killed.append(True)
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            timer = threading.Timer(timeout, kill)
            timer.start()
        _, status, rusage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        if timer is not None:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            list(argv),
            proc.returncode,
            seconds,
            rusage.ru_maxrss,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace") + (f"\nerror: timed out after {timeout} s" if killed else ""),
        )


@dataclass
class Stat:
    """Median with min-max over n samples."""

    samples: list = field(default_factory=list)

    def add(self, value):
        self.samples.append(value)

    @property
    def n(self):
        return len(self.samples)

    @property
    def median(self):
        return statistics.median(self.samples) if self.samples else None

    @property
    def min(self):
        return min(self.samples) if self.samples else None

    @property
    def max(self):
        return max(self.samples) if self.samples else None

    def to_json(self):
        return {"median": self.median, "min": self.min, "max": self.max, "n": self.n, "samples": self.samples}
