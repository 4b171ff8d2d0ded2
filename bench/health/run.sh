#!/bin/sh
# Health checker benchmark: N TCP and HTTP targets at a 1 s interval against a
# local epoll server (1,000 ports), in the checker's own namespace and through
# setns into another one; then the same checks done one at a time with
# blocking sockets (the kernel's floor). Prints Markdown tables.
#
#   bench/health/run.sh                  # N = 1000 and 10000, 20 s each (needs root for --netns)
#   RUN_SECONDS=5 TARGETS="1000" bench/health/run.sh
#   git show <rev>:src/health/checker.c > /tmp/checker_old.c
#   CHECKER=/tmp/checker_old.c OUT=build/bench-old bench/health/run.sh   # another version of the checker
set -eu

cd "$(dirname "$0")/../.."
RUN_SECONDS=${RUN_SECONDS:-20}
TARGETS=${TARGETS:-"1000 10000"}
OUT=${OUT:-build/bench}
CC=${CC:-cc}
CHECKER=${CHECKER:-src/health/checker.c}

mkdir -p "$OUT"
$CC -std=gnu11 -O2 -g -Wall -Wextra -Wstrict-prototypes -Wshadow -Werror -Wno-format-truncation -Isrc \
    -o "$OUT/checker_bench" bench/health/checker_bench.c "$CHECKER" \
    src/core/util.c src/core/log.c src/core/err.c -lpthread

netns=""
if [ "$(id -u)" = 0 ]; then netns="--netns"; fi

echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| type | netns | N | checks/s | failed | checker CPU % of a core | (/proc) | µs CPU/check | p50 | p99 | max | runq wait % | server CPU % | TIME_WAIT |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
for n in $TARGETS; do
    for type in tcp http; do
        "$OUT/checker_bench" --type "$type" --targets "$n" --seconds "$RUN_SECONDS" 2>/dev/null
        if [ -n "$netns" ]; then
            "$OUT/checker_bench" --type "$type" --targets "$n" --seconds "$RUN_SECONDS" $netns 2>/dev/null
        fi
    done
done
echo
echo "Floor (the same checks one at a time with blocking sockets, no checker):"
for n in $TARGETS; do
    for type in tcp http; do
        "$OUT/checker_bench" --type "$type" --targets "$n" --seconds 5 --floor 2>/dev/null
    done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
