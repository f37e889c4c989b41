"""NumPy reference for eigenq-compare's measurements, written from the numeric
contract (DESIGN.md section 3) and the tool's documented rules, not from its
C++ code: parameters by PyTorch's observer rules in float32, scales rounded to
their stored format (float16 / bfloat16 to nearest even, E8M0 up to a power of
two) with the affine zero point chosen again for the stored scale, float32
quantize / dequantize, bytes as stored, layer outputs (convolution with
groups, strides, pads and dilations; MatMul) in float64, and activation
parameters from min/max or moving-average observers on calibration batches,
scored on the held-out batch.

Used by gen_compare_layers.py (the golden file of tests/compare_test.cpp) and
check_compare.py (a check of any eigenq-compare --out folder).
"""
import math

import numpy as np

F32 = np.float32
EPS = F32(np.finfo(np.float32).eps)  # PyTorch's observer epsilon, 2^-23
RANGES = {'int8': (-128, 127), 'uint8': (0, 255), 'int4': (-8, 7), 'uint4': (0, 15), 'int2': (-2, 1)}
BITS = {'int8': 8, 'uint8': 8, 'int4': 4, 'uint4': 4, 'int2': 2}
SCALE_BITS = {'f32': 32, 'f16': 16, 'bf16': 16, 'e8m0': 8}


def shape_of(text):
    return () if text == 'scalar' else tuple(int(d) for d in text.split('x'))


