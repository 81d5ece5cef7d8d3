#!/usr/bin/env python3
"""`onemap check batch` (issue 27): change patches checked each as its own site.

The sample catalog is loaded; the patches are the sample projects' GeoJSON sites (their
intended verdicts in sampledata/projects/MANIFEST.txt) and three patches that cannot be
checked (a self-crossing ring, a line, no geometry). The batch must:
- give every good patch the verdict and per-layer areas `onemap check` gives the same site,
  and an area that agrees with pyproj's geodesic area on the CGCS2000 ellipsoid;
- report each patch it cannot check with its reason, in its place, and go on (a self-crossing
  one is repaired and checked, and says so);
- place patches in their counties, and add up, per county and in total, in the summary;
- write the same rows as GeoPackage, GeoJSON and CSV, and read a GeoPackage in Gauss–Krüger
  zone 40 (EPSG:4528) to the same answers;
- leave nothing at --out when it fails.

Usage: /usr/bin/python3 Tests/e2e/batch_e2e.py [--binary .build/debug/onemap]   (Debian's python: osgeo, pyproj)
"""
import argparse
import csv
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_server import Checks, load_sample  # noqa: E402

from osgeo import ogr  # noqa: E402
from pyproj import Geod  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CGCS2000 = Geod(a=6378137.0, f=1 / 298.257222101)


