#!/bin/bash
# What the compiler emits for the convolution kernels, per target CPU: compiles the runtime
# (whole module, -O) to assembly, cuts out Int8Convolution.accumulate,
# FloatConvolution.accumulate and the few-output-channel kernels' Int8RowDotKernel.accumulate and
# FloatRowDotKernel.accumulate (the tiles are inlined into them) and counts the
# multiply-accumulate instructions in each.
#
#   tools/dump_kernel_asm.sh [OUTDIR]      (default OUTDIR: /tmp/dcd-asm; full .s files land there)
#
# Targets: haswell (x86-64-v3 level, the AVX2 kernel), znver4 (AVX-512 VNNI kernel), aarch64 cortex-a72
# (portable kernel) and cortex-a76 (NEON sdot kernel), built as Embedded Swift for
# aarch64-none-none-elf: the toolchain ships that standard library; the code is the same as for
# aarch64 Linux.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/dcd-asm}
mkdir -p "$OUT"
SOURCES=$(find Sources/DCDRuntime -name '*.swift' | sort)
emit() {  # name, flags...
  local name=$1; shift
  swiftc -emit-assembly -O -wmo -parse-as-library -module-name DCDRuntime "$@" $SOURCES -o "$OUT/$name.s"
  # Each accumulate function: from its label to the end-of-function marker.
  for kernel in Int8Convolution FloatConvolution Int8RowDotKernel FloatRowDotKernel; do
    local cut="$OUT/$name.$kernel.accumulate.s"
    # Swift mangling: the type name's length, the name, O (an enum), 10accumulate.
    local pat='^[$][es]10DCDRuntime'"${#kernel}$kernel"'O10accumulate[^ ]*:'
    awk -v pat="$pat" '$0 ~ pat {on=1} on {print} on && /^\.Lfunc_end/ {on=0}' "$OUT/$name.s" > "$cut"
    printf '%-18s %-17s' "$name" "$kernel"
    for insn in vpdpbusd vpdpwssd vpmaddwd vpmaddubsw vpmulld vfmadd231ps pmaddwd pmulld pmuludq mulps addps sdot smlal smlal2 fmla mla mul; do
      n=$(grep -cE "^\s+$insn\s" "$cut" || true)
      [ "$n" != 0 ] && printf ' %s:%s' "$insn" "$n"
    done
    echo "   ($(wc -l < "$cut") lines: $cut)"
  done
}
emit haswell-avx2 -target-cpu haswell -DDCD_AVX2
emit znver4 -target-cpu znver4 -DDCD_AVX512VNNI
emit x86-64-baseline
EMBEDDED=(-target aarch64-none-none-elf -enable-experimental-feature Embedded)
emit cortex-a72 "${EMBEDDED[@]}" -target-cpu cortex-a72
emit cortex-a76 "${EMBEDDED[@]}" -target-cpu cortex-a76 -DDCD_NEON_DOTPROD
