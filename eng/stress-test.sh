#!/usr/bin/env bash
# Runs the whole test suite N times in a row (default 3) while stress-ng keeps every core busy, the way a shared CI
# machine can be: a test that depends on timing or machine speed fails here. Builds once, then prints each run's
# counts and wall time; exits non-zero if any run fails.
#
#   eng/stress-test.sh [RUNS=3]        STRESS_WORKERS (default: the number of cores) sets the stress-ng load.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-3}
workers=${STRESS_WORKERS:-$(nproc)}
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "stress-test.sh: RUNS must be a positive integer, got '$runs'" >&2; exit 2; }
if ! command -v stress-ng >/dev/null; then
  echo "installing stress-ng"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq stress-ng >/dev/null \
    || { echo "stress-test.sh: apt-get install stress-ng failed" >&2; exit 1; }
fi

dotnet build Flywheel.slnx -v quiet --nologo < /dev/null || exit 1
stress-ng --cpu "$workers" --quiet &
stress=$!
trap 'kill $stress 2>/dev/null; wait $stress 2>/dev/null' EXIT
echo "stress-ng --cpu $workers is loading the machine ($(nproc) cores)"

failed=0
for run in $(seq "$runs"); do
  log=$(mktemp)
  start=$(date +%s)
  dotnet test Flywheel.slnx --no-build < /dev/null > "$log" 2>&1
  rc=$?
  seconds=$(( $(date +%s) - start ))
  counts=$(grep -E '^(Passed|Failed)! +- Failed: ' "$log" \
    | sed -E 's/.*Failed: +([0-9]+), Passed: +([0-9]+), Skipped: +([0-9]+).*/\1 \2 \3/' \
    | awk '{f+=$1;p+=$2;s+=$3} END{printf "%d passed, %d failed, %d skipped", p, f, s}')
  echo "run $run/$runs: $counts in $((seconds / 60)) min $((seconds % 60)) s (exit $rc)"
  if [ "$rc" -ne 0 ]; then
    failed=1
    grep -E '\[FAIL\]' "$log" | sed 's/^/  /'
  fi
  rm -f "$log"
done
exit $failed
