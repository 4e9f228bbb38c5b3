"""The big Android acquisition: an AndroidQF folder whose files.json lists N files, and a quick
unmask-only measurement of it.

``bench/bench_android.py`` uses :func:`big_acquisition` for the peak-memory comparison with MVT and
writes the report (``bench/out/android.md``, copied to ``docs/android-bench.md``). Usage here:
``python -m bench.android [--files N]`` prints one JSON line (unmask's wall time and peak RSS).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from tests.builders.android import AndroidQFBuilder

from bench.measure import measure

OUT = Path(__file__).resolve().parent / "out"


def big_acquisition(root: Path, files: int) -> Path:
    b = AndroidQFBuilder()
    folder = b.write_folder(root)
    with (folder / "files.json").open("w") as f:
        f.write("[")
        for i in range(files):
            f.write(("," if i else "") + json.dumps({"path": f"/sdcard/DCIM/{i:07d}.jpg", "size": 1234, "mode": "-rw-rw----",
                                                      "user_id": 10123, "group_id": 1015, "changed_time": 1714640000,
                                                      "modified_time": 1714640000, "access_time": 1714640000,
                                                      "context": "u:object_r:media_rw_data_file:s0", "sha256": "ab" * 32}))
        f.write("]")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1_000_000)
    args = parser.parse_args()
    work = OUT / "android"
    work.mkdir(parents=True, exist_ok=True)
    acq = big_acquisition(work / "big", args.files)
    size = (acq / "files.json").stat().st_size
    started = time.perf_counter()
    cmd = [sys.executable, "-m", "unmask", "check-androidqf", str(acq), "-q", "--no-screen", "-o", str(work / f"out-{time.time_ns()}")]
    m = measure(cmd, log_prefix=work / "unmask")
    print(json.dumps({"files": args.files, "files_json_mb": round(size / 1e6, 1), "seconds": round(time.perf_counter() - started, 1),
                      "peak_mb": round(m.peak_mb, 1), "wall": round(m.wall, 1), "rc": m.rc}))


if __name__ == "__main__":
    main()
