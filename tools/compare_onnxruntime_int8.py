#!/usr/bin/env python3
"""int8 accuracy side by side: dcd-compile's int8 against ONNX Runtime's own static int8
quantization (quantize_static, QDQ, per-channel int8 weights, uint8 activations, MinMax) of the
same weights, calibrated on the same photos, measured on the same held-out photos as PSNR of the
int8 output against the float output (both rounded to 8-bit pixels).

    /tmp/torchvenv/bin/pip install torch numpy pillow onnx onnxruntime onnxscript
    swift build -c release
    /tmp/torchvenv/bin/python tools/compare_onnxruntime_int8.py CHECKPOINT.pth PHOTO_DIR

PHOTO_DIR holds PNGs; as dcd-compile does, every fourth (sorted by name) is held out and
centre-cropped to 128x128, the others give 32 calibration crops of 64, 96 and 128 pixels.
"""
import json, os, subprocess, sys, tempfile
import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from make_fixtures import ResnetGenerator


def load_generator(path):
    sd = torch.load(path, map_location='cpu', weights_only=True)
    ngf = sd['model.1.weight'].shape[0]
    start = 10 if 'model.7.filt' not in sd else 12
    blocks = 0
    while f'model.{start + blocks}.conv_block.1.weight' in sd:
        blocks += 1
    net = ResnetGenerator(ngf=ngf, n_blocks=blocks, no_antialias='model.7.filt' not in sd,
                          no_antialias_up=f'model.{start + blocks}.filt' not in sd)
    net.load_state_dict(sd)
    return net.eval(), ngf, blocks


def to_input(img):  # HxWx3 uint8 -> 1x3xHxW in [-1, 1]
    return (torch.from_numpy(img.astype(np.float32)).permute(2, 0, 1)[None] / 255 * 2 - 1).numpy()


def to_bytes(y):  # 1x3xHxW tanh -> HxWx3 bytes
    return np.clip(np.floor((y[0].transpose(1, 2, 0) + 1) / 2 * 255 + 0.5), 0, 255)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 99.0 if mse == 0 else 10 * np.log10(255 ** 2 / mse)


def main():
    checkpoint, photos = sys.argv[1], sys.argv[2]
    names = sorted(n for n in os.listdir(photos) if n.lower().endswith('.png'))
    calibration, held_out = [], []
    for i, n in enumerate(names):
        img = np.asarray(Image.open(os.path.join(photos, n)).convert('RGB'))
        if len(names) >= 2 and i % 4 == 3:
            h, w = min(128, img.shape[0]), min(128, img.shape[1])
            y, x = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
            held_out.append(np.ascontiguousarray(img[y:y + h, x:x + w]))
        else:
            calibration.append(img)
    rng = np.random.default_rng(1)
    crops = []
    for img in calibration:
        for k in range(4):
            s = [64, 96, 128][k % 3]
            y, x = rng.integers(0, img.shape[0] - s + 1), rng.integers(0, img.shape[1] - s + 1)
            crops.append(np.ascontiguousarray(img[y:y + s, x:x + s]))
    crops = crops[:32]

    net, ngf, blocks = load_generator(checkpoint)
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    import onnxruntime as ort
    with tempfile.TemporaryDirectory() as tmp:
        fp32, int8 = os.path.join(tmp, 'g.onnx'), os.path.join(tmp, 'g.int8.onnx')
        torch.onnx.export(net, torch.zeros(1, 3, 64, 64), fp32, opset_version=17, input_names=['x'], output_names=['y'],
                          dynamic_axes={'x': {2: 'h', 3: 'w'}, 'y': {2: 'h', 3: 'w'}}, dynamo=False)

        class Reader(CalibrationDataReader):
            def __init__(self):
                self.items = iter([{'x': to_input(c)} for c in crops])

            def get_next(self):
                return next(self.items, None)

        # ONNX Runtime's recommended pre-processing (shape inference, graph optimisation).
        from onnxruntime.quantization.shape_inference import quant_pre_process
        pre = os.path.join(tmp, 'g.pre.onnx')
        quant_pre_process(fp32, pre)
        quantize_static(pre, int8, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 2
        session = ort.InferenceSession(int8, options, providers=['CPUExecutionProvider'])
        ort_psnr = []
        for img in held_out:
            with torch.no_grad():
                reference = to_bytes(net(torch.from_numpy(to_input(img))).numpy())
            ort_psnr.append(psnr(to_bytes(session.run(None, {'x': to_input(img)})[0]), reference))

        out = subprocess.run(['.build/release/dcd-compile', checkpoint, '--calibrate', photos, '--json', '--calibration-method', 'mse',
                              '-o', os.path.join(tmp, 'g.dcdm')], capture_output=True, text=True, check=True)
        dcd = json.loads(out.stdout.strip().splitlines()[-1])

    print(f'generator ngf={ngf} n_blocks={blocks}; {len(crops)} calibration crops; {len(held_out)} held-out photos')
    print('| int8 path | held-out PSNR vs float |')
    print('|---|---|')
    print(f'| dcd-compile (mse ranges, integer InstanceNorm) | {dcd["held_out_psnr_db"]:.2f} dB |')
    print(f'| ONNX Runtime {ort.__version__} quantize_static (QDQ, per-channel, MinMax) | {np.mean(ort_psnr):.2f} dB |')


if __name__ == '__main__':
    main()
