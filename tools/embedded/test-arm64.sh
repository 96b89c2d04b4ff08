#!/bin/bash
# The runtime's golden tests on ARM64, as firmware builds it: the Embedded Swift static library
# (tools/embedded/build.sh) for cortex-a72 (smlal kernels) and cortex-a76 (sdot kernels), linked
# into static ARM64 Linux executables with the C golden test and the README's C example, run
# under qemu-aarch64 with that CPU model; the same for x86-64 natively. Passes (exit 0) only when
# every build reproduces the x86 dcd-run outputs in Tests/Fixtures/golden (int8 bit for bit,
# float within 1 level) and the example's output equals the golden int8 output.
#   tools/embedded/test-arm64.sh            (installs gcc-aarch64-linux-gnu and qemu-user-static)
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64-static >/dev/null; then
  SUDO=""; [ "$(id -u)" != 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq gcc-aarch64-linux-gnu qemu-user-static >/dev/null
fi
# The README's C example is this file, as written.
python3 - <<'PY'
import sys
readme = open('README.md').read()
example = open('tools/embedded/example.c').read()
if '```c\n' + example + '```' not in readme:
    sys.exit('README.md: the C example differs from tools/embedded/example.c')
PY
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
GOLDEN=Tests/Fixtures/golden
SWIFT_BIN=$(dirname "$(command -v swiftc)")
run_suite() {  # name, compiler command..., -- runner...
  local name=$1; shift
  local cc=() runner=()
  while [ "$1" != -- ]; do cc+=("$1"); shift; done; shift
  runner=("$@")
  "${cc[@]}" -O2 -I"$OUT/$name" tools/embedded/golden_test.c "$OUT/$name/libdcd.a" -o "$OUT/$name/golden_test" -lpthread -lm
  "${cc[@]}" -O2 -I"$OUT/$name" tools/embedded/example.c "$OUT/$name/libdcd.a" -o "$OUT/$name/example" -lm
  echo "== $name"
  ${runner[@]+"${runner[@]}"} "$OUT/$name/golden_test" "$GOLDEN"
  ${runner[@]+"${runner[@]}"} "$OUT/$name/example" "$GOLDEN/trained8.int8.dcdm" "$GOLDEN/in.rgb24" 24 20 "$OUT/$name/example.rgb24"
  cmp "$OUT/$name/example.rgb24" "$GOLDEN/out.int8.rgb24"
  echo "example output equals the golden int8 output"
}
ARM=(aarch64-linux-gnu-gcc -static -fuse-ld=lld -B"$SWIFT_BIN" -Wl,--gc-sections)
for cpu in cortex-a72 cortex-a76; do
  bash tools/embedded/build.sh aarch64-none-none-elf $cpu "$OUT/$cpu"
  run_suite $cpu "${ARM[@]}" -- qemu-aarch64-static -cpu $cpu
done
bash tools/embedded/build.sh x86_64-unknown-linux-gnu haswell "$OUT/haswell"
if grep -qw avx2 /proc/cpuinfo; then
  run_suite haswell gcc -Wl,--gc-sections --
fi
echo "ARM64 (and x86-64) golden tests passed"
