"""Writes the .safetensors files of tests/compare_test.cpp with json and struct
only (no framework): one good checkpoint, and checkpoints whose header lies.

usage: /usr/bin/python3 tests/conformance/gen_safetensors.py [OUT_DIR]
       (default: tests/data/compare/safetensors)

good.safetensors holds, in this order of data:
  conv.weight  F32  [4, 2, 3, 3]   values (i - 36) / 8, i = 0..71
  fc.weight    F16  [3, 8]         values (i - 12) / 4
  emb.weight   BF16 [5, 4]         values (i - 10) * 0.5
  fc.bias      F32  [3]            1, 2, 3          (1-D: skipped by the tool)
  step         I64  []             7                (not floating-point: skipped)
every value exact in its dtype, with a "__metadata__" entry. The bad_*.safetensors
files each break one rule (the file's name says which); bad.txt lists, per file,
the message the reader must give.
"""
import json
import os
import struct
import sys


def f16_bits(x):
    return struct.unpack('<H', struct.pack('<e', x))[0]


def bf16_bits(x):
    return struct.unpack('<I', struct.pack('<f', x))[0] >> 16  # exact values: truncation is rounding


def tensor(dtype, shape, values):
    if dtype == 'F32':
        data = struct.pack('<%df' % len(values), *values)
    elif dtype == 'F16':
        data = struct.pack('<%dH' % len(values), *[f16_bits(v) for v in values])
    elif dtype == 'BF16':
        data = struct.pack('<%dH' % len(values), *[bf16_bits(v) for v in values])
    elif dtype == 'I64':
        data = struct.pack('<%dq' % len(values), *values)
    return dtype, shape, data


GOOD = [
    ('conv.weight', tensor('F32', [4, 2, 3, 3], [(i - 36) / 8 for i in range(72)])),
    ('fc.weight', tensor('F16', [3, 8], [(i - 12) / 4 for i in range(24)])),
    ('emb.weight', tensor('BF16', [5, 4], [(i - 10) * 0.5 for i in range(20)])),
    ('fc.bias', tensor('F32', [3], [1.0, 2.0, 3.0])),
    ('step', tensor('I64', [], [7])),
]


def layout(tensors):
    """Header entries with consecutive offsets, and the data."""
    header, data = {'__metadata__': {'format': 'pt'}}, b''
    for name, (dtype, shape, blob) in tensors:
        header[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': [len(data), len(data) + len(blob)]}
        data += blob
    return header, data


def write(path, header, data, header_length=None, raw_header=None):
    text = raw_header if raw_header is not None else json.dumps(header, separators=(',', ':')).encode()
    n = len(text) if header_length is None else header_length
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', n) + text + data)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'data', 'compare',
                                                               'safetensors')
    os.makedirs(out, exist_ok=True)
    header, data = layout(GOOD)
    write(os.path.join(out, 'good.safetensors'), header, data)

    two = [GOOD[0], GOOD[1]]
    bad = {}

    def variant(name, message, edit=None, **kwargs):
        h, d = layout(two)
        if edit:
            h, d = edit(h, d)
        write(os.path.join(out, 'bad_%s.safetensors' % name), h, d, **kwargs)
        bad[name] = message

    def offsets(name, begin, end):
        def edit(h, d):
            h[name]['data_offsets'] = [begin, end]
            return h, d
        return edit

    def field(name, key, value):
        def edit(h, d):
            h[name][key] = value
            return h, d
        return edit

    variant('length', 'header length 1000000 exceeds the file', header_length=1000000)
    variant('size', "tensor 'fc.weight': data_offsets [288, 334] hold 46 bytes, but shape [3, 8] of F16 needs 48",
            offsets('fc.weight', 288, 334))
    variant('overlap', "tensor 'fc.weight' (data bytes [280, 328)) overlaps tensor 'conv.weight' (up to 288)",
            offsets('fc.weight', 280, 328))
    variant('gap', 'data bytes [288, 292) belong to no tensor', offsets('fc.weight', 292, 340))
    variant('past_end', "tensor 'fc.weight' ends at data byte 336, past the end of the file (320 data bytes)",
            lambda h, d: (h, d[:320]))
    variant('trailing', 'the tensors end at data byte 336 but the file has 340 data bytes',
            lambda h, d: (h, d + b'\0\0\0\0'))
    variant('dtype', "tensor 'fc.weight': unknown dtype 'F12'", field('fc.weight', 'dtype', 'F12'))
    variant('dimension', "tensor 'conv.weight': shape dimension 1 is not an integer in [0, 2^63)",
            field('conv.weight', 'shape', [4, 2.5, 3, 3]))
    variant('not_object', 'the header is not a JSON object', raw_header=b'[1, 2, 3]')
    variant('not_json', '(header):1:', raw_header=b'{"conv.weight": {')
    variant('duplicate', "tensor 'conv.weight' is listed twice",
            raw_header=(b'{"conv.weight":{"dtype":"F32","shape":[4,2,3,3],"data_offsets":[0,288]},'
                        b'"conv.weight":{"dtype":"F16","shape":[3,8],"data_offsets":[288,336]}}'))
    with open(os.path.join(out, 'short.safetensors'), 'wb') as f:
        f.write(b'\x01\x02\x03')
    bad['short'] = '3 bytes, too short for a safetensors file'
    with open(os.path.join(out, 'bad.txt'), 'w') as f:
        for name, message in bad.items():
            f.write('%s\t%s\n' % ('bad_%s.safetensors' % name if name != 'short' else 'short.safetensors', message))
    print('wrote good.safetensors and %d bad files to %s' % (len(bad), out))


if __name__ == '__main__':
    main()
