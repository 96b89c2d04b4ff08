#!/bin/bash
# Multiply-accumulate peak of this machine and the int8 convolution kernel's throughput.
#   tools/peak/run.sh [cpu]     (default cpu: znver3, i.e. AVX2; e.g. haswell, znver4)
set -euo pipefail
cd "$(dirname "$0")/../.."
CPU=${1:-znver3}
case "$CPU" in
  znver4|znver5|icelake-server|sapphirerapids|cascadelake) DEFINE=-DDCD_AVX512VNNI ;;
  haswell|core-avx2|skylake|alderlake|znver1|znver2|znver3) DEFINE=-DDCD_AVX2 ;;
  *) DEFINE= ;;
esac
OUT=$(mktemp -d)
swiftc -O -target-cpu "$CPU" $DEFINE tools/peak/MultiplyAccumulatePeak.swift -o "$OUT/peak"
swiftc -O -wmo -target-cpu "$CPU" $DEFINE -parse-as-library -module-name KernelBench \
  $(find Sources/DCDRuntime -name '*.swift') tools/peak/ConvolutionKernelBench.swift -o "$OUT/kernel"
"$OUT/peak"
"$OUT/kernel"
rm -rf "$OUT"
