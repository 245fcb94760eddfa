"""Instructions and simulated cache misses per event, fresh and in steady state: the
deterministic counterpart of bench_ingest.py's CPU figures, which move by 10-15 % on a
shared machine.

    python tests/benchmarks/bench_cache.py [--steady-after 700] [--batches 150]

Runs the in-process ingest (decode and apply, bench_ingest.py's batches) under Debian's
``valgrind --tool=callgrind --cache-sim=yes`` with a 48 KiB L1 and a 2 MiB last-level
cache (this machine's L1d and L2 per core), counting only the measured batches:
instrumentation is switched on with ``callgrind_control`` once the warm-up is done. Each
phase takes a few minutes (valgrind runs Python about 50 times slower).

Reference in the same run: the first batches of a fresh process, before any window is
full (what bench_ingest.py calls the first 60,000 events).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[2]))  # an installed exporter first

from exporter.workflows.events import decode_events
from tests.benchmarks.bench_ingest import BATCH, FRESH, batch_body, new_tracker

L1 = "--D1=49152,12,64"
LAST_LEVEL = "--LL=2097152,16,64"
POLL_SECONDS = 0.2


def child(warm: int, measured: int, go: Path) -> None:
    """Warm up, say so on stderr, wait for ``go``, apply the measured batches, exit."""
    tracker = new_tracker()
    bodies = [batch_body(n) for n in range(warm, warm + measured)]
    for n in range(warm):
        tracker.apply(decode_events(batch_body(n)).events)
    print("warm", file=sys.stderr, flush=True)
    while not go.exists():
        time.sleep(POLL_SECONDS)
    for body in bodies:
        # a copy: in the cache, as a body just read from its socket
        tracker.apply(decode_events(bytes(bytearray(body))).events)
    print("done", file=sys.stderr, flush=True)
    while True:
        time.sleep(POLL_SECONDS)  # killed once the counts are dumped


def measure(warm: int, measured: int) -> dict[str, int]:
    """Callgrind's totals over ``measured`` batches applied after ``warm`` batches."""
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        out, go, log = folder / "callgrind.out", folder / "go", folder / "stderr"
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            "--cache-sim=yes",
            L1,
            LAST_LEVEL,
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            "--child",
            str(warm),
            str(measured),
            str(go),
        ]
        with log.open("w") as stderr:
            process = subprocess.Popen(command, stderr=stderr)
        try:
            wait_for(log, "warm", process)
            control(process.pid, "-i", "on")
            go.touch()
            wait_for(log, "done", process)
            control(process.pid, "-i", "off")
            control(process.pid, "-d")
        finally:
            process.kill()
            process.wait()
        dumps = sorted(folder.glob("callgrind.out.*"))
        return totals(dumps[0])


def wait_for(log: Path, word: str, process: subprocess.Popen) -> None:
    while word not in log.read_text():
        if process.poll() is not None:
            raise SystemExit(f"the measured process ended: {log.read_text()[-2000:]}")
        time.sleep(POLL_SECONDS)


def control(pid: int, *arguments: str) -> None:
    subprocess.run(["callgrind_control", *arguments, str(pid)], check=True, capture_output=True)


def totals(dump: Path) -> dict[str, int]:
    lines = dump.read_text().splitlines()
    names = next(line for line in lines if line.startswith("events:")).split()[1:]
    counts = next(line for line in lines if line.startswith("totals:")).split()[1:]
    return dict(zip(names, map(int, counts), strict=True))


def report(name: str, counts: dict[str, int], events: int) -> None:
    l1 = (counts["D1mr"] + counts["D1mw"]) / events
    last = (counts["DLmr"] + counts["DLmw"]) / events
    print(
        f"  {name:34} {counts['Ir'] / events:8,.0f} instructions/event, "
        f"L1d misses {l1:6.1f}/event, L2 misses {last:5.1f}/event"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steady-after", type=int, default=700, help="batches of warm-up")
    parser.add_argument("--batches", type=int, default=150, help="batches measured")
    args = parser.parse_args()
    fresh_batches = FRESH // BATCH
    with ThreadPoolExecutor(max_workers=2) as pool:  # one valgrind per CPU
        fresh = pool.submit(measure, 0, fresh_batches)
        steady = pool.submit(measure, args.steady_after, args.batches)
        print(f"callgrind, {L1} {LAST_LEVEL}; batches of {BATCH} events (bench_ingest.py's)")
        report("first 60k (fresh)", fresh.result(), fresh_batches * BATCH)
        report(
            f"{args.batches} batches after {args.steady_after * BATCH // 1000}k",
            steady.result(),
            args.batches * BATCH,
        )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
