#!/usr/bin/env bash
# Time-boxed coverage-guided fuzzing (libFuzzer) of every parser of untrusted or hand-edited bytes
# (Sources/pus-fuzz: XML bodies, mountinfo, the config, user names, SAS/query/percent-encoding, JSON, the
# ledger, and the emulator's handling of any request, Files and Blob), seeded from Tests/Fuzz/corpus. Inputs libFuzzer finds go to a temporary corpus; a crash, timeout or
# out-of-memory fails the run and its input is kept in .build-fuzz/artifacts/.
# usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 15 s each, every target)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
[ $# -gt 0 ] && shift
targets=${*:-xml mountinfo config names sas json ledger emulator blob}
# SwiftPM renames an executable's main; pus-fuzz calls LLVMFuzzerRunDriver itself. gold cannot link the
# instrumented binary (an internal error), lld can.
swift build -c release --scratch-path .build-fuzz --product pus-fuzz \
  -Xswiftc -sanitize=fuzzer -Xswiftc -DLIBFUZZER -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld >/dev/null
bin=.build-fuzz/release/pus-fuzz
work=$(mktemp -d /tmp/pus-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p .build-fuzz/artifacts
status=0
for t in $targets; do
  mkdir -p "$work/$t"
  # SWIFT_BACKTRACE off: libFuzzer, not Swift's crash reporter, must see a trap to keep the input.
  # TMPDIR: the emulator target keeps its data directory there, removed with $work.
  if TMPDIR=$work SWIFT_BACKTRACE=enable=no PUS_FUZZ_TARGET=$t "$bin" -max_total_time="$secs" -timeout=5 -rss_limit_mb=1024 -max_len=65536 -print_final_stats=1 \
       -artifact_prefix=".build-fuzz/artifacts/$t-" "$work/$t" "Tests/Fuzz/corpus/$t" > "$work/$t.log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log")
    echo "fuzz $t: $runs inputs in ${secs} s, $(ls "$work/$t" | wc -l) new corpus entries, no crash"
  else
    echo "fuzz $t: FAILED (input kept in .build-fuzz/artifacts/)"
    grep -E "ERROR|Fatal|SUMMARY|precondition" "$work/$t.log" | head -10
    status=1
  fi
done
exit "$status"
