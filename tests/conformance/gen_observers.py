#!/usr/bin/env python3
"""Golden calibration cases from PyTorch 1.13's observers: tests/data/pytorch_observers.txt.

Run with a Python that has torch 1.13 (Debian's python3-torch):
    /usr/bin/python3 tests/conformance/gen_observers.py

Observers (torch.ao.quantization.observer):
  MinMaxObserver, MovingAverageMinMaxObserver, PerChannelMinMaxObserver,
  MovingAveragePerChannelMinMaxObserver, HistogramObserver (2048 bins,
  upsample_rate 128, its L2 _non_linear_param_search).
Each case feeds the same batches to one observer and records what it holds
afterwards (min_val, max_val; for the histogram the non-zero bins) and what
calculate_qparams returns; for the histogram also the range chosen by
_non_linear_param_search and the bin width.

Fields:
  observer  minmax | moving_average | per_channel | moving_average_per_channel | histogram
  dtype     qint8 | quint8;  qscheme affine | symmetric;  qmin, qmax: the
            observer's quant_min / quant_max after construction (reduce_range
            and custom ranges resolved by PyTorch); custom: 1 when quant_min /
            quant_max were passed explicitly
  c         averaging_constant (moving averages); axis: ch_axis (per channel)
  data      the name of a `data_<n>` line: shape (of every batch,
            row-major), batches (their number), x (all batches, concatenated)
  min, max  min_val, max_val after the last batch (lists per channel)
  scale, zp calculate_qparams()
  eps       the observer's eps argument (float32) when not PyTorch's default
  histogram: bins, l2_min, l2_max (the searched range), hist_index and
            hist_value (the non-zero bins of the final histogram)
"""
import os
import sys

import numpy as np
import torch
from torch.ao.quantization import observer as obs

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_writer import Writer, floats, hexfloat, ints  # noqa: E402

assert torch.__version__.startswith("1.13"), "the golden file records PyTorch 1.13"

QSCHEMES = {
    ("affine", False): torch.per_tensor_affine,
    ("symmetric", False): torch.per_tensor_symmetric,
    ("affine", True): torch.per_channel_affine,
    ("symmetric", True): torch.per_channel_symmetric,
}
DTYPES = {"qint8": torch.qint8, "quint8": torch.quint8}


def batches_for(rng, kind, shape, count):
    """Activation-like batches whose ranges move from batch to batch."""
    out = []
    for b in range(count):
        if kind == "mixed":
            gen = [lambda: rng.normal(0.5, 2.0, shape), lambda: rng.uniform(-0.1, 7.3, shape),
                   lambda: rng.normal(0.0, 0.3, shape), lambda: rng.standard_t(3, shape) * 1.5,
                   lambda: rng.uniform(-4.2, 1.1, shape)][b % 5]
            x = gen()
        elif kind == "relu":
            x = np.maximum(rng.normal(0.3 + 0.4 * b, 1.0 + 0.5 * b, shape), 0.0)
        elif kind == "small":  # inside (-1, 1): PyTorch 1.13's integer histogram bounds are both 0
            x = rng.uniform(-0.45 - 0.1 * b, 0.6 + 0.05 * b, shape)
        elif kind == "wide":  # bounds far from integers
            x = rng.normal(0.0, 1.0 + b, shape) * 1.7 + 0.35
        elif kind == "heavy":  # mostly small, a few outliers
            x = rng.standard_t(2, shape) * 0.8
        elif kind == "constant_first":
            x = np.full(shape, 1.25) if b == 0 else rng.normal(1.0, 1.0 + b, shape)
        elif kind == "shrinking":  # later batches inside the first one's range
            x = rng.uniform(-3.0, 3.0, shape) / (1 + 2 * b)
        elif kind == "positive":
            x = rng.uniform(0.25, 3.5 + b, shape)
        elif kind == "negative":
            x = -rng.uniform(0.5, 2.0 + b, shape)
        elif kind == "zeros":
            x = np.zeros(shape)
        elif kind == "tiny":  # a range of about 0.05 * (b + 1): below some eps values
            x = rng.uniform(-0.02, 0.03, shape) * (b + 1)
        elif kind == "dead_channel":
            x = rng.normal(0.0, 1.0 + b, shape)
            x[..., 1] = 0.0 if len(shape) > 1 else x[..., 1]
        else:
            raise ValueError(kind)
        out.append(np.asarray(x, dtype=np.float32))
    return out


