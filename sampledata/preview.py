#!/usr/bin/env python3
"""Draws sampledata/preview.png, the picture of the sample layers in the README.

Usage (needs matplotlib, and ogr2ogr for the Shapefile and GeoPackage):
    python3 sampledata/preview.py sampledata sampledata/preview.png
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path
from matplotlib.lines import Line2D

plt.rcParams["font.family"] = ["Noto Sans CJK SC", "Noto Sans CJK JP", "sans-serif"]

def features(path, encoding=None):
    """Features of any GDAL source as lon/lat GeoJSON (the red line arrives in GBK)."""
    if path.endswith(".geojson"):
        return json.load(open(path, encoding="utf-8"))["features"]
    out = tempfile.mktemp(suffix=".geojson")
    cmd = ["ogr2ogr", "-f", "GeoJSON", "-t_srs", "EPSG:4490", out, path]
    if encoding:
        cmd[1:1] = ["--config", "SHAPE_ENCODING", encoding]
    subprocess.run(cmd, check=True)
    fs = json.load(open(out, encoding="utf-8"))["features"]
    os.remove(out)
    return fs

def rings(geometry):
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["coordinates"]
    return []

def draw_polygons(ax, fs, face, edge, width=0.4, alpha=0.8, by=None, z=1):
    for f in fs:
        fc = by.get(f["properties"].get(by["_key"]), face) if by else face
        for poly in rings(f["geometry"]):
            verts, codes = [], []
            for ring in poly:  # holes are cut out by the even-odd path
                verts += ring
                codes += [Path.MOVETO] + [Path.LINETO] * (len(ring) - 2) + [Path.CLOSEPOLY]
            ax.add_patch(PathPatch(Path(verts, codes), facecolor=fc, edgecolor=edge, lw=width, alpha=alpha, zorder=z))

def main(folder, out):
    fig, ax = plt.subplots(figsize=(11, 10), dpi=110)
    admin = features(os.path.join(folder, "lishui_admin.geojson"))
    draw_polygons(ax, [f for f in admin if f["properties"]["XZQDM"] != "331100"], "#f5f5f5", "#9e9e9e", 0.8, 1, z=0)
    draw_polygons(ax, features(os.path.join(folder, "ecological_redline.shp"), "CP936"), "#66bb6a", "#2e7d32", 0.4, 0.55, z=1)
    draw_polygons(ax, features(os.path.join(folder, "protected_area.geojson")), "#81c784", "#1b5e20", 0.5, 0.75,
                  by={"_key": "GNFQ", "核心区": "#1b5e20", "缓冲区": "#43a047", "实验区": "#c8e6c9"}, z=2)
    draw_polygons(ax, features(os.path.join(folder, "water_source.geojson")), "#90caf9", "#1565c0", 0.5, 0.8,
                  by={"_key": "BHQJB", "一级": "#1565c0", "二级": "#90caf9"}, z=2)
    draw_polygons(ax, features(os.path.join(folder, "farmland.gpkg")), "#fbc02d", "#f9a825", 0.1, 0.95, z=3)
    draw_polygons(ax, features(os.path.join(folder, "urban_boundary.geojson")), "none", "#e53935", 1.1, 1, z=4)
    for f in features(os.path.join(folder, "pipeline.geojson")):
        xs, ys = zip(*f["geometry"]["coordinates"])
        ax.plot(xs, ys, color="#8e24aa", lw=1.6, ls="--", zorder=5)
    for path in sorted(glob.glob(os.path.join(folder, "projects", "*.geojson"))):
        draw_polygons(ax, features(path), "#000", "#000", 1.5, 1, z=6)
    for f in admin:
        p = f["properties"]
        if p["XZQDM"] != "331100":
            xs = [c[0] for poly in rings(f["geometry"]) for c in poly[0]]
            ys = [c[1] for poly in rings(f["geometry"]) for c in poly[0]]
            ax.text(sum(xs) / len(xs), sum(ys) / len(ys), p["XZQMC"], fontsize=9, color="#424242", ha="center", zorder=7)
    ax.legend(handles=[
        Patch(facecolor="#66bb6a", alpha=0.55, label="生态保护红线"), Patch(facecolor="#fbc02d", label="永久基本农田"),
        Patch(facecolor="none", edgecolor="#e53935", label="城镇开发边界"), Patch(facecolor="#43a047", label="自然保护地"),
        Patch(facecolor="#90caf9", label="饮用水水源保护区"), Line2D([0], [0], color="#8e24aa", ls="--", label="油气管道"),
        Patch(facecolor="#000", label="示例项目用地"),
    ], loc="lower right", fontsize=9)
    ax.set_title("丽水市 示例数据 (图层为虚构, 行政边界为真实)", fontsize=13)
    ax.set_aspect(1 / 0.88)
    ax.autoscale_view()
    ax.set_xlabel("经度 (CGCS2000)")
    ax.set_ylabel("纬度")
    fig.savefig(out, bbox_inches="tight")

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
