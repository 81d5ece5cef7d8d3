"""OneMap's side of the conflict-check benchmark: `onemap check --each`, as an engine.

One `onemap check SITES --each --no-record --format json` process checks every feature of a
sites file as its own site and prints, on stderr,
    checked 100 sites: median 0.412 ms/site, mean 0.430 ms/site, total 43.0 ms
timed inside the process: start-up, reading the sites and one warm-up check are left out,
which is what a running server pays per check. The Python peers are timed the same way
(per site, around the query, in a process that is already up), so the numbers compare.

Two engines use this class: farmland only (`--layers farmland`, issue 4's anchor, the
same work as the peers) and the full check of every layer with a rule (issue 4's target:
at most a third of SpatiaLite's farmland-only time).
"""
import hashlib
import json
import os
import re
import subprocess
import time

TIMING_LINE = re.compile(r"checked (\d+) sites: median ([0-9.]+) ms/site, mean ([0-9.]+) ms/site, total ([0-9.]+) ms")


def farmland_answers(result, layer="farmland"):
    """One site's answers in the peers' shape: [{"id", "overlapAreaM2"}], sorted by id.

    Taken as OneMap reports them, without re-applying the 0.01 m^2 rule: a parcel OneMap
    should not have reported must show up as a difference, not be filtered away here."""
    found = [l for l in result["layers"] if l["layer"] == layer]
    if len(found) != 1:
        raise ValueError(f"expected one '{layer}' layer in the result, found {len(found)}")
    return sorted(({"id": f["id"], "overlapAreaM2": f["overlapAreaM2"]} for f in found[0]["features"]),
                  key=lambda r: r["id"])


def full_answers(result):
    """Everything a full check decides, per layer: for comparing passes and HTTP with the CLI."""
    return {"verdict": result["verdict"],
            "layers": {l["layer"]: {"conflict": l["conflict"],
                                    "features": sorted((f["id"], f["overlapAreaM2"]) for f in l["features"])}
                       for l in result["layers"]}}


class OneMapEngine:
    """Runs `check --each` processes per pass, one over every site and one per bucket of sites
    (issue 20: the CLI prints the median and mean of what it checked, so a figure per bucket
    needs a process per bucket); answers keyed by the sites' ids.

    groups: [(group, sites file, site ids in the file's order)], the group of every site first.
    """

    def __init__(self, name, label, binary, db, groups, work, layers=None):
        self.name, self.label = name, label
        self.binary, self.db, self.groups = binary, db, groups
        self.sites_path, self.site_ids = groups[0][1], groups[0][2]
        self.layers = layers
        self.work = work
        self.log = os.path.join(work, f"{name}.err")
        self.full = layers is None
        self.wall_s = []          # per pass, start-up included, all groups: for the details only

    def command(self, path=None, out=None):
        cmd = [self.binary, "check", path or self.sites_path, "--each", "--no-record", "--format", "json",
               "--db", self.db, "--out", out or os.path.join(self.work, f"{self.name}_results.json")]
        return cmd + (["--layers", ",".join(self.layers)] if self.layers else [])

    def version(self):
        with open(self.binary, "rb") as f:
            return "onemap binary sha256 " + hashlib.sha256(f.read()).hexdigest()[:12]

    def count(self, layer="farmland"):
        out = subprocess.run([self.binary, "layers", "--db", self.db, "--json"], check=True,
                             capture_output=True, text=True).stdout
        return next(l["count"] for l in json.loads(out) if l["name"] == layer)

    def run_group(self, group, path, site_ids):
        """One process over one group's sites: (mean ms/site, median ms/site, results in site order)."""
        out = os.path.join(self.work, f"{self.name}_{group}_results.json")
        cmd = self.command(path, out)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        with open(self.log, "a") as f:
            f.write(f"$ {' '.join(cmd)}\n{proc.stderr}")
        if proc.returncode != 0:
            raise RuntimeError(f"{self.label}: `{' '.join(cmd)}` exited {proc.returncode} (see {self.log})")
        m = TIMING_LINE.search(proc.stderr)
        if not m:
            raise RuntimeError(f"{self.label}: no 'checked N sites: median … mean …' line on stderr (see {self.log})")
        checked, median_ms, mean_ms = int(m.group(1)), float(m.group(2)), float(m.group(3))
        with open(out) as f:
            results = json.load(f)
        if checked != len(site_ids) or len(results) != len(site_ids):
            raise RuntimeError(f"{self.label}, {group}: {len(site_ids)} sites given, {checked} timed, {len(results)} results")
        return mean_ms, median_ms, results

    def run_pass(self):
        """Every group once: ({group: (mean, median)}, the results of every site in site order).
        A site's answer must be the same whichever process checked it."""
        open(self.log, "w").close()
        t0 = time.perf_counter()
        times, by_site = {}, {}
        for group, path, site_ids in self.groups:
            mean_ms, median_ms, results = self.run_group(group, path, site_ids)
            times[group] = (mean_ms, median_ms)
            for site, r in zip(site_ids, results):
                if site in by_site and self.answers_of(by_site[site]) != self.answers_of(r):
                    raise RuntimeError(f"{self.label}: site {site} answered differently in the '{group}' process")
                by_site.setdefault(site, r)
        self.wall_s.append(time.perf_counter() - t0)
        return times, [by_site[s] for s in self.site_ids]

    def answers_of(self, result):
        return full_answers(result) if self.full else farmland_answers(result)

    # --each keeps the order of the FeatureCollection, so the n-th result is the n-th site.
    def farmland(self, results):
        return {site: farmland_answers(r) for site, r in zip(self.site_ids, results)}

    def answers(self, results):
        """What must not change from pass to pass: the full decision for the full check."""
        return {site: self.answers_of(r) for site, r in zip(self.site_ids, results)}
