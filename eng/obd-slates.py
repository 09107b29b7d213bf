#!/usr/bin/env python3
"""Derive samples/data/slates/ from the Open Bandit Dataset sample and compute the slate estimators' reference values.

Usage (python3 with numpy; Debian's python3-numpy is enough):

    python3 eng/obd-slates.py --obd PATH/TO/zr-obp/obd [--out samples/data/slates]

PATH/TO/zr-obp/obd is the obd/ folder of a checkout of github.com/st-tech/zr-obp; the script reads
random/men/men.csv and random/men/item_context.csv from it (the uniformly random logger, "men" campaign, 34 items,
3 positions). The Open Bandit Dataset is by ZOZO, Inc. and Saito et al., under CC BY 4.0. samples/data/slates/README.md
says what the outputs hold and why they are built this way.

The reference values follow the definitions of Open Bandit Pipeline's obp.ope slate estimators, written again here
from their formulas (docs/estimators.md, "Rankings"), on obp's layout: one row per (slate, position), each estimator's
per-row terms summed and divided by the number of distinct slates.
"""

import argparse
import csv
import gzip
import hashlib
import io
import json
import os

import numpy as np

CAMPAIGN = ("random", "men")
SLOTS = 3
# The target policy: a Plackett-Luce ranking (items drawn one by one without replacement, each with probability
# proportional to exp(BETA * item_feature_0) among the items not yet shown).
BETA = 1.0
# The reward model: each item's click rate at each position, shrunk towards the position's rate with this many
# pseudo-impressions.
SHRINK = 100.0


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def read_rows(path):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return [
            {
                "row": int(r[""]),
                "timestamp": r["timestamp"],
                "item": int(r["item_id"]),
                "position": int(r["position"]),
                "click": int(r["click"]),
                "propensity": float(r["propensity_score"]),
            }
            for r in reader
        ]


def read_items(path):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        features = {int(r["item_id"]): float(r["item_feature_0"]) for r in reader}
    n = len(features)
    assert sorted(features) == list(range(n)), "item ids are not 0..n-1"
    return np.array([features[a] for a in range(n)])


def group(rows, n_items):
    """Pseudo-slates: the k-th impression at positions 1, 2 and 3 (in time order) make slate k; repeats are dropped."""
    assert all(r["propensity"] == 1.0 / n_items for r in rows), "propensity_score is not 1/n everywhere"
    assert all(0 <= r["item"] < n_items for r in rows)
    assert sorted(r["position"] for r in rows)[0] == 1 and max(r["position"] for r in rows) == SLOTS
    ordered = sorted(rows, key=lambda r: (r["timestamp"], r["row"]))
    queues = [[r for r in ordered if r["position"] == p + 1] for p in range(SLOTS)]
    candidates = min(len(q) for q in queues)
    slates, repeats = [], 0
    for k in range(candidates):
        triple = [q[k] for q in queues]
        if len({r["item"] for r in triple}) < SLOTS:
            repeats += 1
            continue
        slates.append(triple)
    stats = {
        "rows": len(rows),
        "rows_per_position": [len(q) for q in queues],
        "candidate_slates": candidates,
        "dropped_repeated_item": repeats,
        "dropped_unmatched_rows": len(rows) - SLOTS * candidates,
        "slates": len(slates),
        "timestamps_shared_by_two_rows": sum(
            1 for _, c in zip(*np.unique([r["timestamp"] for r in rows], return_counts=True)) if c == 2),
        "timestamps_shared_by_three_or_more_rows": sum(
            1 for _, c in zip(*np.unique([r["timestamp"] for r in rows], return_counts=True)) if c >= 3),
    }
    return slates, stats


def conditional(strength, prefix):
    """A Plackett-Luce policy's probability of each item at the next slot after the items in prefix (0 for those)."""
    p = strength.copy()
    p[list(prefix)] = 0.0
    return p / p.sum()


