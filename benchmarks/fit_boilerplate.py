"""Rebuild ``plugins/boilerplate_model.json``: the boilerplate stage's line model, fitted on labelled pages.

    python benchmarks/fit_boilerplate.py ../shared/corpora [--out plugins/boilerplate_model.json]

Reads the dev folders (``boilerplate/dev-headline``, ``web/cleaneval``, ``web/cleanportal``: NAME.input.txt
and NAME.gold.txt pairs), labels every input line gold or junk the way their ``score.py`` does, and fits a
logistic model of "junk" on :data:`normkit_plugins._boilerplate_lines.FEATURES`, each set weighted
equally. Every figure is reported twice: in-sample, and from 5-fold cross-validation grouped by site (no
site is in both the fitting and the scoring part of a fold), which is what to expect on unseen sites.
The threshold is chosen on the grouped figures: the lowest at which, in every set, no paragraph (gold
line of 20+ tokens) and at most ``--max-gold-loss`` of the gold lines are lost. Needs numpy.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from normkit_plugins._boilerplate_lines import FEATURES, feature_rows, line_facts

SETS = {"news": "boilerplate/dev-headline", "cleaneval": "web/cleaneval", "cleanportal": "web/cleanportal"}
THRESHOLDS = (0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97)
FOLDS = 5
#: second-level labels under which a country's registrable domains sit (``example.co.uk``).
SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "or", "ne", "go"})
LONG = 20


def _scorer(root: Path) -> Any:
    spec = importlib.util.spec_from_file_location("score", root / "boilerplate" / "score.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def site_of(url: str, fallback: str) -> str:
    """The registrable domain of ``url`` (``news.example.co.uk`` -> ``example.co.uk``): one site, one group,
    whatever its subdomain or the set it is in, so that pages sharing a template never straddle a fold."""
    labels = (urlsplit(url).hostname or fallback).lower().split(".")
    keep = 3 if len(labels) > 2 and len(labels[-1]) == 2 and labels[-2] in SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def _sites(folder: Path) -> dict[str, str]:
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    return {case["name"]: site_of(case.get("url", ""), case.get("site") or case["name"]) for case in index["cases"]}


def _case_rows(job: tuple[str, str, str, str]) -> list[tuple[list[float], int, int, bool]]:
    """(features, junk?, tokens, running text?) for each labelled line of one page; the title line is blanked."""
    root, folder, name, _ = job
    score = _scorer(Path(root))
    text = (Path(folder) / f"{name}.input.txt").read_text(encoding="utf-8")
    gold = (Path(folder) / f"{name}.gold.txt").read_text(encoding="utf-8")
    case = score.Case(name, text, gold)
    lines = text.split("\n")
    lines[0] = ""  # the headline stage has taken the title by the time the boilerplate stage runs
    facts = line_facts(lines)
    rows = feature_rows(facts)
    return [
        (rows[i], int(not is_gold), len(tokens), facts.running[i])
        for (i, _, tokens), is_gold in zip(case.lines, case.line_is_gold, strict=True)
        if i in rows
    ]


def _jobs(root: Path) -> Iterator[tuple[str, str, str, str]]:
    for set_name, relative in SETS.items():
        folder = root / relative
        sites = _sites(folder)
        for path in sorted(folder.glob("*.input.txt")):
            name = path.name.removesuffix(".input.txt")
            yield str(root), str(folder), name, f"{set_name}:{sites.get(name, name)}"  # the site after the colon


def load(root: Path) -> dict[str, np.ndarray]:
    jobs = list(_jobs(root))
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        pages = list(pool.map(_case_rows, jobs, chunksize=8))
    columns: dict[str, list[Any]] = {"X": [], "y": [], "tokens": [], "prose": [], "set": [], "site": []}
    for job, rows in zip(jobs, pages, strict=True):
        for row, junk, tokens, prose in rows:
            set_name, site = job[3].split(":", 1)
            for key, value in zip(columns, (row, junk, tokens, prose, set_name, site), strict=True):
                columns[key].append(value)
    return {key: np.array(values) for key, values in columns.items()}


def fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray, l2: float = 1.0) -> dict[str, np.ndarray]:
    """Weighted, L2-regularised logistic regression on standardised features, by Newton's method."""
    means, scales = x.mean(0), x.std(0)
    scales[scales == 0] = 1
    z = np.hstack([(x - means) / scales, np.ones((len(x), 1))])
    beta = np.zeros(z.shape[1])
    penalty = np.diag(np.r_[np.full(len(beta) - 1, l2), 0.0])
    for _ in range(50):
        p = 1 / (1 + np.exp(-z @ beta))
        gradient = z.T @ (weight * (p - y)) + penalty @ beta
        hessian = (z * (weight * p * (1 - p))[:, None]).T @ z + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return {"weights": beta[:-1], "bias": beta[-1], "means": means, "scales": scales}


