#!/usr/bin/env python3
"""Plots the scaling curve of a vigil-bench report: usage plot-curve.py REPORT.json OUT.png"""
import json
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

report = json.load(open(sys.argv[1]))
colors = {"vigil": "#2a7ab9", "keepalived": "#d9822b"}
panels = [
    ("cpuSecondsPerMinute", "CPU s per minute"),
    ("residentMiB", "RSS MiB (sum of processes)"),
    ("proportionalMiB", "PSS MiB (sum of processes)"),
]
fig, axes = plt.subplots(1, len(panels), figsize=(15, 4.5))
for axis, (key, title) in zip(axes, panels):
    for implementation in ("vigil", "keepalived"):
        points = sorted(
            (r["instances"], r[key]) for r in report["curve"] if r["implementation"] == implementation
        )
        if not points:
            continue
        xs = [count for count, _ in points]
        axis.plot(xs, [statistics.median(v) for _, v in points], marker="o", color=colors[implementation],
                  label=implementation)
        axis.fill_between(xs, [min(v) for _, v in points], [max(v) for _, v in points],
                          color=colors[implementation], alpha=0.2)
    axis.set_title(title)
    axis.set_xlabel("VRRPv3 IPv6 instances, all MASTER, advert_int 1")
    axis.grid(alpha=0.3)
    axis.legend()
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=110)
