#!/usr/bin/env bash
# Builds this BenchmarkDotNet suite twice, against an older commit ("before") and against the working tree ("after"),
# runs the chosen benchmarks on each, one class at a time and before-then-after, and prints both side by side.
# The suite's sources come from the working tree for both sides, so both run the same benchmark code.
#
#   bench/compare.sh [OLD_REF] [FILTER...]
#   OLD_REF defaults to eba943c (before issue 13's reshaped engine); FILTERs are BenchmarkDotNet --filter globs.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
old_ref=${1:-eba943c}
shift || true
filters=("$@")
[ ${#filters[@]} -gt 0 ] || filters=('*DecideBenchmarks.Engine_*' '*LearnBenchmarks*' '*StoreIngestBenchmarks.Engine_*')
command -v python3 >/dev/null || { echo "compare.sh needs python3 to join the reports" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git -C "$root" cat-file -e "$old_ref^{commit}" 2>/dev/null || { echo "compare.sh: '$old_ref' is not a commit" >&2; exit 2; }
mkdir -p "$work/before"
git -C "$root" archive "$old_ref" | tar -x -C "$work/before"
rm -rf "$work/before/bench/Flywheel.Benchmarks"
mkdir -p "$work/before/bench/Flywheel.Benchmarks"
(cd "$root/bench/Flywheel.Benchmarks" && tar -c --exclude=bin --exclude=obj --exclude=BenchmarkDotNet.Artifacts .) \
  | tar -x -C "$work/before/bench/Flywheel.Benchmarks"

echo "building before ($(git -C "$root" rev-parse --short "$old_ref")) and after ($(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD || echo ', with uncommitted changes'))"
dotnet build "$work/before/bench/Flywheel.Benchmarks" -c Release -v quiet --nologo -p:FlywheelBeforeSeam=true < /dev/null
dotnet build "$root/bench/Flywheel.Benchmarks" -c Release -v quiet --nologo < /dev/null

for filter in "${filters[@]}"; do
  for side in before after; do
    tree=$root; [ "$side" = before ] && tree=$work/before
    echo "== $side: $filter"
    dotnet run --no-build -c Release --project "$tree/bench/Flywheel.Benchmarks" -- \
      --filter "$filter" --exporters json --artifacts "$work/$side" < /dev/null | grep -E '^\| |^// \* (Summary|Warnings)' || true
  done
done

python3 - "$work" <<'PY'
import glob, json, os, sys
work = sys.argv[1]
def load(side):
    rows = {}
    for path in glob.glob(os.path.join(work, side, "results", "*.json")):
        for b in json.load(open(path))["Benchmarks"]:
            key = (b["Type"], b["Method"], b.get("Parameters") or "")
            stats = b.get("Statistics") or {}
            memory = b.get("Memory") or {}
            rows[key] = (stats.get("Mean"), stats.get("StandardError"), memory.get("BytesAllocatedPerOperation"))
    return rows
before, after = load("before"), load("after")
def time(ns):
    return "n/a" if ns is None else (f"{ns/1000:.2f} µs" if ns >= 1000 else f"{ns:.1f} ns")
print()
print("| benchmark | parameters | before | after | after / before | allocated before | allocated after |")
print("|---|---|---|---|---|---|---|")
for key in sorted(set(before) | set(after)):
    b, a = before.get(key), after.get(key)
    bm, be, ba = b if b else (None, None, None)
    am, ae, aa = a if a else (None, None, None)
    ratio = f"{am/bm:.2f}" if am and bm else "n/a"
    err = lambda m, e: time(m) + ("" if e is None else f" ± {time(e)}")
    print(f"| {key[0]}.{key[1]} | {key[2].replace('&', ', ')} | {err(bm, be)} | {err(am, ae)} | {ratio} | {ba} B | {aa} B |")
PY