def predict(model: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    z = (x - model["means"]) / model["scales"] @ model["weights"] + model["bias"]
    return 1 / (1 + np.exp(-z))


def grouped_folds(sites: np.ndarray, folds: int = FOLDS, seed: int = 0) -> np.ndarray:
    unique = np.unique(sites)
    np.random.default_rng(seed).shuffle(unique)
    fold_of = {site: k % folds for k, site in enumerate(unique)}
    return np.array([fold_of[site] for site in sites])


def figures(data: dict[str, np.ndarray], p: np.ndarray, threshold: float) -> dict[str, dict[str, float]]:
    """Per set, what the model alone removes at ``threshold`` (running text is never its to remove)."""
    removed = (p > threshold) & ~data["prose"]
    out = {}
    for set_name in SETS:
        mine = data["set"] == set_name
        gold, junk = mine & (data["y"] == 0), mine & (data["y"] == 1)
        long = gold & (data["tokens"] >= LONG)
        out[set_name] = {
            "paragraphs_lost": int((removed & long).sum()),
            "paragraphs": int(long.sum()),
            "gold_lines_lost": int((removed & gold).sum()),
            "gold_lines": int(gold.sum()),
            "junk_removed": int((removed & junk).sum()),
            "junk_lines": int(junk.sum()),
        }
    return out


def cross_validated(data: dict[str, np.ndarray], weight: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Each of ``rows`` scored by a model fitted on the folds of sites it is not in."""
    held_out = np.zeros(len(weight))
    folds = grouped_folds(data["site"][rows])
    index = np.flatnonzero(rows)
    for k in range(FOLDS):
        train, test = index[folds != k], index[folds == k]
        held_out[test] = predict(fit(data["X"][train], data["y"][train], weight[train]), data["X"][test])
    return held_out


def choose(data: dict[str, np.ndarray], scores: np.ndarray, rows: np.ndarray, max_gold_loss: float) -> float:
    """The lowest threshold at which the held-out ``scores`` of ``rows`` lose no paragraph and few gold lines."""
    subset = {key: column[rows] for key, column in data.items()}
    acceptable = (t for t in THRESHOLDS if _acceptable(figures(subset, scores[rows], t), max_gold_loss))
    return next(acceptable, THRESHOLDS[-1])


def nested_figures(data: dict[str, np.ndarray], weight: np.ndarray, max_gold_loss: float) -> dict[str, Any]:
    """The model and its threshold chosen on four folds of sites, scored on the fifth, for each fifth: what
    the whole procedure, threshold choice included, does on sites it has never seen."""
    folds = grouped_folds(data["site"], seed=1)
    removed = np.zeros(len(weight))
    for k in range(FOLDS):
        inner, outer = folds != k, folds == k
        threshold = choose(data, cross_validated(data, weight, inner), inner, max_gold_loss)
        model = fit(data["X"][inner], data["y"][inner], weight[inner])
        removed[outer] = predict(model, data["X"][outer]) > threshold
    return figures(data, removed, 0.5)


def _acceptable(report: dict[str, dict[str, float]], max_gold_loss: float) -> bool:
    return all(
        r["paragraphs_lost"] == 0 and r["gold_lines_lost"] <= max_gold_loss * r["gold_lines"] for r in report.values()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpora", type=Path, help="the folder holding boilerplate/ and web/")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent.parent / "plugins" / "boilerplate_model.json")
    parser.add_argument("--max-gold-loss", type=float, default=0.015, help="share of gold lines the model may lose")
    args = parser.parse_args()
    data = load(args.corpora)
    weight = np.ones(len(data["y"]))
    for set_name in SETS:  # each set counts the same, however many lines it has
        mine = data["set"] == set_name
        weight[mine] = len(weight) / len(SETS) / mine.sum()
    everything = np.ones(len(weight), dtype=bool)
    held_out = cross_validated(data, weight, everything)
    model = fit(data["X"], data["y"], weight)
    in_sample = predict(model, data["X"])
    grid = {t: (figures(data, in_sample, t), figures(data, held_out, t)) for t in THRESHOLDS}
    threshold = choose(data, held_out, everything, args.max_gold_loss)
    for t, (inside, grouped) in grid.items():
        print(f"threshold {t}{' (chosen)' if t == threshold else ''}")
        for set_name in SETS:
            print(f"  {set_name:12s} in-sample {_line(inside[set_name])}  |  grouped CV {_line(grouped[set_name])}")
    nested = nested_figures(data, weight, args.max_gold_loss)
    for set_name in SETS:
        print(f"  {set_name:12s} nested CV (threshold chosen inside each fold) {_line(nested[set_name])}")
    result = {
        "normkit": "boilerplate-line-model",
        "features": list(FEATURES),
        "weights": [round(float(w), 6) for w in model["weights"]],
        "bias": round(float(model["bias"]), 6),
        "means": [round(float(m), 6) for m in model["means"]],
        "scales": [round(float(s), 6) for s in model["scales"]],
        "threshold": threshold,
        "fitted_on": {name: int((data["set"] == name).sum()) for name in SETS},
        "sites": len(np.unique(data["site"])),
        "figures": {"in_sample": grid[threshold][0], "grouped_cv": grid[threshold][1], "nested_cv": nested},
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)


def _line(r: dict[str, float]) -> str:
    return (
        f"paragraphs lost {r['paragraphs_lost']}/{r['paragraphs']}, gold lines lost {r['gold_lines_lost']}"
        f"/{r['gold_lines']}, junk removed {r['junk_removed'] / max(r['junk_lines'], 1):.1%}"
    )


if __name__ == "__main__":
    main()
