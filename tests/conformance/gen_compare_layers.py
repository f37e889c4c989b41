"""Writes the small layers of tests/compare_test.cpp and their golden results,
computed by the NumPy reference (compare_reference.py).

usage: /usr/bin/python3 tests/conformance/gen_compare_layers.py [OUT_DIR]
       (default: tests/data/compare/layers)

OUT_DIR gets weights/*.npy, activations/*.npy, an index.json in
eigenq-compare's format (ops, groups, strides, pads, dilations, links), and
golden.csv: for each weight under a set of schemes, the parameter count,
bytes as stored, weight SQNR and layer-output SQNR; for each activation under
a set of observers and schemes, the held-out SQNR and the consumer's output
SQNR. The layers cover a strided convolution, a depthwise one, a pointwise one
without pads in the index (stride 1 "same"), a dilated one, an asymmetric
kernel with asymmetric strides, MatMul weights stored [in, out] and [out, in],
and a weight without input. Fixed seed; NumPy only.
"""
import csv
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_reference as ref  # noqa: E402

F32 = np.float32

# name, weight shape, out_axis, op fields, activation shape (None: no input)
LAYERS = [
    ('conv_s2', (8, 4, 3, 3), 0, dict(op='Conv', group=1, strides=[2, 2], pads=[1, 1, 1, 1]), (2, 4, 9, 9)),
    ('depthwise', (6, 1, 3, 3), 0, dict(op='Conv', group=6, strides=[1, 1], pads=[1, 1, 1, 1]), (1, 6, 8, 8)),
    ('pointwise_same', (5, 6, 1, 1), 0, dict(op='Conv', group=1), (2, 6, 5, 5)),
    ('dilated', (4, 3, 3, 3), 0, dict(op='Conv', group=1, strides=[1, 1], pads=[2, 2, 2, 2], dilations=[2, 2]),
     (1, 3, 7, 7)),
    ('conv_rect', (4, 2, 1, 3), 0, dict(op='Conv', group=1, strides=[2, 1], pads=[0, 1, 0, 1]), (1, 2, 6, 6)),
    ('linear_in_out', (10, 7), 1, dict(op='MatMul'), (2, 3, 10)),
    ('linear_out_in', (7, 10), 0, dict(op='MatMul'), (2, 4, 10)),
    ('no_input', (3, 5), 0, dict(op='MatMul'), None),
]
FORMATS = ['int8', 'uint4', 'int2']
SCALES = ['f32', 'f16', 'bf16', 'e8m0']


def weight_values(rng, shape, out_axis):
    """Channels spread over two decades, one dead, a few outliers."""
    channels = shape[out_axis]
    sigma = 10.0 ** rng.uniform(-2, 0, channels)
    sigma[channels // 2] = 0.0
    bshape = [1] * len(shape)
    bshape[out_axis] = channels
    w = rng.standard_normal(shape) * sigma.reshape(bshape)
    w[rng.uniform(size=shape) < 0.02] *= 8
    return w.astype(F32)


def activation_values(rng, shape, channel_axis):
    channels = shape[channel_axis]
    bshape = [1] * len(shape)
    bshape[channel_axis] = channels
    x = rng.standard_normal(shape) * (10.0 ** rng.uniform(-1, 0.5, channels)).reshape(bshape)
    return np.where(x > -0.3, x, -0.3).astype(F32)  # ReLU-like with a small negative floor


def block_view(shape, out_axis):
    if out_axis == 0:
        return (shape[0], int(np.prod(shape[1:]))), 1
    return (int(np.prod(shape[:-1])), shape[-1]), 0


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'data', 'compare',
                                                               'layers')
    os.makedirs(os.path.join(out, 'weights'), exist_ok=True)
    os.makedirs(os.path.join(out, 'activations'), exist_ok=True)
    rng = np.random.default_rng(20251207)
    index = dict(tensors=[], activations=[])
    rows = []
    for k, (name, wshape, out_axis, fields, xshape) in enumerate(LAYERS):
        w = weight_values(rng, wshape, out_axis)
        wfile = 'weights/%s.npy' % name
        np.save(os.path.join(out, wfile), w)
        entry = dict(name=name, file=wfile, shape=list(wshape), role='weight', out_axis=out_axis, **fields)
        x = None
        if xshape is not None:
            channel_axis = 1 if len(xshape) == 4 else len(xshape) - 1
            x = activation_values(rng, xshape, channel_axis)
            afile = 'activations/%s.npy' % name
            np.save(os.path.join(out, afile), x)
            entry['activation'] = 'act:' + name
            index['activations'].append(dict(name='act:' + name, file=afile, shape=list(xshape),
                                             channel_axis=channel_axis, consumers=[name]))
        index['tensors'].append(entry)

        bshape, baxis = block_view(wshape, out_axis)
        y_float = ref.layer(entry, x, w) if x is not None else None
        combos = [(f, g, m) for f in FORMATS for g in ('per-tensor', 'per-channel', 'g16')
                  for m in ('asym', 'sym', 'sym-narrow')]
        combos.append(('int8', 'per-element', 'asym'))
        for i, (fmt, gran, mode) in enumerate(combos):
            scale = SCALES[(i + k) % len(SCALES)]
            zero = (ref.BITS[fmt] if (i // 4) % 2 == 0 else 32) if mode == 'asym' else 0
            y, params, data, meta = ref.quantize(w, gran, fmt, mode, scale, zero, out_axis, bshape, baxis)
            layer_db = ref.sqnr(y_float, ref.layer(entry, x, y)) if x is not None else math.nan
            rows.append(dict(tensor=name, format=fmt, scheme=gran, symmetry=mode, scale=scale, zero_point_bits=zero,
                             observer='', params=params, data_bytes=data, metadata_bytes=meta,
                             sqnr_db=repr(ref.sqnr(w, y)), layer_sqnr_db=repr(layer_db)))
        if x is None:
            continue
        channel_axis = 1 if x.ndim == 4 else x.ndim - 1
        batches, held = ref.split_activation(x, channel_axis)
        y_held = ref.layer(entry, held, w)
        i = 0
        for fmt in FORMATS:
            for gran in ('per-tensor', 'per-channel'):
                for mode in ('asym', 'sym'):
                    for observer in ('minmax', 'moving-average', 'dynamic'):
                        scale = SCALES[(i + k) % len(SCALES)]
                        i += 1
                        lo, hi = ref.observe(batches, held, observer, gran, channel_axis)
                        xq = ref.quantize_activation(held, lo, hi, fmt, mode, scale, gran, channel_axis)
                        params = lo.size
                        zero = ref.BITS[fmt] if mode == 'asym' else 0
                        meta = ref.packed_bytes(params, ref.SCALE_BITS[scale]) + ref.packed_bytes(params, zero)
                        rows.append(dict(tensor='act:' + name, format=fmt, scheme=gran, symmetry=mode, scale=scale,
                                         zero_point_bits=zero, observer=observer, params=params,
                                         data_bytes=ref.packed_bytes(held.size, ref.BITS[fmt]), metadata_bytes=meta,
                                         sqnr_db=repr(ref.sqnr(held, xq)),
                                         layer_sqnr_db=repr(ref.sqnr(y_held, ref.layer(entry, xq, w)))))
    with open(os.path.join(out, 'index.json'), 'w') as f:
        json.dump(index, f, indent=1)
        f.write('\n')
    with open(os.path.join(out, 'golden.csv'), 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator='\n')
        writer.writeheader()
        writer.writerows(rows)
    print('wrote %d layers and %d golden rows to %s' % (len(LAYERS), len(rows), out))


if __name__ == '__main__':
    main()
