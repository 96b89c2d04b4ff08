#!/bin/bash
# Firmware build of the runtime: Embedded Swift (no Swift runtime, no Foundation), whole module,
# size-optimized, one static library plus include/dcd.h for a target triple and CPU.
#   tools/embedded/build.sh TRIPLE CPU [OUTDIR]      (default OUTDIR: build/embedded/TRIPLE-CPU)
# e.g.  aarch64-none-none-elf cortex-a76    (Raspberry Pi 5: NEON sdot kernels)
#       aarch64-none-none-elf cortex-a72    (Raspberry Pi 4: NEON smlal kernels)
#       x86_64-unknown-linux-gnu haswell    (x86-64-v3: AVX2 kernels; znver4 etc.: AVX-512 VNNI)
# The kernels a CPU gets follow Package.swift's CPU lists (README, "CPU targets").
# Link with --gc-sections (the objects have one section per function): a program then carries
# only what it calls. The library needs from the C library: malloc family (posix_memalign, free),
# memcpy/memmove/memset/memcmp, strlen, floor/ceil/round/sqrt, arc4random_buf.
set -euo pipefail
cd "$(dirname "$0")/../.."
TRIPLE=$1
CPU=$2
OUT=${3:-build/embedded/$TRIPLE-$CPU}
mkdir -p "$OUT"
case "$CPU" in
  cortex-a55|cortex-a65|cortex-a75|cortex-a76|cortex-a77|cortex-a78|cortex-a710|cortex-a715|cortex-x1|cortex-x2|neoverse-n1|neoverse-n2|neoverse-v1)
    KERNELS=(-DDCD_NEON_DOTPROD) ;;
  cascadelake|cooperlake|icelake-client|icelake-server|tigerlake|rocketlake|sapphirerapids|emeraldrapids|graniterapids|znver4|znver5)
    KERNELS=(-DDCD_AVX512VNNI) ;;
  haswell|core-avx2|broadwell|skylake|skylake-avx512|alderlake|raptorlake|meteorlake|arrowlake|znver1|znver2|znver3)
    KERNELS=(-DDCD_AVX2) ;;
  *) KERNELS=() ;;
esac
swiftc -target "$TRIPLE" -target-cpu "$CPU" ${KERNELS[@]+"${KERNELS[@]}"} -enable-experimental-feature Embedded -wmo -Osize \
  -parse-as-library -module-name DCDRuntime -Xfrontend -function-sections \
  $(find Sources/DCDRuntime -name '*.swift' | sort) -c -o "$OUT/DCDRuntime.o"
rm -f "$OUT/libdcd.a"
llvm-ar rcs "$OUT/libdcd.a" "$OUT/DCDRuntime.o"
cp include/dcd.h "$OUT/dcd.h"
text=0
for size in $(llvm-objdump -h "$OUT/DCDRuntime.o" | awk '$2 ~ /^\.text/ {print $3}'); do text=$((text + 16#$size)); done
echo "$OUT/libdcd.a: $TRIPLE $CPU ${KERNELS[*]:-portable kernels}, code (.text) $text bytes"
