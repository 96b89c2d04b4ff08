#!/bin/bash
# The runtime as Embedded Swift (no Swift runtime, no Foundation, no existentials), whole module,
# for the targets camera firmware uses: compiles Sources/DCDRuntime for each and prints the
# object's code size (.text). CI runs it so that the runtime stays Embedded-clean.
#   tools/embedded/check.sh [OUTDIR]       (default OUTDIR: /tmp/dcd-embedded-check)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-/tmp/dcd-embedded-check}
mkdir -p "$OUT"
SOURCES=$(find Sources/DCDRuntime -name '*.swift' | sort)
status=0
# Sum of the object's .text* section sizes (llvm-objdump ships with the Swift toolchain and reads
# every target's objects).
text_bytes() {
  local total=0 size
  for size in $(llvm-objdump -h "$1" | awk '$2 ~ /^\.text/ {print $3}'); do total=$((total + 16#$size)); done
  echo $total
}
for spec in "aarch64-none-none-elf cortex-a72" "aarch64-none-none-elf cortex-a76" "x86_64-unknown-linux-gnu x86-64-v3"; do
  set -- $spec
  target=$1 cpu=$2
  cpuflag=(-target-cpu "$cpu")
  [ "$cpu" = x86-64-v3 ] && cpuflag=(-target-cpu haswell -DDCD_AVX2)  # the AVX2 kernels
  obj="$OUT/DCDRuntime.$target.$cpu.o"
  if swiftc -target "$target" "${cpuflag[@]}" -enable-experimental-feature Embedded -wmo -Osize -parse-as-library \
       -module-name DCDRuntime $SOURCES -c -o "$obj" 2> "$OUT/$target.$cpu.log"; then
    text=$(text_bytes "$obj")
    printf '%-26s %-11s ok  .text %d bytes\n' "$target" "$cpu" "$text"
  else
    printf '%-26s %-11s FAILED (see %s)\n' "$target" "$cpu" "$OUT/$target.$cpu.log"
    head -20 "$OUT/$target.$cpu.log"
    status=1
  fi
done
exit $status