def rows_of(path):
    ds = ogr.Open(path)
    layer = ds.GetLayer(0)
    out = []
    for f in layer:
        row = {k: f.GetField(k) for k in f.keys()}
        g = f.GetGeometryRef()
        row["_geometry"] = g.ExportToWkt() if g else None
        out.append(row)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/debug/onemap"))
    args = parser.parse_args()
    check = Checks()
    work = tempfile.mkdtemp(prefix="onemap-batch-")
    try:
        db = load_sample(args.binary, work, ROOT)
        manifest = {}
        for line in open(os.path.join(ROOT, "sampledata/projects/MANIFEST.txt"), encoding="utf-8").read().splitlines()[1:]:
            parts = [p.strip() for p in line.split("|")]
            manifest[parts[0].split(".")[0]] = parts[1]
        features, expected = [], {}
        for path in sorted(glob.glob(os.path.join(ROOT, "sampledata/projects/P*.geojson"))):
            name = os.path.basename(path).split(".")[0]
            site = json.load(open(path, encoding="utf-8"))
            geometry = site["features"][0]["geometry"]
            features.append({"type": "Feature", "properties": {"JCBH": name, "BZ": "样例"}, "geometry": geometry})
            single = subprocess.run([args.binary, "check", path, "--db", db, "--format", "json", "--no-record"],
                                    capture_output=True, text=True)
            expected[name] = (json.loads(single.stdout), geometry)
        bad = {
            "BAD-bowtie": {"type": "Polygon", "coordinates": [[[119.9, 28.4], [119.91, 28.41], [119.91, 28.4], [119.9, 28.41], [119.9, 28.4]]]},
            "BAD-line": {"type": "LineString", "coordinates": [[119.9, 28.4], [119.91, 28.41]]},
            "BAD-none": None,
        }
        # The bad ones in the middle: the batch must go on past them, in order.
        middle = len(features) // 2
        for name, g in bad.items():
            features.insert(middle, {"type": "Feature", "properties": {"JCBH": name, "BZ": "坏"}, "geometry": g})
        patches = os.path.join(work, "patches.geojson")
        json.dump({"type": "FeatureCollection", "features": features}, open(patches, "w", encoding="utf-8"), ensure_ascii=False)

        out = os.path.join(work, "result.gpkg")
        run = subprocess.run([args.binary, "check", "batch", patches, "--db", db, "--out", out, "--id-field", "JCBH"],
                             capture_output=True, text=True)
        check("the batch runs", run.returncode == 0, (run.stdout + run.stderr).strip()[-300:])
        rows = rows_of(out) if run.returncode == 0 else []
        check("a row per patch, in input order", [r["om_patch"] for r in rows] == [f["properties"]["JCBH"] for f in features],
              f"{len(rows)} rows for {len(features)} patches")
        check("the patches' own attributes are kept", all(r.get("BZ") in ("样例", "坏") for r in rows))
        by_id = {r["om_patch"]: r for r in rows}

        wrong = []
        for name, (single, geometry) in expected.items():
            r = by_id.get(name, {})
            if r.get("om_verdict") != single["verdict"]:
                wrong.append(f"{name}: {r.get('om_verdict')} vs {single['verdict']}")
            for layer in single["layers"]:
                want = layer.get("outsideAreaM2", layer["overlapAreaM2"])
                got = r.get(f"om_{layer['layer']}_m2")
                if got is None or abs(got - want) > 1e-6 * max(1.0, want):
                    wrong.append(f"{name} {layer['layer']}: {got} vs {want}")
        check("each patch's verdict and per-layer areas are `onemap check`'s", not wrong, "; ".join(wrong[:5]))
        intended = {n: manifest.get(n) for n in expected}
        off = [f"{n}: {by_id[n]['om_verdict']} (intended {v})" for n, v in intended.items() if v and by_id.get(n, {}).get("om_verdict") != v]
        check("the sample sites get their intended verdicts", not off, "; ".join(off))
        geodesic = []
        for name, (_, geometry) in expected.items():
            ring = geometry["coordinates"][0] if geometry["type"] == "Polygon" else geometry["coordinates"][0][0]
            area = abs(CGCS2000.polygon_area_perimeter([p[0] for p in ring], [p[1] for p in ring])[0])
            got = by_id[name]["om_area_m2"]
            if geometry["type"] == "Polygon" and len(geometry["coordinates"]) == 1 and abs(got - area) > 1e-6 * area:
                geodesic.append(f"{name}: {got} vs {area}")
        check("areas agree with pyproj's geodesic area on CGCS2000", not geodesic, "; ".join(geodesic))

        unreadable = ("BAD-line", "BAD-none")
        reasons = {n: by_id.get(n, {}).get("om_error") for n in unreadable}
        check("a patch that cannot be checked is a row with its reason, and no verdict",
              all(reasons.values()) and all(by_id[n]["om_verdict"] is None for n in unreadable), json.dumps(reasons, ensure_ascii=False))
        bowtie = by_id.get("BAD-bowtie", {})
        check("a self-crossing patch is repaired, checked, and says so", bowtie.get("om_verdict") is not None and bowtie.get("om_warning"),
              f"{bowtie.get('om_verdict')}: {bowtie.get('om_warning')}")
        counties = {n: by_id[n]["om_county"] for n in expected}
        check("patches are placed in their counties", counties.get("P01-songyang-farmland", "").startswith("松阳")
              and counties.get("P02-liandu-clear", "").startswith("莲都"), json.dumps(counties, ensure_ascii=False))

        summary = json.load(open(out + ".summary.json", encoding="utf-8"))
        total = summary["total"]
        check("the summary counts every patch", total["patches"] == len(features) and total["failed"] == len(unreadable),
              f"{total['patches']} patches, {total['failed']} not checked")
        for key in ("patches", "failed"):
            check(f"the counties' {key} add up to the total", sum(p[key] for p in summary["places"]) == total[key])
        farmland = sum(r["om_farmland_m2"] or 0 for r in rows)
        check("the summary's farmland overlap is the rows' sum", abs(total["sums"].get("om_farmland_m2", 0) - farmland) < 0.01,
              f"{total['sums'].get('om_farmland_m2')} vs {farmland}")
        with open(out + ".summary.csv", encoding="utf-8-sig") as f:
            table = list(csv.DictReader(f))
        check("the summary CSV has a line per place and the whole batch last",
              len(table) == len(summary["places"]) + 1 and table[-1]["county"] == "全部" and int(table[-1]["patches"]) == len(features))

        for fmt in ("geojson", "csv"):
            other = os.path.join(work, f"result.{fmt}")
            r = subprocess.run([args.binary, "check", "batch", patches, "--db", db, "--out", other, "--id-field", "JCBH"],
                               capture_output=True, text=True)
            if fmt == "csv":
                with open(other, encoding="utf-8-sig") as f:
                    got = [(x["om_patch"], x["om_verdict"] or None) for x in csv.DictReader(f)]
            else:
                got = [(x["om_patch"], x["om_verdict"]) for x in rows_of(other)]
            check(f"as {fmt}: the same rows", r.returncode == 0 and got == [(x["om_patch"], x["om_verdict"]) for x in rows],
                  r.stderr.strip()[-200:])

        # The good patches as a GeoPackage in Gauss–Krüger zone 40 (metres).
        gk = os.path.join(work, "patches-4528.gpkg")
        subprocess.run(["ogr2ogr", "-f", "GPKG", "-t_srs", "EPSG:4528", "-where", "JCBH LIKE 'P%'", gk, patches],
                       check=True, capture_output=True)
        out_gk = os.path.join(work, "result-4528.gpkg")
        r = subprocess.run([args.binary, "check", "batch", gk, "--db", db, "--out", out_gk, "--id-field", "jcbh"],
                           capture_output=True, text=True)
        gk_rows = {x["om_patch"]: x for x in rows_of(out_gk)} if r.returncode == 0 else {}
        drift = [n for n in expected if n not in gk_rows or gk_rows[n]["om_verdict"] != by_id[n]["om_verdict"]
                 or abs(gk_rows[n]["om_area_m2"] - by_id[n]["om_area_m2"]) > 1e-4 * by_id[n]["om_area_m2"]]
        check("a GeoPackage in EPSG:4528 gives the same answers", r.returncode == 0 and not drift, f"{drift} {r.stderr.strip()[-200:]}")

        # What must fail, fails clearly and writes nothing.
        missing = os.path.join(work, "none.gpkg")
        r = subprocess.run([args.binary, "check", "batch", patches, "--db", db, "--out", missing, "--id-field", "NOPE"],
                           capture_output=True, text=True)
        check("an unknown --id-field is refused, naming the fields", r.returncode != 0 and "JCBH" in r.stderr and not os.path.exists(missing),
              r.stderr.strip()[-200:])
        r = subprocess.run([args.binary, "check", "batch", patches, "--db", db, "--out", os.path.join(work, "x.txt")],
                           capture_output=True, text=True)
        check("an output of unknown kind is refused", r.returncode != 0 and ".gpkg" in r.stderr, r.stderr.strip()[-200:])
        check("no partial files left", not glob.glob(os.path.join(work, "*.partial-*")))
    except Exception as e:  # a crash of the harness is a failure, said plainly
        check("e2e harness", False, repr(e))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    check.finish("batch e2e")


if __name__ == "__main__":
    main()
