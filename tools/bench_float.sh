#!/usr/bin/env bash
# Float path speed against PyTorch (CPU, same threads), one 256x256 image, ngf=64, n_blocks=9
# (the reference code's default generator, ~69 GMAC). Median of RUNS runs each.
#
#   PYTHON=/tmp/torchvenv/bin/python THREADS=2 RUNS=5 tools/bench_float.sh
#
# dcd is timed as the whole `dcd-run` command (model load, PNG decode/encode included), PyTorch
# as the forward pass only, so the ratio is conservative for dcd.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/tmp/torchvenv/bin/python}
THREADS=${THREADS:-2}
RUNS=${RUNS:-5}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
swift build -c release >/dev/null
"$PYTHON" - "$scratch" "$THREADS" "$RUNS" <<'PY'
import sys, time, statistics, torch
sys.path.insert(0, 'tools')
import make_fixtures as m
out, threads, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
net = m.make_net(1, ngf=64, n_blocks=9)
torch.save(net.state_dict(), f'{out}/g.pth')
m.write_png(f'{out}/in.png', m.test_image(256, 256, 3))
x = torch.rand(1, 3, 256, 256)
times = []
with torch.no_grad():
    net(x)
    for _ in range(runs):
        t = time.perf_counter(); net(x); times.append(time.perf_counter() - t)
print(f'pytorch {torch.__version__}: median {statistics.median(times)*1000:.0f} ms  (min {min(times)*1000:.0f}, max {max(times)*1000:.0f})')
open(f'{out}/torch_ms', 'w').write(str(statistics.median(times) * 1000))
PY
.build/release/dcd-compile "$scratch/g.pth" -o "$scratch/g.dcdm" >/dev/null
times=()
.build/release/dcd-run -m "$scratch/g.dcdm" "$scratch/in.png" -o "$scratch/out.png" --threads "$THREADS"
for _ in $(seq "$RUNS"); do
  s=$(date +%s%N)
  .build/release/dcd-run -m "$scratch/g.dcdm" "$scratch/in.png" -o "$scratch/out.png" --threads "$THREADS"
  e=$(date +%s%N)
  times+=($(( (e - s) / 1000000 )))
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
torch_ms=$(cat "$scratch/torch_ms")
echo "dcd float: median ${median} ms  (runs: ${times[*]})"
awk -v d="$median" -v t="$torch_ms" 'BEGIN { printf "dcd / pytorch time ratio: %.2f (threads='"$THREADS"')\n", d / t }'
