#!/usr/bin/env python3
"""Runs a command and reports the CPU seconds its `vaxtrace serve` children and the PostgreSQL
server processes used meanwhile, so a benchmark's cost splits into application and database.

    python3 scripts/cpu_split.py -- target/release/vaxtrace bench verify --postgres-url "$PG_URL"

Samples /proc every 0.2 s (Linux only); a process that exits between samples loses at most its
last 0.2 s. Processes already running (a server started beforehand, PostgreSQL) count only from
the start; each PostgreSQL cluster is reported apart, by data directory, with WAL replay (startup
and walreceiver processes) apart from the rest.
"""

import os
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def processes():
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().split(b"\0")
        except OSError:
            continue
        # Fields after the parenthesised command name; utime and stime are the 14th and 15th.
        rest = stat.rsplit(")", 1)[1].split()
        comm = stat.split("(", 1)[1].rsplit(")", 1)[0]
        yield int(pid), comm, cmdline, (int(rest[11]) + int(rest[12])) / TICK, int(rest[1])


def postmasters():
    """PID → data directory of each running PostgreSQL server (its -D argument)."""
    out = {}
    for pid, comm, cmdline, _, _ in processes():
        if b"-D" in cmdline and cmdline[0].endswith(b"postgres"):
            out[pid] = cmdline[cmdline.index(b"-D") + 1].decode(errors="replace")
    return out


def role(comm, cmdline, pid, ppid, servers):
    if pid in servers:
        return f"postgres {servers[pid]}: postmaster"
    if ppid in servers:
        # Child processes carry their job in the process title: "postgres: walreceiver …".
        title = b" ".join(cmdline).decode(errors="replace")
        job = "replay" if ("startup" in title or "walreceiver" in title) else "queries and the rest"
        return f"postgres {servers[ppid]}: {job}"
    args = [a.decode(errors="replace") for a in cmdline]
    if args and args[0].endswith("vaxtrace") and "serve" in args:
        return "vaxtrace serve"
    if args and args[0].endswith("vaxtrace"):
        return "vaxtrace (other: setup, load generator)"
    if comm == "wrk":
        return "wrk (load generator)"
    return None


def main():
    argv = sys.argv[1:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    servers = postmasters()
    start = {pid: cpu for pid, _, _, cpu, _ in processes()}
    seen = {}
    began = time.monotonic()
    child = subprocess.Popen(argv)
    while child.poll() is None:
        for pid, comm, cmd, cpu, ppid in processes():
            r = role(comm, cmd, pid, ppid, servers)
            if r is not None:
                seen[pid] = (r, cpu - start.get(pid, 0.0))
        time.sleep(0.2)
    wall = time.monotonic() - began
    totals = {}
    for r, cpu in seen.values():
        totals[r] = totals.get(r, 0.0) + cpu
    print(f"\ncpu_split: wall {wall:.1f} s", file=sys.stderr)
    for r, cpu in sorted(totals.items()):
        print(f"cpu_split: {r}: {cpu:.1f} CPU s", file=sys.stderr)
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())
