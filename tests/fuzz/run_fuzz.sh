#!/bin/bash
# run_fuzz.sh - runs one libFuzzer harness for a while and writes one line
# of the summary table (tests/fuzz/fuzz.mk's `make fuzz` calls it for each).
#
#   run_fuzz.sh BIN NAME SECONDS MAXLEN SEEDS FUZZDIR
#
# The corpus is FUZZDIR/corpus/NAME, seeded from SEEDS (what the fuzzer
# found before stays: runs add up); crash files go to
# FUZZDIR/crashes/NAME-*; the full log to FUZZDIR/logs/NAME.log; the table
# line to FUZZDIR/summary/NAME. Exits 1 if the harness crashed.
set -u
bin=$1 name=$2 secs=$3 maxlen=$4 seeds=$5 dir=$6
corpus=$dir/corpus/$name
mkdir -p "$corpus" "$dir/crashes" "$dir/logs" "$dir/summary"
# New seeds join the corpus; files already there are kept.
cp -n "$seeds"/* "$corpus"/ 2>/dev/null
stamp=$dir/logs/$name.start
touch "$stamp"
log=$dir/logs/$name.log
# -timeout: one input running this long is a hang, reported as a crash.
"$bin" -max_total_time="$secs" -max_len="$maxlen" -timeout=20 -print_final_stats=1 \
	-artifact_prefix="$dir/crashes/$name-" "$corpus" >"$log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
if [ -z "$execs" ]; then # a crash ends the run before the final stats
	execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
	rate=$(grep -o 'exec/s: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
fi
files=$(ls "$corpus" | wc -l)
size=$(find "$corpus" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d", (s + 1023) / 1024 }')
# This run's artifacts, but slow-unit ones (slow, not wrong).
crashes=$(find "$dir/crashes" -name "$name-*" ! -name "$name-slow-unit-*" -newer "$stamp" | sort | tr '\n' ' ')
if [ $rc -ne 0 ] && [ -z "$crashes" ]; then
	crashes="exit $rc (see $log)"
fi
printf '%-18s %10s %8s %7s %8s  %s\n' "$name" "${execs:-?}" "${rate:-?}" "$files" "${size}K" \
	"${crashes:-0}" | tee "$dir/summary/$name"
if [ $rc -ne 0 ]; then
	grep -m1 -E 'ERROR: |property broken|om-agent fatal' "$log" | sed 's/^/    /'
	exit 1
fi
exit 0
