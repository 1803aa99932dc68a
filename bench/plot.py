#!/usr/bin/env python3
"""Plots the takeover distributions of a vigil-bench report: usage plot.py REPORT.json OUT.png"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

report = json.load(open(sys.argv[1]))
series = report["takeover"]
modes = sorted({s["mode"] for s in series}, key=lambda m: -float(m.split()[-1]))
fig, axes = plt.subplots(1, len(modes), figsize=(5 * len(modes), 4.5), squeeze=False)
colors = {"vigil": "#2a7ab9", "keepalived": "#d9822b"}
for axis, mode in zip(axes[0], modes):
    data, labels = [], []
    for implementation in ("vigil", "keepalived"):
        for s in series:
            if s["mode"] == mode and s["implementation"] == implementation:
                values = [t["killToAddress"] for t in s["trials"] if t.get("killToAddress") is not None]
                data.append(values)
                labels.append(implementation)
                mdi = s["masterDownInterval"]
    parts = axis.boxplot(data, labels=labels, patch_artist=True, widths=0.5)
    for patch, label in zip(parts["boxes"], labels):
        patch.set_facecolor(colors[label])
        patch.set_alpha(0.35)
    for index, values in enumerate(data, start=1):
        axis.scatter([index + (i % 7 - 3) * 0.03 for i in range(len(values))], values, s=12,
                     color=colors[labels[index - 1]], zorder=3)
    axis.axhline(mdi, color="grey", linestyle="--", linewidth=1)
    axis.text(0.55, mdi, " Master_Down_Interval", va="bottom", fontsize=8, color="grey")
    axis.set_title(mode)
    axis.set_ylabel("kill -9 to VIP on the backup (s)")
fig.suptitle("Takeover after kill -9 of the master: Vigil and keepalived 2.2.7, same lab")
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=110)
