"""Writes the data folder's index.json with each layer's geometry from the
model it came from: "strides", "pads", "dilations" (and "group") of every Conv
weight, read from the ONNX node the index names ("onnx_node"), so eigenq-compare
computes layer outputs as the model does instead of assuming stride 1 "same".
The data folder is read-only: the new index goes to OUT_DIR, beside links to
the data's weights/ and activations/, and eigenq-compare runs on OUT_DIR/weights
(its index is found in the parent).

usage: /usr/bin/python3 bench/ppocr/layers.py DATA_DIR ASSETS_DIR OUT_DIR
  ASSETS_DIR: the npm package's assets/ (the .onnx files the index names)
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_weights  # noqa: E402


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    data, assets, out = sys.argv[1:4]
    index = json.load(open(os.path.join(data, 'index.json')))
    nodes = {}
    for tag, file in index['source']['files'].items():
        with open(os.path.join(assets, file), 'rb') as f:
            nodes[tag] = onnx_weights.node_attributes(f.read())
    counted = 0
    for e in index['tensors']:
        if e.get('role') != 'weight' or e.get('op') not in ('Conv', 'ConvTranspose'):
            continue
        op, attributes = nodes[e['model']][e['onnx_node']]
        if op != e['op']:
            sys.exit('%s: node %s is a %s, the index says %s' % (e['name'], e['onnx_node'], op, e['op']))
        for key in ('strides', 'pads', 'dilations', 'group'):
            if key in attributes:
                e[key] = attributes[key]
        counted += 1
    os.makedirs(out, exist_ok=True)
    for sub in ('weights', 'activations'):
        link = os.path.join(out, sub)
        if not os.path.islink(link):
            os.symlink(os.path.abspath(os.path.join(data, sub)), link)
    index['geometry_source'] = 'strides, pads, dilations and group of each Conv node, from %s (bench/ppocr/layers.py)' % (
        ', '.join(index['source']['files'].values()))
    with open(os.path.join(out, 'index.json'), 'w') as f:
        json.dump(index, f, indent=1)
        f.write('\n')
    print('%s/index.json: the geometry of %d convolutions' % (out, counted))


if __name__ == '__main__':
    main()
