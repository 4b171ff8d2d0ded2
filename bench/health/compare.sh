#!/bin/sh
# Before/after for the health checker on a shared, noisy machine: the same
# driver (checker_bench.c) built against the checker.c of a git revision and
# against the work tree's, run alternately, ROUNDS times per configuration;
# prints one Markdown row per configuration and version with the medians
# (and the spread of the CPU figure).
#
#   bench/health/compare.sh                      # HEAD vs the work tree, 3 rounds of 10 s
#   ROUNDS=5 RUN_SECONDS=8 TARGETS=10000 TYPES=http bench/health/compare.sh <rev>
set -eu

cd "$(dirname "$0")/../.."
REV=${1:-HEAD}
ROUNDS=${ROUNDS:-3}
RUN_SECONDS=${RUN_SECONDS:-10}
TARGETS=${TARGETS:-"1000 10000"}
TYPES=${TYPES:-"tcp http"}
OUT=${OUT:-build/bench}
CC=${CC:-cc}

mkdir -p "$OUT"
git show "$REV:src/health/checker.c" > "$OUT/checker_before.c"
for v in before after; do
    src=src/health/checker.c
    [ $v = before ] && src="$OUT/checker_before.c"
    $CC -std=gnu11 -O2 -g -Wall -Wextra -Wstrict-prototypes -Wshadow -Werror -Wno-format-truncation -Isrc \
        -o "$OUT/checker_bench_$v" bench/health/checker_bench.c "$src" \
        src/core/util.c src/core/log.c src/core/err.c -lpthread
done

netns="no"
if [ "$(id -u)" = 0 ]; then netns="no yes"; fi

echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)," \
    "$REV vs the work tree, $ROUNDS rounds of $RUN_SECONDS s"
rows="$OUT/compare.rows"
: > "$rows"
for round in $(seq "$ROUNDS"); do
    for n in $TARGETS; do
        for type in $TYPES; do
            for ns in $netns; do
                for v in before after; do
                    flag=""
                    [ $ns = yes ] && flag="--netns"
                    printf '%s %s ' "$round" "$v" >> "$rows"
                    "$OUT/checker_bench_$v" --type "$type" --targets "$n" --seconds "$RUN_SECONDS" $flag \
                        2>/dev/null >> "$rows"
                done
            done
        done
    done
done

python3 - "$rows" <<'EOF'
import statistics, sys

def us(x):
    v, unit = x.split()
    return float(v) * (1000 if unit == "ms" else 1)

def fmt(x):
    return f"{x:.0f} µs" if x < 1000 else f"{x / 1000:.1f} ms"

groups = {}
for line in open(sys.argv[1]):
    _, version, row = line.split(" ", 2)
    f = [c.strip() for c in row.strip().strip("|").split("|")]
    groups.setdefault((f[0], f[1], int(f[2])), {}).setdefault(version, []).append(f)

print("| type | netns | N | version | checks/s | failed | checker CPU % of a core: median (min–max) "
      "| µs CPU/check | p50 | p99 | max | runq wait % |")
print("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
med = statistics.median
for (type_, netns, n) in sorted(groups, key=lambda k: (k[2], k[0] != "tcp", k[1])):
    for version in ("before", "after"):
        rs = groups[(type_, netns, n)].get(version, [])
        if not rs:
            continue
        cpu = [float(r[5]) for r in rs]
        print(f"| {type_} | {netns} | {n} | {version} | {med(float(r[3]) for r in rs):.0f} "
              f"| {sum(int(r[4]) for r in rs)} | **{med(cpu):.1f}** ({min(cpu):.1f}–{max(cpu):.1f}) "
              f"| {med(float(r[7]) for r in rs):.0f} | {fmt(med(us(r[8]) for r in rs))} "
              f"| {fmt(med(us(r[9]) for r in rs))} | {fmt(med(us(r[10]) for r in rs))} "
              f"| {med(float(r[11]) for r in rs):.0f} |")
EOF
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
