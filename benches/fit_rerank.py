#!/usr/bin/env python3
"""Fits the structural re-rank's weights offline and says whether a fit generalises.

    for f in queries tuning-long tuning-terse tuning-described; do
      opcat bench --catalog C --queries benches/$f.jsonl --features /tmp/feat/$f.jsonl
    done
    python3 benches/fit_rerank.py /tmp/feat/{queries,tuning-long,tuning-terse,tuning-described}.jsonl \
        [--report /tmp/feat/heldout.jsonl]

Each input line is one query's hybrid candidates before the re-rank (`opcat bench
--features`). The script scores them as the runtime does (a base falling by 1/DEPTH per
rank plus the weighted features), checks that it reproduces the current hybrid MRR@10,
then:
- fits all weights jointly by coordinate ascent on the mean MRR@10 of the files, and
  again leaving each file out, to see whether what one set of files gains holds on the
  file left out;
- sweeps one extra signal at a time on top of the current weights: the number of path
  keys below the project, the path's literal depth, the fused score, the cosine of the
  query's and the summary's static-table embeddings.
`--report` files are scored with each fit, aggregate figures only (the held-out file is a
veto, not a tuning set).
"""
import argparse
import json
import math
import re
import struct

DEPTH = 30
GRID = [-0.5, -0.3, -0.2, -0.15, -0.1, -0.07, -0.05, -0.03, 0.0,
        0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5, 0.7]


def load(path):
    """Queries as (primary, exact candidates, ranked candidates), and the names and weights."""
    queries, names, weights = [], None, None
    for line in open(path):
        d = json.loads(line)
        names, weights = d["features"], d["weights"]
        cands = d["candidates"]
        for c in cands:
            p = c["path"] or ""
            keys = [k for k in re.findall(r"\{(\w+)\}", p) if k not in ("organization", "project")]
            lit = [s for s in p.split("/") if s and not s.startswith("{")]
            if "_apis" in lit:
                lit = lit[lit.index("_apis") + 1:]
            c["x"] = {
                "keys": float(len(keys)),
                "depth": float(len(lit)),
                "fused": c["fused"] or 0.0,
                "summary_cosine": c["summary_cosine"] or 0.0,
            }
        exact = [c for c in cands if c["fused"] is None]
        ranked = [c for c in cands if c["fused"] is not None]
        queries.append((d["primary"], exact, ranked))
    return queries, names, weights


def f32(x):
    """`x` rounded to the nearest f32, as the runtime computes."""
    return struct.unpack("f", struct.pack("f", x))[0]


def step(s):
    """The runtime's comparison key: the score in steps of `TIE` (1e-4), rounded half away
    from zero; equal keys keep their rank order."""
    x = f32(s / f32(1e-4))
    return math.copysign(math.floor(abs(x) + 0.5), x)


def rank_of(query, w, extra):
    primary, exact, ranked = query
    if any(c["i"] == primary for c in exact):
        return 1
    scored = []
    for r, c in enumerate(ranked[:DEPTH]):
        fit = 0.0
        for a, b in zip(w, c["f"]):
            fit = f32(fit + f32(f32(a) * b))
        for k, v in extra.items():
            fit = f32(fit + f32(f32(v) * c["x"][k]))
        s = f32(f32(1.0 - f32(r / DEPTH)) + fit)
        scored.append((-step(s), r, c["i"]))
    scored.sort()
    order = [c["i"] for c in exact] + [i for _, _, i in scored]
    order += [c["i"] for c in ranked[DEPTH:]]
    seen = list(dict.fromkeys(order))
    return seen.index(primary) + 1 if primary in seen else None


def scores(queries, w, extra=None):
    """R@1, R@5, MRR@10 of the primaries."""
    extra = extra or {}
    r1 = r5 = mrr = 0.0
    for q in queries:
        k = rank_of(q, w, extra)
        if k == 1:
            r1 += 1
        if k and k <= 5:
            r5 += 1
        if k and k <= 10:
            mrr += 1 / k
    n = len(queries)
    return r1 / n, r5 / n, mrr / n


def mean_mrr(sets, w, extra=None):
    return sum(scores(q, w, extra)[2] for q in sets) / len(sets)


def ascend(sets, w0):
    w, best = list(w0), mean_mrr(sets, w0)
    for _ in range(3):
        changed = False
        for j in range(len(w)):
            for v in GRID:
                t = list(w)
                t[j] = v
                o = mean_mrr(sets, t)
                if o > best + 1e-9:
                    w, best, changed = t, o, True
        if not changed:
            break
    return w


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--report", nargs="*", default=[])
    a = ap.parse_args()
    tune = {f: load(f) for f in a.files}
    report = {f: load(f)[0] for f in a.report}
    names, w0 = next(iter(tune.values()))[1:]
    sets = {f: q for f, (q, _, _) in tune.items()}
    fmt = lambda s: "R@1 %.3f R@5 %.3f MRR@10 %.3f" % s
    print("current weights (should equal `opcat bench` hybrid):")
    for f, q in {**sets, **report}.items():
        print(f"  {f}: {fmt(scores(q, w0))}")
    w = ascend(list(sets.values()), w0)
    print("joint fit on every tuning file:",
          {n: v for n, v, o in zip(names, w, w0) if v != o})
    for f, q in {**sets, **report}.items():
        print(f"  {f}: MRR@10 {scores(q, w0)[2]:.3f} -> {scores(q, w)[2]:.3f}")
    for f in sets:
        rest = [q for g, q in sets.items() if g != f]
        wf = ascend(rest, w0)
        line = f"left out {f}: MRR@10 {scores(sets[f], w0)[2]:.3f} -> {scores(sets[f], wf)[2]:.3f}"
        for g, q in report.items():
            line += f"; {g} {scores(q, w0)[2]:.3f} -> {scores(q, wf)[2]:.3f}"
        print(line)
    print("one extra signal on the current weights, MRR@10 per file:")
    for k in ["keys", "depth", "fused", "summary_cosine"]:
        for v in [-0.1, -0.05, -0.03, 0.03, 0.05, 0.1, 0.2]:
            cells = [f"{scores(q, w0, {k: v})[2]:.3f}" for q in {**sets, **report}.values()]
            print(f"  {k:>14} {v:+.2f}: {' '.join(cells)}")


if __name__ == "__main__":
    main()
