#!/usr/bin/env python3
"""closed-stdout.py CMD [ARG...] - run CMD with standard output on a pipe whose
reader is already gone (so every write fails with EPIPE, or raises SIGPIPE),
then print how it ended: "status=N" for an exit, "signal=NAME" for a signal,
followed by its standard error. Deterministic: no reader race, unlike `| head`."""
import os
import signal
import subprocess
import sys

r, w = os.pipe()
os.close(r)
# restore_signals (the default) gives the child SIGPIPE's default action, as a shell does.
p = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                   timeout=120)
os.close(w)
if p.returncode < 0:
    print("signal=%s" % signal.Signals(-p.returncode).name)
else:
    print("status=%d" % p.returncode)
sys.stdout.write(p.stderr.decode(errors="replace"))
