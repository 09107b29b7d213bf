#!/usr/bin/env bash
# Progressive loss of `flywheel replay --cbify` on the reference data sets, next to Vowpal Wabbit's figures for every
# VW setting Flywheel implements and for Flywheel's defaults, and throughput on synth. Reproduces bench/RESULTS.md.
#
# usage: bench/replay-parity.sh [path/to/flywheel.dll]
#   Without a dll, builds src/Flywheel.Cli in Release into a temporary folder.
#   DATA=folder with digits.s{0..4}.csv, letter.s{0..4}.csv, synth.csv.gz (required; see bench/README.md)
#   SEEDS="1 2 3" SETTINGS="eps_adf default" SPEED_SETTINGS="default eps_adf" SPEED_RUNS=3 override the defaults.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${DATA:-}"
if [[ -z "$data" || ! -d "$data" ]]; then
  echo "replay-parity.sh: set DATA to the folder holding digits.s{0..4}.csv, letter.s{0..4}.csv and synth.csv.gz (bench/README.md)" >&2
  exit 2
fi
seeds="${SEEDS:-1 2 3}"
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

replay() { dotnet "$dll" replay --json "$@" 2>/dev/null; }

# Each VW setting of reference/vw-cbify.md that Flywheel implements, with the same arguments, and Flywheel's defaults.
# VW 9.11.2: mean over s0..s4 (min–max).
settings=(eps_adf softmax_adf squarecb_adf bag5_adf eps_dr default)
declare -A args=(
  [eps_adf]="--cb-type mtr --algorithm epsilon-greedy --epsilon 0.05"
  [softmax_adf]="--cb-type mtr --algorithm softmax --lambda 10"
  [squarecb_adf]="--cb-type mtr --algorithm squarecb"
  [bag5_adf]="--cb-type mtr --algorithm bag --bags 5"
  [eps_dr]="--cb-type dr --algorithm epsilon-greedy --epsilon 0.05"
  [default]="")
declare -A vw=(
  [digits.eps_adf]="0.4958 (0.4407–0.5526)" [letter.eps_adf]="0.9080 (0.8988–0.9184)"
  [digits.softmax_adf]="0.4594 (0.4101–0.5209)" [letter.softmax_adf]="0.8639 (0.8460–0.8766)"
  [digits.squarecb_adf]="0.4377 (0.3957–0.4819)" [letter.squarecb_adf]="0.8249 (0.7987–0.8606)"
  [digits.bag5_adf]="0.5251 (0.4725–0.6322)" [letter.bag5_adf]="0.8377 (0.8014–0.8679)"
  [digits.eps_dr]="0.7190 (0.6628–0.8041)" [letter.eps_dr]="0.9451 (0.9396–0.9524)"
  [digits.default]="best VW bandit setting: 0.4377 (squarecb_adf)" [letter.default]="best VW bandit setting: 0.8249 (squarecb_adf)"
  [synth.eps_adf]="0.5505" [synth.softmax_adf]="0.4600" [synth.squarecb_adf]="0.4002" [synth.bag5_adf]="0.3525"
  [synth.eps_dr]="0.7396" [synth.default]="best VW bandit setting: 0.3525 (bag5_adf)")
declare -A classes=([digits]=10 [letter]=26 [synth]=20)
# digits and letter come in five shuffles; synth in one order.
files() { if [[ $1 == synth ]]; then echo "$data/synth.csv.gz"; else echo "$data/$1".s{0,1,2,3,4}.csv; fi; }
only="${SETTINGS:-${settings[*]}}"

printf '\nprogressive loss; mean and min–max over shuffles s0..s4 (synth: its one order) × seeds %s\n\n' "$seeds"
printf '| data set | setting | Flywheel arguments | runs | Flywheel mean | min–max | greedy mean | VW 9.11.2 mean (min–max) |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for set in digits letter synth; do
  for name in $only; do
    losses=() greedy=()
    for file in $(files "$set"); do
      for seed in $seeds; do
        # shellcheck disable=SC2086
        json="$(replay --cbify "${classes[$set]}" "$file" ${args[$name]} --seed "$seed")"
        losses+=("$(field progressiveLoss "$json")")
        greedy+=("$(field greedyLoss "$json")")
      done
    done
    printf '%s\n' "${losses[@]}" | awk -v set="$set" -v name="$name" -v a="${args[$name]:-(none)}" -v vw="${vw[$set.$name]}" -v g="$(printf '%s\n' "${greedy[@]}" | awk '{s+=$1} END{printf "%.4f", s/NR}')" '
      NR==1 {min=$1; max=$1} {s+=$1; if ($1<min) min=$1; if ($1>max) max=$1}
      END {printf "| %s | %s | `%s` | %d | %.4f | %.4f–%.4f | %s | %s |\n", set, name, a, NR, s/NR, min, max, g, vw}'
  done
done

printf '\nthroughput on synth.csv.gz (200,000 rows, K = 20, gzip), median of %s runs by examples/s\n' "$speed_runs"
printf '("seconds" is timed inside the process from opening the file to the last update; "wall" includes process start-up)\n\n'
printf '| setting | Flywheel arguments | progressive loss | seconds | examples/s | wall s | examples/s by wall |\n|---|---|---|---|---|---|---|\n'
for name in ${SPEED_SETTINGS:-default eps_adf}; do
  runs=()
  for ((i = 0; i < speed_runs; i++)); do
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    json="$(replay --cbify 20 "$data/synth.csv.gz" ${args[$name]} --seed 1)"
    t1=$(date +%s.%N)
    runs+=("$(field examplesPerSecond "$json") $(field seconds "$json") $(field progressiveLoss "$json") $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}') $(field examples "$json")")
  done
  printf '%s\n' "${runs[@]}" | sort -n | awk -v name="$name" -v a="${args[$name]:-(none)}" '{r[NR]=$0} END {if (NR == 0) exit; split(r[int((NR+1)/2)], m, " "); printf "| %s | `%s` | %.4f | %.3f | %.0f | %.3f | %.0f |\n", name, a, m[3], m[2], m[1], m[4], m[5]/m[4]}'
done
printf '\nVW 9.11.2 eps_adf on synth: 0.5505, 283,000 examples/s (2-core AMD EPYC Zen 5; reference/vw-cbify.md)\n'
printf 'machine: %s, %s cores\n' "$(lscpu | sed -nE 's/^Model name: +//p' | head -1)" "$(nproc)"
