#!/usr/bin/env bash
# Progressive loss of `flywheel replay --cbify` on the reference data sets, next to Vowpal Wabbit's eps_adf,
# and throughput on synth. Reproduces the figures of the replay parity report.
#
# usage: bench/replay-parity.sh [path/to/flywheel.dll]
#   Without a dll, builds src/Flywheel.Cli in Release into a temporary folder.
#   DATA=folder with digits.s{0..4}.csv, letter.s{0..4}.csv, synth.csv.gz (default: ../shared/data/cb beside the repo)
#   SEEDS="1 2 3" CB_TYPES="dm mtr" EPSILON=0.05 SPEED_RUNS=3 override the defaults.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${DATA:-$repo/../shared/data/cb}"
seeds="${SEEDS:-1 2 3}"
cb_types="${CB_TYPES:-dm mtr}"
epsilon="${EPSILON:-0.05}"
speed_runs="${SPEED_RUNS:-3}"

if [[ $# -ge 1 ]]; then
  dll="$1"
else
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
  echo "building src/Flywheel.Cli (Release) into $out" >&2
  dotnet build "$repo/src/Flywheel.Cli/Flywheel.Cli.csproj" -c Release -o "$out" --nologo -v quiet >&2
  dll="$out/flywheel.dll"
fi
[[ -f "$dll" ]] || { echo "replay-parity: no such dll: $dll" >&2; exit 2; }
[[ -d "$data" ]] || { echo "replay-parity: no data folder $data (set DATA=…)" >&2; exit 2; }

# field NAME JSON -> the number after "NAME":
field() { sed -E "s/.*\"$1\":(-?[0-9.eE+-]+).*/\1/" <<<"$2"; }

replay() { dotnet "$dll" replay --json --epsilon "$epsilon" "$@" 2>/dev/null; }

# VW 9.11.2 eps_adf (ε-greedy 0.05, MTR), mean over s0..s4 (reference/vw-cbify.md).
declare -A vw=([digits]="0.4958 (0.4407–0.5526)" [letter]="0.9080 (0.8988–0.9184)")
declare -A classes=([digits]=10 [letter]=26)

printf '\nprogressive loss, epsilon-greedy %s; mean and min–max over shuffles s0..s4 × seeds %s\n\n' "$epsilon" "$seeds"
printf '| data set | cb type | runs | mean | min–max | greedy mean | VW eps_adf (mtr) |\n'
printf '|---|---|---|---|---|---|---|\n'
for set in digits letter; do
  for cb in $cb_types; do
    losses=() greedy=()
    for s in 0 1 2 3 4; do
      for seed in $seeds; do
        json="$(replay --cbify "${classes[$set]}" "$data/$set.s$s.csv" --cb-type "$cb" --seed "$seed")"
        losses+=("$(field progressiveLoss "$json")")
        greedy+=("$(field greedyLoss "$json")")
      done
    done
    printf '%s\n' "${losses[@]}" | awk -v set="$set" -v cb="$cb" -v vw="${vw[$set]}" -v g="$(printf '%s\n' "${greedy[@]}" | awk '{s+=$1} END{printf "%.4f", s/NR}')" '
      NR==1 {min=$1; max=$1} {s+=$1; if ($1<min) min=$1; if ($1>max) max=$1}
      END {printf "| %s | %s | %d | %.4f | %.4f–%.4f | %s | %s |\n", set, cb, NR, s/NR, min, max, g, vw}'
  done
done

printf '\nthroughput on synth.csv.gz (200,000 rows, K = 20, gzip), median of %s runs by examples/s\n' "$speed_runs"
printf '("seconds" is timed inside the process from opening the file to the last update; "wall" includes process start-up)\n\n'
printf '| cb type | progressive loss | seconds | examples/s | wall s | examples/s by wall |\n|---|---|---|---|---|---|\n'
for cb in $cb_types; do
  runs=()
  for ((i = 0; i < speed_runs; i++)); do
    t0=$(date +%s.%N)
    json="$(replay --cbify 20 "$data/synth.csv.gz" --cb-type "$cb" --seed 1)"
    t1=$(date +%s.%N)
    runs+=("$(field examplesPerSecond "$json") $(field seconds "$json") $(field progressiveLoss "$json") $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}') $(field examples "$json")")
  done
  printf '%s\n' "${runs[@]}" | sort -n | awk -v cb="$cb" '{r[NR]=$0} END {split(r[int((NR+1)/2)], m, " "); printf "| %s | %.4f | %.3f | %.0f | %.3f | %.0f |\n", cb, m[3], m[2], m[1], m[4], m[5]/m[4]}'
done
printf '\nVW 9.11.2 eps_adf on synth: 0.5505, 283,000 examples/s (2-core AMD EPYC Zen 5; reference/vw-cbify.md)\n'
printf 'machine: %s, %s cores\n' "$(lscpu | sed -nE 's/^Model name: +//p' | head -1)" "$(nproc)"
