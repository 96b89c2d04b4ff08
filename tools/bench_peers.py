#!/usr/bin/env python3
"""Speed side by side, one machine, one session: dcd-run --bench (int8 and float) against ONNX
Runtime (fp32, and static int8 QDQ per-channel), OpenVINO (fp32, when installed) and PyTorch
(fp32), same weights, input 1x3xHxW, same thread count; median of RUNS runs after a warm-up.
Runs are interleaved (one run of every contender per round), so that a slow minute of a shared
machine falls on all of them alike.

    /tmp/torchvenv/bin/pip install torch numpy onnx onnxruntime onnxscript [openvino]
    DCD_TARGET_CPU=znver3 swift build -c release --scratch-path .build/znver3
    /tmp/torchvenv/bin/python tools/bench_peers.py --dcd .build/znver3/release [--checkpoint W.pth]
        [--ngf 64 --blocks 9] [--size 256] [--threads 2] [--runs 10] [--photos DIR]

Without --checkpoint a generator of the given size is built with random weights (speed does not
depend on the weights; int8 calibration then uses the photos or random crops). The peers run
their forward pass only; dcd-run --bench times its whole derain call (interleaving the 8-bit
input, all ops, the planar output), so ratios are conservative for dcd.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import make_fixtures as m
from compare_onnxruntime_int8 import load_generator


def timed(fn, runs):
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), min(times), max(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dcd', default='.build/release', help='directory with dcd-compile and dcd-run')
    ap.add_argument('--checkpoint')
    ap.add_argument('--ngf', type=int, default=64)
    ap.add_argument('--blocks', type=int, default=9)
    ap.add_argument('--size', type=int, default=256)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--runs', type=int, default=10)
    ap.add_argument('--photos')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    contenders = []  # (name, run once -> ms)

    def python_timer(fn):
        def once():
            t = time.perf_counter()
            fn()
            return (time.perf_counter() - t) * 1000
        fn()  # warm-up
        return once

    with tempfile.TemporaryDirectory() as tmp:
        if a.checkpoint:
            net, ngf, blocks = load_generator(a.checkpoint)
            checkpoint = a.checkpoint
        else:
            ngf, blocks = a.ngf, a.blocks
            net = m.make_net(1, ngf=ngf, n_blocks=blocks).eval()
            checkpoint = os.path.join(tmp, 'g.pth')
            torch.save(net.state_dict(), checkpoint)
        x = torch.rand(1, 3, a.size, a.size) * 2 - 1

        def torch_forward():
            with torch.no_grad():
                net(x)
        contenders.append((f'PyTorch {torch.__version__} fp32', python_timer(torch_forward)))

        import onnxruntime as ort
        from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
        from onnxruntime.quantization.shape_inference import quant_pre_process
        fp32, pre, int8 = (os.path.join(tmp, n) for n in ('g.onnx', 'g.pre.onnx', 'g.int8.onnx'))
        torch.onnx.export(net, torch.zeros(1, 3, a.size, a.size), fp32, opset_version=17, input_names=['x'], output_names=['y'],
                          dynamo=False)
        rng = np.random.default_rng(1)
        crops = [rng.uniform(-1, 1, (1, 3, a.size, a.size)).astype(np.float32) for _ in range(4)]

        class Reader(CalibrationDataReader):
            def __init__(self):
                self.items = iter([{'x': c} for c in crops])

            def get_next(self):
                return next(self.items, None)

        quant_pre_process(fp32, pre)
        quantize_static(pre, int8, Reader(), quant_format=QuantFormat.QDQ, per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)
        options = ort.SessionOptions()
        options.intra_op_num_threads = a.threads
        options.inter_op_num_threads = 1
        xn = x.numpy()
        for name, path in ((f'ONNX Runtime {ort.__version__} fp32', fp32), (f'ONNX Runtime {ort.__version__} int8 (QDQ, per-channel)', int8)):
            session = ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])
            contenders.append((name, python_timer(lambda session=session: session.run(None, {'x': xn}))))
        try:
            import openvino as ov
            compiled = ov.Core().compile_model(fp32, 'CPU', {'INFERENCE_NUM_THREADS': a.threads, 'INFERENCE_PRECISION_HINT': 'f32'})
            request = compiled.create_infer_request()
            contenders.append((f'OpenVINO {ov.__version__} fp32', python_timer(lambda: request.infer({0: xn}))))
        except ImportError:
            pass

        info = {}
        for precision in ('int8', 'float'):
            model = os.path.join(tmp, f'g.{precision}.dcdm')
            cmd = [os.path.join(a.dcd, 'dcd-compile'), checkpoint, '--precision', precision, '-o', model]
            if precision == 'int8' and a.photos:
                cmd += ['--calibrate', a.photos]
            subprocess.run(cmd, check=True, capture_output=True)
            for threads in sorted({a.threads, 1}, reverse=True):
                def dcd(model=model, threads=threads):
                    # One process per run: model load and a warm-up run are outside the timing.
                    out = subprocess.run([os.path.join(a.dcd, 'dcd-run'), '--model', model, '--bench', '--json', '--size',
                                          f'{a.size}x{a.size}', '--runs', '1', '--threads', str(threads)],
                                         check=True, capture_output=True, text=True)
                    r = json.loads(out.stdout)
                    info['gmac'], info[precision] = r['gmac'], r['kernel']
                    return r['median_ms']
                dcd()
                label = f'dcd {precision} ({info[precision]} kernels)' + ('' if threads == a.threads else ', 1 thread')
                contenders.append((label, dcd))

        times = {name: [] for name, _ in contenders}
        for _ in range(a.runs):
            for name, once in contenders:
                times[name].append(once())
        rows = [(name, statistics.median(t), min(t), max(t)) for name, t in times.items()]
        macs = info['gmac']

    ort_fp32 = next(r[1] for r in rows if r[0].startswith('ONNX Runtime') and r[0].endswith('fp32'))
    print(f'generator ngf={ngf} n_blocks={blocks}, input 1x3x{a.size}x{a.size} ({macs} GMAC), {a.threads} threads, median of {a.runs} runs')
    print('| | median ms | min | max | GMAC/s | ONNX Runtime fp32 time / this |')
    print('|---|---|---|---|---|---|')
    for name, med, lo, hi in rows:
        print(f'| {name} | {med:.1f} | {lo:.1f} | {hi:.1f} | {macs / (med / 1000):.1f} | {ort_fp32 / med:.2f} |')


if __name__ == '__main__':
    main()