def group_min_max(v, scheme, channel_axis, block_axis):
    """Per-parameter min and max, and a function expanding parameters to v's shape.

    v is the tensor as the scheme sees it (the block view for blocked schemes).
    scheme: 'per-tensor', 'per-channel', 'per-element', or 'gN' / 'blockN'."""
    if scheme == 'per-tensor':
        return np.array(v.min()), np.array(v.max()), lambda p: p
    if scheme == 'per-element':
        return v.copy(), v.copy(), lambda p: p
    if scheme == 'per-channel':
        a = channel_axis
        others = tuple(d for d in range(v.ndim) if d != a)
        shape = [1] * v.ndim
        shape[a] = v.shape[a]
        return v.min(axis=others).reshape(shape), v.max(axis=others).reshape(shape), lambda p: p
    # Groups of N consecutive indices along block_axis, the last one ragged.
    n = int(scheme[1:] if scheme.startswith('g') else scheme[len('block'):])
    b = block_axis
    m = np.moveaxis(v, b, -1)
    length = m.shape[-1]
    blocks = -(-length // n)
    padded = np.full(m.shape[:-1] + (blocks * n,), np.nan, dtype=F32)
    padded[..., :length] = m
    g = padded.reshape(m.shape[:-1] + (blocks, n))
    mn, mx = np.nanmin(g, axis=-1), np.nanmax(g, axis=-1)

    def expand(p):
        e = np.repeat(p, n, axis=-1)[..., :length]
        return np.moveaxis(e, -1, b)

    return mn, mx, expand


def qrange(fmt, mode):
    """The integer range: the format's, or without its lowest level for sym-narrow."""
    qmin, qmax = RANGES[fmt]
    return (qmin + 1, qmax) if mode == 'sym-narrow' else (qmin, qmax)


def store_scale(scale, fmt):
    """The scale as stored (and as dequantization multiplies by)."""
    s = np.asarray(scale, dtype=F32)
    if fmt == 'f16':
        h = s.astype(np.float16).astype(F32)
        return np.where(h == 0, F32(2.0 ** -24), h).astype(F32)
    if fmt == 'bf16':
        u = np.atleast_1d(s).view(np.uint32).astype(np.uint64)
        u = (u + np.uint64(0x7FFF) + ((u >> np.uint64(16)) & np.uint64(1))) & np.uint64(0xFFFF0000)
        return u.astype(np.uint32).view(F32).reshape(s.shape)
    if fmt == 'e8m0':
        m, e = np.frexp(s.astype(np.float64))
        return np.where(m == 0.5, s, np.ldexp(1.0, e)).astype(F32)
    return s


def choose_qparams(mn, mx, fmt, mode, scale_format='f32'):
    """PyTorch's _calculate_qparams in float32, then the scale as stored and,
    for affine parameters, the zero point chosen again for the stored scale."""
    qmin, qmax = qrange(fmt, mode)
    lo = np.minimum(mn, F32(0)).astype(F32)
    hi = np.maximum(mx, F32(0)).astype(F32)
    levels = F32(qmax - qmin)
    if mode != 'asym':
        scale = np.maximum(np.maximum(-lo, hi) / (levels / F32(2)), EPS).astype(F32)
        if fmt.startswith('int'):
            zp = 0
        else:  # unsigned: 128 over the full uint8 range, else the middle of the range
            zp = 128 if (qmin, qmax) == (0, 255) else (qmin + qmax) // 2
        return store_scale(scale, scale_format), np.full(scale.shape, zp, dtype=np.float64)
    scale = store_scale(np.maximum((hi - lo) / levels, EPS).astype(F32), scale_format)
    zp = np.clip(qmin - np.round((lo / scale).astype(F32)).astype(np.float64), qmin, qmax)
    return scale, zp


def fake_quantize(v, scale, zp, qmin, qmax):
    inv = (F32(1) / scale).astype(F32)
    r = np.round((v * inv).astype(F32))  # float32 product, round half to even
    q = np.clip(r.astype(np.float64) + zp, qmin, qmax)
    return ((q - zp).astype(F32) * scale).astype(F32)


def packed_bytes(n, bits):
    return (n * bits + 7) // 8


def quantize(x, scheme, fmt, mode, scale_format, zero_bits, channel_axis, block_shape, block_axis, order='C'):
    """(y, params, data_bytes, metadata_bytes) of a weight under one scheme."""
    v = x.reshape(block_shape, order=order) if scheme.startswith('g') else x
    mn, mx, expand = group_min_max(v, scheme, channel_axis, block_axis)
    scale, zp = choose_qparams(mn, mx, fmt, mode, scale_format)
    y = fake_quantize(v, expand(scale), expand(zp), *qrange(fmt, mode)).reshape(x.shape, order=order)
    params = int(np.size(scale))
    zbits = zero_bits if mode == 'asym' else 0
    meta = packed_bytes(params, SCALE_BITS[scale_format]) + packed_bytes(params, zbits)
    return y, params, packed_bytes(x.size, BITS[fmt]), meta


def sqnr(x, y):
    xd, yd = np.asarray(x, np.float64), np.asarray(y, np.float64)
    noise = float(((xd - yd) ** 2).sum())
    signal = float((xd ** 2).sum())
    return math.inf if noise == 0 else (-math.inf if signal == 0 else 10 * math.log10(signal / noise))


def conv2d(x, w, group=1, strides=(1, 1), pads=None, dilations=(1, 1)):
    """NCHW convolution in float64, no bias; pads in ONNX order (begin H, begin W,
    end H, end W), None for stride-1 "same" (the extra pad after)."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    n, c, h, wd = x.shape
    cout, cg, kh, kw = w.shape
    if pads is None:
        th, tw = (kh - 1) * dilations[0], (kw - 1) * dilations[1]
        pads = (th // 2, tw // 2, th - th // 2, tw - tw // 2)
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    ho = (h + pads[0] + pads[2] - dilations[0] * (kh - 1) - 1) // strides[0] + 1
    wo = (wd + pads[1] + pads[3] - dilations[1] * (kw - 1) - 1) // strides[1] + 1
    out = np.zeros((n, cout, ho, wo))
    per = cout // group
    for g in range(group):
        xs = xp[:, g * cg:(g + 1) * cg]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * dilations[0]:i * dilations[0] + strides[0] * (ho - 1) + 1:strides[0],
                           j * dilations[1]:j * dilations[1] + strides[1] * (wo - 1) + 1:strides[1]]
                out[:, g * per:(g + 1) * per] += np.einsum('nchw,oc->nohw', patch, w[g * per:(g + 1) * per, :, i, j])
    return out


def layer(entry, x, w):
    """The layer output W·x of an index entry's op."""
    if entry['op'] == 'Conv':
        return conv2d(x, w, entry.get('group', 1), tuple(entry.get('strides', (1, 1))), entry.get('pads'),
                      tuple(entry.get('dilations', (1, 1))))
    x64, w64 = np.asarray(x, np.float64), np.asarray(w, np.float64)
    return x64 @ (w64 if entry['out_axis'] == 1 else w64.T)


def split_activation(x, channel_axis, stripes=4):
    """(calibration batches, held-out batch): with two or more samples the last is
    held out and each other sample is cut into `stripes` stripes along the longest
    axis that is neither the batch nor the channel axis; with one sample, its
    stripes, the last held out."""
    along = None
    for d in range(1, x.ndim):
        if d != channel_axis and x.shape[d] >= 2 and (along is None or x.shape[d] > x.shape[along]):
            along = d

    def cut(t):
        n = t.shape[along]
        k = min(stripes, n)
        return [np.take(t, range(i * n // k, (i + 1) * n // k), axis=along) for i in range(k)]

    if x.shape[0] >= 2:
        held = x[-1:]
        calibration = [x[b:b + 1] for b in range(x.shape[0] - 1)]
        if along is not None:
            calibration = [s for c in calibration for s in cut(c)]
        return calibration, held
    parts = cut(x)
    return parts[:-1], parts[-1]


def observe(batches, held, observer, granularity, channel_axis, c=F32(0.01)):
    """Per-group min and max an observer chooses: 'minmax', 'moving-average'
    (running + float32(c * (batch - running))), or 'dynamic' (the held-out batch)."""
    def min_max(t):
        if granularity == 'per-tensor':
            return np.array([t.min()], F32), np.array([t.max()], F32)
        others = tuple(d for d in range(t.ndim) if d != channel_axis)
        return t.min(axis=others).astype(F32), t.max(axis=others).astype(F32)

    if observer == 'dynamic':
        return min_max(held)
    lo, hi = min_max(batches[0])
    for b in batches[1:]:
        blo, bhi = min_max(b)
        if observer == 'minmax':
            lo, hi = np.minimum(lo, blo), np.maximum(hi, bhi)
        else:
            lo = (lo + (c * (blo - lo).astype(F32)).astype(F32)).astype(F32)
            hi = (hi + (c * (bhi - hi).astype(F32)).astype(F32)).astype(F32)
    return lo, hi


def quantize_activation(held, lo, hi, fmt, mode, scale_format, granularity, channel_axis):
    scale, zp = choose_qparams(lo, hi, fmt, mode, scale_format)
    if granularity == 'per-channel':
        shape = [1] * held.ndim
        shape[channel_axis] = held.shape[channel_axis]
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    else:
        scale, zp = scale.reshape(()), zp.reshape(())
    return fake_quantize(held, scale, zp, *qrange(fmt, mode))
