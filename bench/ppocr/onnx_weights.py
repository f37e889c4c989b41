"""Substitutes weights into an ONNX model: the float32 tensors of Constant nodes
(by output name) or initializers (by name) are replaced by .npy values of the
same shape; everything else is copied byte for byte. Protobuf is read and
written here directly (no onnx package): the model's graph (field 7), its
nodes (1) and initializers (5), a Constant's "value" attribute (5 of the node,
its tensor in field 5), and a tensor's dims (1), data_type (2), float_data (4),
name (8) and raw_data (9).

usage: /usr/bin/python3 bench/ppocr/onnx_weights.py MODEL.onnx OUT.onnx NAME=FILE.npy ...
   or: import and call substitute(model_bytes, {name: array}) -> bytes
"""
import struct
import sys

import numpy as np


def _varint(b, i):
    r = s = 0
    while True:
        c = b[i]
        i += 1
        r |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return r, i


def _encode_varint(x):
    out = bytearray()
    while True:
        c = x & 0x7F
        x >>= 7
        if x:
            out.append(c | 0x80)
        else:
            out.append(c)
            return bytes(out)


def fields(b):
    """(field, wire type, value, raw bytes of the whole field) of a message; the value
    is an int for varints and fixed widths, a memoryview of the payload for
    length-delimited fields."""
    i, n = 0, len(b)
    while i < n:
        start = i
        key, i = _varint(b, i)
        f, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(b, i)
        elif wt == 1:
            v = struct.unpack_from('<Q', b, i)[0]
            i += 8
        elif wt == 2:
            length, i = _varint(b, i)
            v = b[i:i + length]
            i += length
        elif wt == 5:
            v = struct.unpack_from('<I', b, i)[0]
            i += 4
        else:
            raise ValueError('unsupported protobuf wire type %d' % wt)
        yield f, wt, v, b[start:i]


def _length_delimited(f, payload):
    return _encode_varint(f << 3 | 2) + _encode_varint(len(payload)) + bytes(payload)


def _tensor(b, values, name):
    """A TensorProto with its data replaced by `values` (float32, the same shape)."""
    dims, dtype, out = [], 1, bytearray()
    for f, wt, v, raw in fields(b):
        if f == 1:
            dims += [_varint(v, k)[0] for k in _offsets(v)] if wt == 2 else [v]
        elif f == 2:
            dtype = v
        elif f == 13 or f == 14:
            raise ValueError('%s: external data is not supported' % name)
        if f not in (4, 9):  # old data out
            out += raw
    if dtype != 1:
        raise ValueError('%s: data_type %d is not float32' % (name, dtype))
    if tuple(dims) != values.shape:
        raise ValueError('%s: the model holds shape %s, the replacement %s' % (name, tuple(dims), values.shape))
    return bytes(out) + _length_delimited(9, np.ascontiguousarray(values, '<f4').tobytes())


def _offsets(packed):
    """Start offsets of the varints in a packed repeated field."""
    i, starts = 0, []
    while i < len(packed):
        starts.append(i)
        _, i = _varint(packed, i)
    return starts


def _node(b, replace, done):
    op, outputs = '', []
    for f, wt, v, raw in fields(b):
        if f == 4:
            op = bytes(v).decode()
        elif f == 2:
            outputs.append(bytes(v).decode())
    if op != 'Constant' or not outputs or outputs[0] not in replace:
        return bytes(b)
    name = outputs[0]
    out = bytearray()
    for f, wt, v, raw in fields(b):
        if f == 5:  # AttributeProto: name (1), t (5)
            attribute_name = next((bytes(x).decode() for g, _, x, _ in fields(v) if g == 1), '')
            if attribute_name == 'value':
                attribute = bytearray()
                for g, _, x, graw in fields(v):
                    attribute += _length_delimited(5, _tensor(x, replace[name], name)) if g == 5 else graw
                out += _length_delimited(5, attribute)
                done.add(name)
                continue
        out += raw
    return bytes(out)


def _graph(b, replace, done):
    out = bytearray()
    for f, wt, v, raw in fields(b):
        if f == 1:
            out += _length_delimited(1, _node(v, replace, done))
        elif f == 5:
            name = next((bytes(x).decode() for g, _, x, _ in fields(v) if g == 8), '')
            if name in replace:
                out += _length_delimited(5, _tensor(v, replace[name], name))
                done.add(name)
            else:
                out += raw
        else:
            out += raw
    return bytes(out)


def node_attributes(model):
    """{node name: (op type, {attribute: int or list of ints})} of a model's graph."""
    nodes = {}
    for f, _, graph, _ in fields(memoryview(model)):
        if f != 7:
            continue
        for g, _, node, _ in fields(graph):
            if g != 1:
                continue
            name, op, attributes = '', '', {}
            for h, _, v, _ in fields(node):
                if h == 3:
                    name = bytes(v).decode()
                elif h == 4:
                    op = bytes(v).decode()
                elif h == 5:  # AttributeProto: name (1), i (3), ints (8)
                    key, value = '', None
                    for k, wt, x, _ in fields(v):
                        if k == 1:
                            key = bytes(x).decode()
                        elif k == 3:
                            value = x - (1 << 64) if x >= 1 << 63 else x
                        elif k == 8:
                            value = (value or []) + ([_varint(x, o)[0] for o in _offsets(x)] if wt == 2 else [x])
                    if value is not None:
                        attributes[key] = value
            nodes[name] = (op, attributes)
    return nodes


def substitute(model, replace):
    """The model's bytes with every named weight replaced; every name must be found."""
    done, out = set(), bytearray()
    for f, wt, v, raw in fields(memoryview(model)):
        out += _length_delimited(7, _graph(v, replace, done)) if f == 7 else raw
    missing = sorted(set(replace) - done)
    if missing:
        raise ValueError('not in the model: %s' % ', '.join(missing[:5]) + (' ...' if len(missing) > 5 else ''))
    return bytes(out)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    replace = {}
    for arg in sys.argv[3:]:
        name, path = arg.split('=', 1)
        replace[name] = np.load(path).astype(np.float32)
    with open(sys.argv[1], 'rb') as f:
        model = f.read()
    with open(sys.argv[2], 'wb') as f:
        f.write(substitute(model, replace))


if __name__ == '__main__':
    main()
