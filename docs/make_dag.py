"""Draw the pipeline's rule graph as a PNG without graphviz (docs/dag.png).

Reads Snakemake's ``--rulegraph`` DOT output and lays it out in layers (longest path from the
inputs, rules pulled down next to the rules that need them, each row ordered by the mean
position of the rules it is connected to), then draws it with matplotlib. Only the standard
library, numpy and matplotlib are needed (graphviz ``dot`` is not, networkx is not).

Regenerate from the repository root::

    .venv/bin/python docs/make_dag.py                      # runs snakemake --rulegraph itself
    .venv/bin/snakemake --rulegraph --configfile config/config.yaml -n \\
        | .venv/bin/python docs/make_dag.py --dot -        # or read the DOT text from stdin

The target rule ``all`` (which only collects every stage's outputs) is left out unless
``--with-all`` is given.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import hsv_to_rgb  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NODE = re.compile(r'^\s*(\d+)\s*\[\s*label\s*=\s*"([^"]+)"(?:.*?color\s*=\s*"([^"]+)")?', re.M)
EDGE = re.compile(r"^\s*(\d+)\s*->\s*(\d+)", re.M)


def rulegraph_dot(configfile: str) -> str:
    """Snakemake's rule graph of ``configfile`` as DOT text (a dry run; nothing is executed)."""
    cmd = [sys.executable, "-m", "snakemake", "--rulegraph", "--configfile", configfile, "-n"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return out


def parse_dot(text: str) -> tuple[dict[str, str], dict[str, tuple], list[tuple[str, str]]]:
    """Rule names, colours (RGB) and edges of a ``--rulegraph`` DOT text (log lines skipped)."""
    start = text.find("digraph")
    if start < 0:
        raise SystemExit("no 'digraph' in the input: is it snakemake --rulegraph output?")
    text = text[start:]
    names, colours = {}, {}
    for node, label, colour in NODE.findall(text):
        names[node] = label
        hsv = [float(v) for v in colour.split()] if colour else [0.6, 0.6, 0.85]
        colours[node] = tuple(hsv_to_rgb(hsv))
    edges = [(a, b) for a, b in EDGE.findall(text) if a in names and b in names and a != b]
    return names, colours, sorted(set(edges))


def layer_nodes(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layers from the sources; then every rule with successors moves down to just
    above the first rule that needs it, so inputs sit next to their users."""
    preds, succs = defaultdict(list), defaultdict(list)
    for a, b in edges:
        preds[b].append(a)
        succs[a].append(b)
    order, seen = [], set()

    def visit(n: str) -> None:  # depth-first topological order (the graph is a DAG)
        if n in seen:
            return
        seen.add(n)
        for p in preds[n]:
            visit(p)
        order.append(n)

    for n in nodes:
        visit(n)
    layer = {}
    for n in order:
        layer[n] = 1 + max((layer[p] for p in preds[n]), default=-1)
    for n in reversed(order):
        if succs[n]:
            layer[n] = max(layer[n], min(layer[s] for s in succs[n]) - 1)
    return layer


def add_trunks(layer: dict[str, int], edges: list[tuple[str, str]]):
    """Route every edge that spans several rows through a chain of waypoints, one per row it
    crosses; the long edges of one rule share their waypoints (a trunk, like dot's
    ``concentrate``), so no rule's box sits on another rule's edge."""
    layer = dict(layer)
    segments = set()
    for a, b in edges:
        prev = a
        for k in range(layer[a] + 1, layer[b]):
            w = f"~{a}@{k}"
            layer[w] = k
            segments.add((prev, w))
            prev = w
        segments.add((prev, b))
    return layer, sorted(segments)


def arrange(layer: dict[str, int], segments: list[tuple[str, str]], box_w: float,
            way_w: float, sweeps: int = 40) -> dict[str, float]:
    """x of every rule and waypoint: each row is sorted by the mean x of its neighbours in the
    rows above and below, then spread around those means keeping one slot between neighbours.
    The arrangement with the shortest total horizontal segment length is kept."""
    rows = defaultdict(list)
    for n in sorted(layer, key=lambda n: (n.startswith("~"), n)):
        rows[layer[n]].append(n)
    width = {n: way_w if n.startswith("~") else box_w for n in layer}
    ups, downs = defaultdict(list), defaultdict(list)
    for a, b in segments:
        downs[a].append(b)
        ups[b].append(a)
    x = {}
    for r in rows.values():
        pos = 0.0
        for n in r:
            x[n] = pos + width[n] / 2
            pos += width[n]

    def cost(x) -> float:
        return sum(abs(x[a] - x[b]) for a, b in segments)

    best, best_cost = dict(x), cost(x)
    levels = sorted(rows)
    for sweep in range(sweeps):
        down = sweep % 2 == 0
        for k in levels[1:] if down else levels[-2::-1]:
            r = rows[k]
            want = {}
            for n in r:
                nb = (ups[n] if down else downs[n]) or (downs[n] if down else ups[n])
                want[n] = sum(x[m] for m in nb) / len(nb) if nb else x[n]
            r.sort(key=lambda n: (want[n], x[n]))
            new = [want[n] for n in r]
            for i in range(1, len(r)):  # left to right: keep the order and the spacing
                new[i] = max(new[i], new[i - 1] + (width[r[i - 1]] + width[r[i]]) / 2)
            shift = sum(want[n] - v for n, v in zip(r, new, strict=True)) / len(r)
            for n, v in zip(r, new, strict=True):
                x[n] = v + shift
        c = cost(x)
        if c < best_cost:
            best, best_cost = dict(x), c
    lo = min(v - width[n] / 2 for n, v in best.items())
    return {n: v - lo for n, v in best.items()}


def draw(names, colours, edges, out: Path, dpi: int) -> None:
    layer = layer_nodes(list(names), edges)
    full, segments = add_trunks(layer, edges)
    box_w, box_h, way_w, row_h = 1.55, 0.3, 0.14, 0.62
    x = arrange(full, segments, box_w, way_w)
    n_rows = max(full.values()) + 1
    y = {n: (n_rows - 1 - full[n]) * row_h for n in full}
    fig_w = max(v + (way_w if n.startswith("~") else box_w) / 2 for n, v in x.items())
    fig_h = (n_rows - 1) * row_h + box_h + 0.3
    fig = plt.figure(figsize=(fig_w, fig_h), dpi=dpi)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, fig_w)
    ax.set_ylim(-box_h / 2 - 0.15, (n_rows - 1) * row_h + box_h / 2 + 0.15)
    ax.axis("off")
    t = np.linspace(0, 1, 30)[:, None]
    for a, b in segments:  # a cubic Bezier with vertical ends from a's bottom to b's top
        source = a.split("@")[0][1:] if a.startswith("~") else a
        x0, x1 = x[a], x[b]
        y0 = y[a] - (0 if a.startswith("~") else box_h / 2)
        y1 = y[b] + (0 if b.startswith("~") else box_h / 2)
        bend = 0.5 * (y0 - y1)
        p = np.array([[x0, y0], [x0, y0 - bend], [x1, y1 + bend], [x1, y1]])
        curve = ((1 - t) ** 3 * p[0] + 3 * (1 - t) ** 2 * t * p[1] + 3 * (1 - t) * t ** 2 * p[2]
                 + t ** 3 * p[3])
        ax.plot(curve[:, 0], curve[:, 1], color=colours[source], alpha=0.7, lw=1.0, zorder=1,
                solid_capstyle="round")
        if not b.startswith("~"):
            ax.annotate("", xy=(x1, y1), xytext=(x1, y1 + 0.09),
                        arrowprops=dict(arrowstyle="-|>", color=colours[source], lw=0.6,
                                        shrinkA=0, shrinkB=0, mutation_scale=7), zorder=1)
    for n, label in names.items():
        ax.add_patch(FancyBboxPatch((x[n] - box_w / 2 + 0.07, y[n] - box_h / 2), box_w - 0.14,
                                    box_h, boxstyle="round,pad=0,rounding_size=0.08",
                                    facecolor="white", edgecolor=colours[n], lw=1.6, zorder=2))
        ax.text(x[n], y[n], label, ha="center", va="center", fontsize=6.6, zorder=3,
                family="sans-serif")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".tmp" + out.suffix)
    fig.savefig(tmp, dpi=dpi, facecolor="white")
    plt.close(fig)
    tmp.replace(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dot", help="DOT file from snakemake --rulegraph ('-' = stdin); "
                                  "default: run snakemake --rulegraph on --configfile")
    ap.add_argument("--configfile", default="config/config.yaml")
    ap.add_argument("-o", "--output", default=str(ROOT / "docs" / "dag.png"))
    ap.add_argument("--dpi", type=int, default=100)
    ap.add_argument("--with-all", action="store_true", help="keep the target rule 'all'")
    args = ap.parse_args(argv)
    if args.dot == "-":
        text = sys.stdin.read()
    elif args.dot:
        text = Path(args.dot).read_text()
    else:
        text = rulegraph_dot(args.configfile)
    names, colours, edges = parse_dot(text)
    if not args.with_all:
        drop = {n for n, label in names.items() if label == "all"}
        names = {n: v for n, v in names.items() if n not in drop}
        edges = [(a, b) for a, b in edges if a not in drop and b not in drop]
    draw(names, colours, edges, Path(args.output), args.dpi)
    print(f"{args.output}: {len(names)} rules, {len(edges)} edges")


if __name__ == "__main__":
    main()
