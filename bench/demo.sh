#!/usr/bin/env bash
# Wall time and peak memory of `flywheel demo`, end to end from the command (process start, three simulated products
# on the real engine and store, the report), at the default size and at 10x users.
# Usage: bench/demo.sh [users-multipliers...]   (default: "1 10"; needs GNU time: Debian package `time`)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
dotnet build src/Flywheel.Cli -c Release -v quiet --nologo >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
default_users=100
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(lscpu | sed -n 's/^Model name: *//p')"
for multiplier in ${@:-1 10}; do
  users=$((default_users * multiplier))
  # --json prints every figure; the run is the same as without it (report included).
  /usr/bin/time -f "%e %M %U %S" -o "$work/time" \
    dotnet run --no-build --project src/Flywheel.Cli -c Release -- demo --users "$users" --out "$work/demo-$users" --json \
    > "$work/out-$users.json" 2> "$work/err-$users"
  read -r wall rss user sys < "$work/time"
  printf 'demo --users %-5s  wall %6.1f s  peak RSS %5d MiB  CPU user %6.1f s  sys %5.1f s\n' "$users" "$wall" "$((rss / 1024))" "$user" "$sys"
  python3 - "$work/out-$users.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
total = sum(m[k]["decisions"] for m in d["months"] for k in ("a", "b", "c"))
last = d["months"][-1]
print(f"  decisions {total:,}; {last['name']}: " + "; ".join(
    f"{k.upper()} {last[k]['activeUsers']} users, reward {last[k]['meanReward']:.3f}, v{last[k]['modelVersion']}" for k in ("a", "b", "c")))
print("  promoted turns: " + ", ".join(
    f"{k.upper()} {sum(1 for t in d['turns'][k] if t['entry']['verdict'] == 'promoted')}/{len(d['turns'][k])}" for k in ("a", "c")))
PY
done
