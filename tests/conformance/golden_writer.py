"""Writes golden cases in the format tests/golden.hpp reads.

One case per line: `<name> key=value ...`; lists are comma-separated; floats
are written exactly (float.hex(), nan, inf, -inf) so the C++ side reads the
very bits the engine produced. Shared by the generators in this folder.

Fields of a quantization case (the C++ runner in tests/golden_cases.hpp):
  op       quantize | dequantize | fake_quantize
  preset   pytorch | onnx | tflite | tensorflow | tensorflow_vars
  type     int8 | uint8 | int16 | uint16 | int32 | int4 | uint4 | int2 | uint2   (storage)
  scheme   per_tensor | per_axis | blocked | per_element
  shape    row-major dimensions; axis, block for per_axis / blocked
  qmin, qmax, scale, zp
  x        float input (quantize, fake_quantize) or q integer input (dequantize)
  y        the engine's output; mask: the engine's STE mask (0/1), if any
  packed   the engine's packed sub-byte bytes, if any
"""
import math

import numpy as np


def hexfloat(v):
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    # float.hex() always prints 13 hex digits; the trailing zeros carry nothing.
    mantissa, exponent = v.hex().split("p")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return mantissa + "p" + exponent


def floats(values):
    return ",".join(hexfloat(v) for v in np.asarray(values, dtype=np.float32).ravel())


def ints(values):
    return ",".join(str(int(v)) for v in np.asarray(values).ravel())


class Writer:
    def __init__(self, path, header):
        self.path = path
        self.lines = ["# " + line if line else "#" for line in header.strip().splitlines()]
        self.names = set()

    def case(self, name, **fields):
        assert name not in self.names, name
        self.names.add(name)
        parts = [name]
        for key, value in fields.items():
            if value is None:
                continue
            if isinstance(value, (list, tuple, np.ndarray)) and len(np.asarray(value).ravel()) == 0:
                value = ""
            parts.append(f"{key}={value}")
        self.lines.append(" ".join(parts))

    def save(self):
        with open(self.path, "w") as f:
            f.write("\n".join(self.lines) + "\n")
        print(f"wrote {len(self.names)} cases to {self.path}")


def special_values():
    """Inputs every conformance file carries: ties, the reciprocal-vs-division
    pairs of the numeric contract, signed zeros, saturation, NaN, infinities."""
    return np.array(
        [0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999997, -0.49999997, 126.5, 127.5, -128.5,
         1e10, -1e10, 1e30, -1e30, np.inf, -np.inf, np.nan, 1e-45, 3.4e38],
        dtype=np.float32,
    )


def near_ties(rng, n, scales, max_level):
    """x = fl((k + 1/2) * s): products that land on or next to a tie, where
    x * (1/s) and x / s round to different integers most often."""
    k = rng.integers(-max_level, max_level, size=n)
    s = np.asarray(scales, dtype=np.float32)
    s = s[rng.integers(0, len(s), size=n)] if s.size > 1 else np.full(n, s.item(), np.float32)
    return ((k.astype(np.float32) + np.float32(0.5)) * s).astype(np.float32)


def param_index(shape, scheme, axis=0, block=0):
    """For each element (row-major), the index of its (scale, zero point)."""
    n = int(np.prod(shape))
    if scheme == "per_tensor":
        return np.zeros(n, np.int64)
    if scheme == "per_element":
        return np.arange(n)
    idx = np.indices(shape).reshape(len(shape), -1)
    if scheme == "per_axis":
        return idx[axis]
    pshape = list(shape)
    pshape[axis] = -(-shape[axis] // block)
    idx[axis] //= block
    return np.ravel_multi_index(idx, pshape)


def param_count(shape, scheme, axis=0, block=0):
    return int(param_index(shape, scheme, axis, block).max()) + 1 if np.prod(shape) else 0


# (shape, scheme, axis, block): every scheme, runs long and short, ragged blocks.
LAYOUTS = [
    ((67,), "per_tensor", 0, 0),
    ((3, 17), "per_tensor", 0, 0),
    ((4, 5, 6), "per_axis", 0, 0),
    ((4, 5, 6), "per_axis", 1, 0),
    ((4, 5, 6), "per_axis", 2, 0),
    ((7, 33), "per_axis", 1, 0),
    ((3, 40), "per_axis", 0, 0),
    ((4, 70), "blocked", 1, 32),
    ((5, 64), "blocked", 1, 16),
    ((3, 10, 4), "blocked", 1, 4),
    ((70, 3), "blocked", 0, 32),
    ((5, 7), "per_element", 0, 0),
]
