"""OpenMP settings, applied before the compiled extension (and with it libgomp) loads.

The suffix sort (libsais) runs OpenMP threads. libgomp's default lets a waiting thread spin,
which on a machine busier than its cores made a 2-thread build 4x slower than one thread
(measured 8.7 s against 2.0 s on 10^7 bytes; 2.0 s with passive waiting). libgomp reads the
policy once, when it loads, so it is set here; a value the user set wins.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
