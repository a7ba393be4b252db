"""A reliability diagram as a self-contained SVG (no plotting library needed)."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


def reliability_svg(curves: Mapping[str, Mapping[str, Any]], title: str = "可靠性图（校准曲线）",
                    size: int = 420, min_count: int = 20) -> str:
    """Mean predicted probability (x) against the observed rate (y) per bin, one curve per
    entry of ``curves`` (each a ``models.rerankers.metrics.reliability`` result), the diagonal of
    perfect calibration, and each curve's share of rows per bin as bars along the bottom. Bins
    with fewer than ``min_count`` rows are drawn as hollow points off the line: their observed
    rate is mostly noise."""
    m, plot = 56, size - 2 * 56
    top = 40
    height = top + plot + 70 + 18 * (len(curves) + 1)

    def x(v: float) -> float:
        return m + v * plot

    def y(v: float) -> float:
        return top + (1 - v) * plot

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{height}" '
             f'viewBox="0 0 {size} {height}" font-family="sans-serif" font-size="12">',
             '<rect width="100%" height="100%" fill="white"/>',
             f'<text x="{size / 2}" y="22" text-anchor="middle" font-size="14">{escape(title)}</text>',
             f'<rect x="{m}" y="{top}" width="{plot}" height="{plot}" fill="none" stroke="#444"/>']
    for t in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        parts.append(f'<line x1="{x(t):.1f}" y1="{top}" x2="{x(t):.1f}" y2="{top + plot}" stroke="#eee"/>')
        parts.append(f'<line x1="{m}" y1="{y(t):.1f}" x2="{m + plot}" y2="{y(t):.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{x(t):.1f}" y="{top + plot + 16}" text-anchor="middle">{t:.1f}</text>')
        parts.append(f'<text x="{m - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{t:.1f}</text>')
    parts.append(f'<line x1="{x(0)}" y1="{y(0)}" x2="{x(1)}" y2="{y(1)}" stroke="#999" stroke-dasharray="4 3"/>')
    parts.append(f'<text x="{size / 2}" y="{top + plot + 34}" text-anchor="middle">平均预测概率</text>')
    parts.append(f'<text x="16" y="{top + plot / 2}" text-anchor="middle" '
                 f'transform="rotate(-90 16 {top + plot / 2})">实际正向结果比例</text>')
    legend_y = top + plot + 56
    for i, (name, rel) in enumerate(curves.items()):
        colour = COLOURS[i % len(COLOURS)]
        bins = [b for b in rel["bins"] if b["count"] >= min_count]
        sparse = [b for b in rel["bins"] if 0 < b["count"] < min_count]
        total = sum(b["count"] for b in rel["bins"]) or 1
        for b in rel["bins"]:  # bin shares as thin bars at the bottom of the plot
            h = 0.25 * plot * b["count"] / total
            w = (b["hi"] - b["lo"]) * plot / max(len(curves), 1)
            parts.append(f'<rect x="{x(b["lo"]) + i * w:.1f}" y="{top + plot - h:.1f}" width="{w:.1f}" '
                         f'height="{h:.1f}" fill="{colour}" fill-opacity="0.18"/>')
        pts = " ".join(f'{x(b["mean_predicted"]):.1f},{y(b["observed"]):.1f}' for b in bins)
        if pts:
            parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for b in bins:
            parts.append(f'<circle cx="{x(b["mean_predicted"]):.1f}" cy="{y(b["observed"]):.1f}" r="3" fill="{colour}"/>')
        for b in sparse:
            parts.append(f'<circle cx="{x(b["mean_predicted"]):.1f}" cy="{y(b["observed"]):.1f}" r="3" fill="white" '
                         f'stroke="{colour}"/>')
        ece = rel.get("ece")
        label = f"{name}（ECE {ece:.3f}，{rel.get('rows', total)} 对）" if ece is not None else name
        ly = legend_y + 18 * i
        parts.append(f'<line x1="{m}" y1="{ly - 4}" x2="{m + 24}" y2="{ly - 4}" stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<text x="{m + 30}" y="{ly}">{escape(label)}</text>')
    note_y = legend_y + 18 * len(curves)
    parts.append(f'<text x="{m}" y="{note_y}" fill="#666" font-size="11">空心点：该区间少于 {min_count} 对，'
                 f'不连线；底部浅色条为各区间样本占比</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
