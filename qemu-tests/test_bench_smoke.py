"""test_bench_smoke.py - `make bench`'s harness (bench/bench.py) in its smoke
mode: tiny sizes, one run of every section (a Linux guest, om nodes, the
raw link, 50 simulated nodes against an agent). Checks that every section
wrote well-formed CSV rows; never how fast anything was (speed is measured
by make bench, not asserted by tests)."""

import csv
import math
import os
import subprocess
import sys
import tempfile

from omtest import ROOT, check

# file: (columns that must be there, column naming the rows, rows that must be there)
EXPECTED = {
    "compute.csv": (["program", "metric", "native", "guest", "om", "om_over_guest"], "program",
                    ["sieve", "nbody", "membw", "gzip"]),
    "syscall_rtt.csv": (["what", "native_us", "node_us", "ratio_to_echo"], "what",
                        ["echo_rtt_median", "getpid", "fcntl_getfd", "write_1B_devnull", "pread_4KiB"]),
    "migration.csv": (["image_mib", "image_pages", "started_s", "mb_per_s", "link_mb_per_s", "ratio"], "image_mib",
                      ["1"]),
    "boot_vs_guest.csv": (["what", "seconds", "ratio_to_guest"], "what", ["om_node_registered", "linux_guest_init"]),
    "boot.csv": (["nic", "registered"], "nic", ["virtio-net-pci"]),
    "agent.csv": (["phase", "nodes", "trips", "p50_us", "p90_us", "p99_us", "agent_cpu_pct"], "phase",
                  ["base", "loaded"]),
    "balance.csv": (["scenario", "policy", "makespan_vs_bound", "mean_completion_s", "moves_per_process"],
                    "policy", ["place", "free-core", "balance"]),
    "moves.csv": (["image_mib", "node_to_node_s", "node_to_node_home_s", "node_to_home_s", "home_to_node_s"],
                  "image_mib", ["1"]),
    "cores.csv": (["kind", "workers", "cores", "node_wall_s", "guest_wall_s", "node_over_guest", "node_scaling",
                   "guest_scaling"], "kind", ["procs", "threads", "futex"]),
}
TEXT = {"program", "metric", "unit", "what", "nic", "accel", "mode", "phase", "scenario", "policy", "kind"}


def test_bench_smoke():
    r = subprocess.run(["make", "-s", "--no-print-directory", "bench-progs"], cwd=ROOT, capture_output=True,
                       text=True, stdin=subprocess.DEVNULL)
    check(r.returncode == 0, "make bench-progs failed:\n" + r.stdout + r.stderr)
    with tempfile.TemporaryDirectory(prefix="om-bench-smoke-") as out:
        r = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "bench.py"), "--smoke", "--out", out],
                           cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
        check(r.returncode == 0, "bench.py --smoke exited %d:\n%s\n%s" % (r.returncode, r.stdout[-3000:],
                                                                         r.stderr[-3000:]))
        for name, (cols, key, want) in EXPECTED.items():
            path = os.path.join(out, name)
            check(os.path.exists(path), "%s was not written" % name)
            with open(path, newline="") as f:
                rows = list(csv.DictReader(f))
            check(rows, "%s has no rows" % name)
            for c in cols:
                check(c in rows[0], "%s lacks column %s" % (name, c))
            have = {row[key] for row in rows}
            for w in want:
                check(w in have, "%s has no row %s=%s (has %s)" % (name, key, w, sorted(have)))
            for row in rows:
                for c, v in row.items():
                    if c in TEXT or v == "":
                        continue
                    try:
                        x = float(v)
                    except ValueError:
                        check(False, "%s: %s=%r is not a number in %s" % (name, c, v, row))
                    check(math.isfinite(x) and x >= 0, "%s: %s=%r in %s" % (name, c, v, row))
        last = [l for l in r.stdout.splitlines() if l.startswith("bench: ")][-1]
        print("INFO bench smoke: %s" % last[len("bench: "):])
