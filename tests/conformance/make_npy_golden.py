"""Writes the .npy files tests/npy_test.cpp reads, with NumPy itself.

usage: /usr/bin/python3 tests/conformance/make_npy_golden.py   (from the repository root)

Each file's values are a simple formula of its index, which the test
recomputes, so the test checks values, dtype, shape and order; for version
1.0 files it also checks that eigenq writes the same bytes as NumPy.
"""
import os

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), '..', 'data', 'npy')
os.makedirs(OUT, exist_ok=True)


def save(name, a, version=None):
    with open(os.path.join(OUT, name), 'wb') as f:
        np.lib.format.write_array(f, a, version=version, allow_pickle=False)


# value(i) = i * 0.5 - 3 for floats, in C order of the array's own indices.
save('f4_c_2x3.npy', (np.arange(6, dtype=np.float32) * 0.5 - 3).reshape(2, 3))
# Fortran order: element (i, j, k) holds its C-order index formula, stored column-major.
save('f8_f_3x2x2.npy', np.asfortranarray((np.arange(12, dtype=np.float64) * 0.5 - 3).reshape(3, 2, 2)))
save('i1_5.npy', np.array([-128, -1, 0, 1, 127], dtype=np.int8))
save('u1_4.npy', np.array([0, 1, 128, 255], dtype=np.uint8))
save('i2_4.npy', np.array([-32768, -1, 1, 32767], dtype=np.int16))
save('u2_4.npy', np.array([0, 1, 32768, 65535], dtype=np.uint16))
save('i4_2x2.npy', np.array([[-2147483648, -1], [1, 2147483647]], dtype=np.int32))
save('f4_scalar.npy', np.array(2.5, dtype=np.float32))
save('f4_empty_0x3.npy', np.zeros((0, 3), dtype=np.float32))
save('f4_v2_3.npy', np.array([1.0, -2.0, 3.5], dtype=np.float32), version=(2, 0))
save('f4_v3_3.npy', np.array([1.0, -2.0, 3.5], dtype=np.float32), version=(3, 0))
# Files the reader must refuse, by name.
save('bad_big_endian.npy', np.array([1.0, 2.0], dtype='>f4'))
save('bad_complex.npy', np.array([1 + 2j], dtype=np.complex64))
save('bad_structured.npy', np.zeros(2, dtype=[('a', '<f4'), ('b', '<i4')]))
print('wrote', sorted(os.listdir(OUT)))
