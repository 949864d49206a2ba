#!/usr/bin/env bash
# Cold start of `guanjia serve` on an existing SQLite database with the demo
# data: milliseconds from exec to the first 200 from /readyz, and the
# process's resident memory right after. Prints the median of RUNS starts.
# usage: bench/coldstart.sh [runs]     (builds bin/guanjia first)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}
make -s build >/dev/null
data=$(mktemp -d)
trap 'rm -rf "$data"; [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true' EXIT
port=18765
./bin/guanjia demo --data "$data" >/dev/null 2>&1
times=(); rss=()
for i in $(seq 1 "$runs"); do
  t0=$(date +%s%N)
  ./bin/guanjia serve --data "$data" --addr 127.0.0.1:$port >/dev/null 2>&1 &
  pid=$!
  until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do sleep 0.002; done
  t1=$(date +%s%N)
  times+=($(( (t1 - t0) / 1000000 )))
  rss+=($(awk '/VmRSS/ {print $2}' /proc/$pid/status))
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "cold start to /readyz: median $(median "${times[@]}") ms over $runs runs (all: ${times[*]})"
echo "RSS after start: median $(( $(median "${rss[@]}") / 1024 )) MiB"
