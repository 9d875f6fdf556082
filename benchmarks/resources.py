"""Declared SLURM resources vs what each job really used (issue 21: the profile checked against the runs).

Plans the workflow with Snakemake (dry run, ``--forceall``) under a profile and config files, reads each
job's declared ``mem_mb`` and ``runtime`` (minutes) and its benchmark TSV from a finished run
(``results/benchmarks/<job>.tsv``: wall seconds and ``max_rss`` MB), and prints one row per job with the
ratios used / declared. A ratio above 1 means the job would be killed by SLURM at that scale: the script
exits 1. Jobs without a benchmark file are listed as "not run".

Measured numbers are only as representative as the run they come from: a default-config CPU run says
nothing about paper scale on a GPU (state which run you used).

Usage: ``python benchmarks/resources.py [--profile workflow/profiles/slurm] [--configfile F] ...
[--results results] [TARGET]``
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def planned_jobs(target: str, profile: str, configfiles: list[str]) -> list[dict]:
    cmd = [sys.executable, "-m", "snakemake", "-n", "--forceall", "-c1", "--profile", profile, target]
    if configfiles:
        cmd += ["--configfile", *configfiles]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=True).stdout
    jobs = []
    for block in re.split(r"\n(?=rule |localrule )", out):
        m = re.match(r"(?:local)?rule (\w+):", block)
        bench = re.search(r"benchmark: (\S+)", block)
        res = re.search(r"resources: (.*)", block)
        if not (m and res):
            continue
        kv = dict(p.split("=", 1) for p in res.group(1).split(", ") if "=" in p)
        jobs.append({"rule": m.group(1), "benchmark": bench.group(1) if bench else None,
                     "mem_mb": float(kv.get("mem_mb", "nan")), "runtime_min": float(kv.get("runtime", "nan")),
                     "gpu": kv.get("gpu", "")})
    return jobs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("target", nargs="?", default="all")
    ap.add_argument("--profile", default="workflow/profiles/slurm")
    ap.add_argument("--configfile", action="append", default=[], help="config file (repeat for several)")
    ap.add_argument("--results", default="results", help="folder of the finished run (its benchmarks/)")
    args = ap.parse_args()
    rows = []
    for job in planned_jobs(args.target, args.profile, args.configfile):
        tsv = job["benchmark"] and (REPO / args.results / Path(job["benchmark"]).relative_to("results"))
        if not tsv or not tsv.exists():
            rows.append({**job, "used_s": None, "max_rss_mb": None, "mem_ratio": None, "time_ratio": None})
            continue
        b = pd.read_csv(tsv, sep="\t").iloc[-1]
        rows.append({**job, "used_s": float(b["s"]), "max_rss_mb": float(b["max_rss"]),
                     "mem_ratio": float(b["max_rss"]) / job["mem_mb"],
                     "time_ratio": float(b["s"]) / 60.0 / job["runtime_min"]})
    df = pd.DataFrame(rows).drop_duplicates(subset=["benchmark"])
    ran = df.dropna(subset=["mem_ratio"])
    print(f"profile {args.profile}, config {args.configfile or ['config/config.yaml']}, run {args.results}: "
          f"{len(ran)} jobs measured, {len(df) - len(ran)} not run")
    print(ran.sort_values("mem_ratio", ascending=False)[
        ["benchmark", "gpu", "mem_mb", "max_rss_mb", "mem_ratio", "runtime_min", "used_s", "time_ratio"]
    ].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    over = ran[(ran["mem_ratio"] > 1) | (ran["time_ratio"] > 1)]
    print(f"max memory ratio {ran['mem_ratio'].max():.3g}, max time ratio {ran['time_ratio'].max():.3g}; "
          f"{len(over)} jobs over their declared resources")
    return 1 if len(over) else 0


if __name__ == "__main__":
    sys.exit(main())