def plackett_luce_marginals(strength):
    """Exact P(item a at slot l) for l < SLOTS, summing over every ordered prefix of distinct items."""
    n = len(strength)
    marginals = np.zeros((SLOTS, n))

    def walk(prefix, probability):
        slot = len(prefix)
        p = conditional(strength, prefix)
        marginals[slot] += probability * p
        if slot + 1 < SLOTS:
            for a in range(n):
                if p[a] > 0:
                    walk(prefix + [a], probability * p[a])

    walk([], 1.0)
    return marginals


def build(slates, n_items, feature):
    strength = np.exp(BETA * (feature - feature.max()))
    marginals = plackett_luce_marginals(strength)
    assert np.allclose(marginals.sum(axis=1), 1.0) and np.all(marginals.sum(axis=0) <= 1.0 + 1e-12)

    # Reward model: per (position, item) click rate, shrunk towards the position's rate, on the kept slates.
    clicks = np.zeros((SLOTS, n_items))
    shows = np.zeros((SLOTS, n_items))
    for triple in slates:
        for l, r in enumerate(triple):
            clicks[l, r["item"]] += r["click"]
            shows[l, r["item"]] += 1
    position_rate = clicks.sum(axis=1) / shows.sum(axis=1)
    q = (clicks + SHRINK * position_rate[:, None]) / (shows + SHRINK)

    records = []
    for i, triple in enumerate(slates):
        items = [r["item"] for r in triple]
        behavior_prefix, target_prefix = [], []
        model, under_target, under_behavior = [], [], []
        b = e = 1.0
        for l, a in enumerate(items):
            b = b / (n_items - l)
            pe = conditional(strength, items[:l])
            e = e * pe[a]
            behavior_prefix.append(b)
            target_prefix.append(e)
            model.append(q[l, a])
            under_target.append(float(pe @ q[l]))
            pb = conditional(np.ones(n_items), items[:l])
            under_behavior.append(float(pb @ q[l]))
        records.append({
            "slate": i,
            "rows": [r["row"] for r in triple],
            "items": items,
            "rewards": [float(r["click"]) for r in triple],
            "behavior_prefix": behavior_prefix,
            "behavior_marginal": [r["propensity"] for r in triple],
            "target_prefix": [float(x) for x in target_prefix],
            "target_marginal": [float(marginals[l, a]) for l, a in enumerate(items)],
            "model_reward": [float(x) for x in model],
            "model_reward_under_target": under_target,
            "model_reward_under_behavior": under_behavior,
        })
    return records, strength, q


