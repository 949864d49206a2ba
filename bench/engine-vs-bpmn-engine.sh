#!/usr/bin/env bash
# Side by side on one model (start → three user tasks → end): npm's
# bpmn-engine, in memory and persisting nothing (installed into a scratch
# folder by ../shared/bench/bpmn-engine/run.sh, nothing of it kept), then
# our engine through its Go API with every step committed to a SQLite file
# (the default synchronous=NORMAL, and FULL: an fsync per commit). Prints
# both and the ratio. Both run one instance at a time; ours is shown with
# 8 goroutines too.
# usage: bench/engine-vs-bpmn-engine.sh [MODEL.bpmn] [instances]   (needs node, npm, go)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${GUANJIA_SHARED:-../shared}
model=$(realpath "${1:-$shared/bench/three-user-tasks.bpmn}")
n=${2:-5000}

peer=$("$shared/bench/bpmn-engine/run.sh" "$model" "$n")
echo "$peer"
theirs=$(sed -n 's/.* \([0-9.]*\) instances\/s.*/\1/p' <<<"$peer")

ours=$(GUANJIA_BENCH_MODEL="$model" go test -run '^$' \
  -bench '^BenchmarkThreeUserTasks$/^(sqlite-normal|sqlite-full)$/' -benchtime "${n}x" ./internal/flow/)
awk -v theirs="$theirs" '
  /^BenchmarkThreeUserTasks\// {
    name = $1; sub(/^BenchmarkThreeUserTasks\//, "", name); sub(/-[0-9]+$/, "", name)
    for (i = 2; i < NF; i++) {
      if ($(i+1) == "instances/s") inst = $i
      if ($(i+1) == "completions/s") done = $i
    }
    printf "guanjia %-28s %6.0f instances/s, %6.0f task completions/s, every step committed: %.1f× bpmn-engine\n", name":", inst, done, inst / theirs
  }' <<<"$ours"