def make_observer(kind, dtype, qscheme, reduce_range, custom, c, axis, eps=None):
    per_channel = kind in ("per_channel", "moving_average_per_channel")
    kwargs = dict(dtype=DTYPES[dtype], qscheme=QSCHEMES[(qscheme, per_channel)], reduce_range=reduce_range)
    if eps is not None:
        kwargs.update(eps=eps)
    if custom:
        kwargs.update(quant_min=custom[0], quant_max=custom[1])
    if kind == "minmax":
        return obs.MinMaxObserver(**kwargs)
    if kind == "moving_average":
        return obs.MovingAverageMinMaxObserver(averaging_constant=c, **kwargs)
    if kind == "per_channel":
        return obs.PerChannelMinMaxObserver(ch_axis=axis, **kwargs)
    if kind == "moving_average_per_channel":
        return obs.MovingAveragePerChannelMinMaxObserver(averaging_constant=c, ch_axis=axis, **kwargs)
    return obs.HistogramObserver(**kwargs)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    w = Writer(os.path.join(here, "..", "data", "pytorch_observers.txt"),
               __doc__ + f"\nGenerated by tests/conformance/gen_observers.py with torch {torch.__version__}; do not edit.")
    rng = np.random.default_rng(20240611)
    count = {}

    datasets = {}

    def dataset(data, shape):
        """Writes the batches once (a `data_<n>` line); cases name them."""
        key = id(data)
        if key not in datasets:  # the batches are kept alive, so ids stay unique
            datasets[key] = (f"data_{len(datasets)}", data)
            w.case(datasets[key][0], shape=ints(shape), batches=len(data),
                   x=floats(np.concatenate([d.ravel() for d in data])))
        return datasets[key][0]

    def case(kind, dtype, qscheme, data, shape, reduce_range=False, custom=None, c=None, axis=None, eps=None):
        name = dataset(data, shape)
        o = make_observer(kind, dtype, qscheme, reduce_range, custom, c, axis, eps)
        for x in data:
            o(torch.from_numpy(x.copy()))
        scale, zp = o.calculate_qparams()
        n = count.get(kind, 0)
        count[kind] = n + 1
        fields = dict(observer=kind, dtype=dtype, qscheme=qscheme, qmin=o.quant_min, qmax=o.quant_max,
                      custom=int(custom is not None), c=None if c is None else hexfloat(c), axis=axis,
                      data=name,
                      min=floats(o.min_val.reshape(-1).numpy()), max=floats(o.max_val.reshape(-1).numpy()),
                      scale=floats(scale.numpy()), zp=ints(zp.numpy()),
                      eps=None if eps is None else hexfloat(float(o.eps.item())))
        if kind == "histogram":
            l2_min, l2_max = o._non_linear_param_search()
            hist = o.histogram.numpy()
            nz = np.nonzero(hist)[0]
            fields.update(bins=o.bins, l2_min=hexfloat(l2_min.item()), l2_max=hexfloat(l2_max.item()),
                          hist_index=ints(nz), hist_value=floats(hist[nz]))
        w.case(f"{kind}_{n}", **fields)

    # Per tensor: every dtype x qscheme x range variant PyTorch accepts.
    variants = [
        ("qint8", "affine", False, None), ("qint8", "affine", True, None), ("qint8", "symmetric", False, None),
        ("qint8", "symmetric", True, None), ("quint8", "affine", False, None), ("quint8", "affine", True, None),
        ("quint8", "symmetric", False, None), ("qint8", "affine", False, (-127, 127)),
        ("qint8", "symmetric", False, (-127, 127)), ("quint8", "affine", False, (0, 127)),
        ("quint8", "symmetric", False, (0, 127)), ("qint8", "affine", False, (-8, 7)),
        ("quint8", "affine", False, (0, 15)), ("quint8", "symmetric", False, (0, 15)),
        ("qint8", "affine", True, (-127, 127)),
        # An explicit [0, 255] makes PyTorch's symmetric uint8 zero point 127
        # (128 without quant_min/quant_max): a known departure of eigenq.
        ("quint8", "symmetric", False, (0, 255)),
    ]
    for kind in ("minmax", "moving_average"):
        for data_kind in ("mixed", "positive", "negative", "zeros", "wide"):
            shape = (3, 4, 5)
            data = batches_for(rng, data_kind, shape, 5 if kind == "moving_average" else 3)
            for dtype, qscheme, reduce_range, custom in variants:
                if data_kind != "mixed" and (reduce_range or custom):
                    continue
                for c in ((0.01, 0.25) if kind == "moving_average" else (None,)):
                    case(kind, dtype, qscheme, data, shape, reduce_range, custom, c)

    # Per channel, on every axis of a 3-D batch (negative spelling too).
    for kind in ("per_channel", "moving_average_per_channel"):
        for data_kind in ("mixed", "dead_channel"):
            shape = (4, 3, 6)
            data = batches_for(rng, data_kind, shape, 4)
            for axis in (0, 1, 2, -1):
                for dtype, qscheme, reduce_range, custom in variants[:7] + [variants[7], variants[9]]:
                    c = 0.1 if kind == "moving_average_per_channel" else None
                    case(kind, dtype, qscheme, data, shape, reduce_range, custom, c, axis)

    # Histogram: bins merging as the range grows, PyTorch 1.13's integer
    # histc bounds, a constant first batch, ranges that shrink.
    for data_kind, nb, size in (("small", 3, 400), ("wide", 3, 400), ("relu", 3, 400), ("heavy", 2, 600),
                                ("constant_first", 3, 300), ("shrinking", 3, 300), ("mixed", 4, 250)):
        shape = (size,)
        data = batches_for(rng, data_kind, shape, nb)
        for dtype, qscheme, reduce_range in (("quint8", "affine", False), ("qint8", "symmetric", False),
                                             ("qint8", "affine", True)):
            case("histogram", dtype, qscheme, data, shape, reduce_range)

    # The eps argument (the smallest scale chosen), on ranges narrower and
    # wider than it. Its own generator, so the cases above keep their values.
    eps_rng = np.random.default_rng(20261207)
    for data_kind, shape in (("tiny", (2, 3, 5)), ("mixed", (2, 3, 5)), ("zeros", (2, 3, 5))):
        data = batches_for(eps_rng, data_kind, shape, 3)
        for eps in (2.0 ** -10, 1e-3, 0.05, 1e-30):
            for dtype, qscheme in (("qint8", "affine"), ("quint8", "affine"), ("qint8", "symmetric")):
                case("minmax", dtype, qscheme, data, shape, eps=eps)
                case("moving_average", dtype, qscheme, data, shape, c=0.25, eps=eps)
                case("per_channel", dtype, qscheme, data, shape, axis=1, eps=eps)
                case("moving_average_per_channel", dtype, qscheme, data, shape, c=0.25, axis=1, eps=eps)
            case("histogram", "quint8", "affine", data, shape, eps=eps)
    w.save()


if __name__ == "__main__":
    main()