def reference(records, n_items, strength, q, target):
    """obp's slate estimators on obp's row layout. target is "target" or "behavior" (the logger evaluated on itself)."""
    n = len(records)
    slate_id = np.repeat(np.arange(n), SLOTS)
    position = np.tile(np.arange(SLOTS), n)
    action = np.array([a for s in records for a in s["items"]])
    reward = np.array([x for s in records for x in s["rewards"]])
    b_cascade = np.array([x for s in records for x in s["behavior_prefix"]])
    b_joint = np.repeat(b_cascade[SLOTS - 1::SLOTS], SLOTS)
    b_item = np.array([x for s in records for x in s["behavior_marginal"]])
    if target == "target":
        e_cascade = np.array([x for s in records for x in s["target_prefix"]])
        e_item = np.array([x for s in records for x in s["target_marginal"]])
        policy = strength
    else:
        e_cascade, e_item, policy = b_cascade, b_item, np.ones(n_items)
    e_joint = np.repeat(e_cascade[SLOTS - 1::SLOTS], SLOTS)

    def per_slate(rho):
        return np.bincount(slate_id, weights=rho, minlength=n)

    def ips(pb, pe):
        return reward * pe / pb

    def self_normalised(pb, pe, by_position):
        w = pe / pb
        rho = np.zeros_like(w)
        if by_position:
            for l in range(SLOTS):
                at = position == l
                rho[at] = reward[at] * w[at] / w[at].mean()
        else:
            rho = reward * w / w.mean()
        return rho

    # Cascade DR inputs as obp takes them: q_hat and the target's per-slot action distribution, (n, L, |A|) each.
    q_hat = np.broadcast_to(q[None, :, :], (n, SLOTS, n_items))
    action_dist = np.zeros((n, SLOTS, n_items))
    for i, s in enumerate(records):
        for l in range(SLOTS):
            action_dist[i, l] = conditional(policy, s["items"][:l])
    assert np.allclose(action_dist.sum(axis=2), 1.0)
    w = e_cascade / b_cascade
    w_above = np.roll(w, 1)
    w_above[position == 0] = 1.0
    q_logged = q_hat.reshape(-1, n_items)[np.arange(n * SLOTS), action]
    q_expected = (q_hat * action_dist).sum(axis=2).reshape(-1)
    cascade_dr = w * (reward - q_logged) + w_above * q_expected

    rho = {
        "sips": ips(b_joint, e_joint),
        "iips": ips(b_item, e_item),
        "rips": ips(b_cascade, e_cascade),
        "snsips": self_normalised(b_joint, e_joint, by_position=False),
        "sniips": self_normalised(b_item, e_item, by_position=True),
        "snrips": self_normalised(b_cascade, e_cascade, by_position=True),
        "cascade-dr": cascade_dr,
    }
    out = {}
    for name, r in rho.items():
        v = per_slate(r)
        out[name] = {"value": float(r.sum() / np.unique(slate_id).shape[0]), "slate_value_mean_square": float(np.mean(v * v))}
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--obd", required=True, help="the obd/ folder of a zr-obp checkout")
    parser.add_argument("--out", default=os.path.join("samples", "data", "slates"))
    args = parser.parse_args()

    folder = os.path.join(args.obd, *CAMPAIGN)
    log_path = os.path.join(folder, CAMPAIGN[1] + ".csv")
    items_path = os.path.join(folder, "item_context.csv")
    feature = read_items(items_path)
    n_items = len(feature)
    slates, stats = group(read_rows(log_path), n_items)
    records, strength, q = build(slates, n_items, feature)

    name = "obd-%s-%s" % CAMPAIGN
    os.makedirs(args.out, exist_ok=True)
    text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records).encode()
    data_name = name + ".jsonl.gz"
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as z:
        z.write(text)
    with open(os.path.join(args.out, data_name), "wb") as f:
        f.write(buffer.getvalue())

    weights = np.array([r["target_prefix"][-1] / r["behavior_prefix"][-1] for r in records])
    ref = {
        "file": data_name,
        "source": {
            "dataset": "Open Bandit Dataset sample (ZOZO, Inc.; Saito et al.), CC BY 4.0",
            "files": {
                "/".join(CAMPAIGN + (CAMPAIGN[1] + ".csv",)): sha256(log_path),
                "/".join(CAMPAIGN + ("item_context.csv",)): sha256(items_path),
            },
        },
        "grouping": stats,
        "items": n_items,
        "slots": SLOTS,
        "target": "Plackett-Luce, strength exp(%g * item_feature_0)" % BETA,
        "reward_model": "click rate per (position, item) on the kept slates, shrunk to the position's rate with %g pseudo-impressions" % SHRINK,
        "slate_weight": {"min": float(weights.min()), "median": float(np.median(weights)), "max": float(weights.max())},
        "on_policy_value": float(np.mean([sum(r["rewards"]) for r in records])),
        "estimators": reference(records, n_items, strength, q, "target"),
        "estimators_behavior_as_target": reference(records, n_items, strength, q, "behavior"),
    }
    with open(os.path.join(args.out, name + ".reference.json"), "w") as f:
        json.dump(ref, f, indent=2)
        f.write("\n")
    print(json.dumps({k: ref[k] for k in ("grouping", "slate_weight", "on_policy_value")}, indent=2))
    print({k: v["value"] for k, v in ref["estimators"].items()})


if __name__ == "__main__":
    main()
