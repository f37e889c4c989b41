"""PP-OCRv4 end to end: the weights eigenq-compare fake-quantized under each
scheme (and under each mixed plan) substituted into the ONNX models, detection
run on the rendered page and recognition on the rendered lines with ONNX
Runtime (ocr.js), and the outputs compared with the float models':

- detection: the SQNR of the probability map against float; the pixels whose
  side of PaddleOCR's 0.3 threshold changes; the text regions (connected
  components of the thresholded map, 4-neighbour, 10 pixels or more) against
  float's count;
- recognition: the greedy CTC decoding of each line (PaddleOCR's: argmax per
  step, repeats and blanks dropped): the same string as float's, spaces
  included, or not; right (the rendered text, up to spaces at the ends, which
  the margin of the rendered line produces: float reads " available under
  the") or not; and the SQNR of the character probabilities.

usage: /usr/bin/python3 bench/ppocr/e2e.py --assets DIR --inputs DIR --ort DIR --out DIR FOLDER...
  FOLDER: a folder eigenq-compare --write-weights / --write-plan wrote (index.json + .npy), whose
          summary.json (for the bytes) is FOLDER/../out/summary.json; or with --label, a plan folder
  --assets: the npm package's assets/ (models and ppocr_keys_v1.txt); --inputs: make_inputs.py's output;
  --ort: node_modules holding onnxruntime-node; --out: where results.csv and summary.md go
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
from collections import deque

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_weights  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = {'det': 'ch_PP-OCRv4_det_infer.onnx', 'rec': 'ch_PP-OCRv4_rec_infer.onnx'}
THRESHOLD = 0.3  # PaddleOCR's DB binarization threshold


def run_ocr(det, rec, inputs, ort, out):
    subprocess.run(['node', os.path.join(HERE, 'ocr.js'), det, rec, inputs, out], check=True,
                   env=dict(os.environ, NODE_PATH=ort))
    meta = json.load(open(os.path.join(out, 'meta.json')))
    return {k: np.fromfile(os.path.join(out, k + '.bin'), np.float32).reshape(meta[k]) for k in ('det', 'rec')}


def decode(probabilities, chars):
    lines = []
    for p in probabilities:
        out, previous = [], -1
        for i in p.argmax(-1):
            if i != previous and i != 0:
                out.append(chars[i])
            previous = i
        lines.append(''.join(out))
    return lines


def regions(mask, min_pixels=10):
    """Connected components (4-neighbour) of a 2-D mask with at least min_pixels pixels."""
    seen = np.zeros(mask.shape, bool)
    count = 0
    h, w = mask.shape
    for y, x in zip(*np.nonzero(mask)):
        if seen[y, x]:
            continue
        size, queue = 0, deque([(y, x)])
        seen[y, x] = True
        while queue:
            a, b = queue.popleft()
            size += 1
            for c, d in ((a + 1, b), (a - 1, b), (a, b + 1), (a, b - 1)):
                if 0 <= c < h and 0 <= d < w and mask[c, d] and not seen[c, d]:
                    seen[c, d] = True
                    queue.append((c, d))
        count += size >= min_pixels
    return count


def sqnr(x, y):
    x, y = x.astype(np.float64), y.astype(np.float64)
    noise = ((x - y) ** 2).sum()
    return math.inf if noise == 0 else 10 * math.log10((x ** 2).sum() / noise)


def weights_of(folder):
    """{model: {weight name in the model: values}} and the scheme of each weight."""
    index = json.load(open(os.path.join(folder, 'index.json')))
    replace, schemes = {tag: {} for tag in MODELS}, {}
    for e in index['tensors']:
        tag, name = e['name'].split('/', 1)
        replace[tag][name] = np.load(os.path.join(folder, e['file']))
        schemes[e['scheme']] = schemes.get(e['scheme'], 0) + 1
    return replace, schemes


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--assets', required=True)
    ap.add_argument('--inputs', required=True)
    ap.add_argument('--ort', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('folders', nargs='+')
    args = ap.parse_args()
    keys = [k for k in open(os.path.join(args.assets, 'ppocr_keys_v1.txt'), encoding='utf8').read().split('\n') if k]
    chars = ['<blank>'] + keys + [' ']
    rendered = json.load(open(os.path.join(args.inputs, 'inputs.json')))['rec_text']
    models = {tag: open(os.path.join(args.assets, file), 'rb').read() for tag, file in MODELS.items()}
    os.makedirs(args.out, exist_ok=True)

    with tempfile.TemporaryDirectory() as tmp:
        ref = run_ocr(*[os.path.join(args.assets, MODELS[t]) for t in ('det', 'rec')], args.inputs, args.ort,
                      os.path.join(tmp, 'float'))
        ref_lines = decode(ref['rec'], chars)
        # Float reads the rendered text, up to spaces at the ends (the lines
        # are rendered with a margin): "exactly right" means float's strings.
        if [line.strip() for line in ref_lines] != rendered:
            sys.exit('float recognition reads %r, the rendered lines are %r: inputs differ from the recording' % (
                ref_lines, rendered))
        ref_mask = ref['det'][0, 0] > THRESHOLD
        ref_regions = regions(ref_mask)
        print('float: %d text regions; lines %r' % (ref_regions, ref_lines), flush=True)
        rows = []
        for folder in args.folders:
            out = os.path.join(folder, '..', 'out')
            replace, schemes = weights_of(folder)
            if not rows:
                elements = sum(v.size for tag in MODELS for v in replace[tag].values())
                rows.append(dict(plan='float32', label='float32', weights_bytes=4 * elements,
                                 bytes_per_element='4.0000', worst_weight_db='inf', det_sqnr_db='inf',
                                 det_pixels_flipped=0, det_regions=ref_regions, rec_sqnr_db='inf',
                                 line_1=ref_lines[0], line_2=ref_lines[1], lines_same=2, lines_right=2))
            if os.path.basename(os.path.normpath(folder)) == 'plan':
                decision = json.load(open(os.path.join(out, 'summary.json')))['decision']
                plan = decision['mixed']
                label = 'mixed plan, every weight >= %g dB' % decision['target_db']
            else:
                (scheme, _), = schemes.items()
                plan = next(p for p in csv.DictReader(open(os.path.join(out, 'pareto.csv')))
                            if p['plan'] == scheme and p['kind'] == 'uniform')
                plan = dict(bytes=float(plan['bytes']), bytes_per_element=float(plan['bytes_per_element']),
                            worst_db=float(plan['worst_db']))
                label = scheme
            paths = {}
            for tag in MODELS:
                paths[tag] = os.path.join(tmp, tag + '.onnx')
                with open(paths[tag], 'wb') as f:
                    f.write(onnx_weights.substitute(models[tag], replace[tag]))
            y = run_ocr(paths['det'], paths['rec'], args.inputs, args.ort, os.path.join(tmp, 'q'))
            lines = decode(y['rec'], chars)
            mask = y['det'][0, 0] > THRESHOLD
            row = dict(plan=label, label=os.path.basename(os.path.normpath(folder)),
                       weights_bytes=int(plan['bytes']), bytes_per_element='%.4f' % plan['bytes_per_element'],
                       worst_weight_db='%.2f' % plan['worst_db'] if plan['worst_db'] is not None else 'inf',
                       schemes='; '.join('%s: %d' % kv for kv in sorted(schemes.items(), key=lambda kv: -kv[1])),
                       det_sqnr_db='%.2f' % sqnr(ref['det'], y['det']),
                       det_pixels_flipped=int((mask != ref_mask).sum()), det_regions=regions(mask),
                       rec_sqnr_db='%.2f' % sqnr(ref['rec'], y['rec']), line_1=lines[0], line_2=lines[1],
                       lines_same=sum(a == b for a, b in zip(lines, ref_lines)),
                       lines_right=sum(a.strip() == b for a, b in zip(lines, rendered)))
            rows.append(row)
            print('%-45s det %6s dB, %5d px flipped, %3d regions; rec %6s dB, %d/2 as float, %d/2 right %r' % (
                label, row['det_sqnr_db'], row['det_pixels_flipped'], row['det_regions'], row['rec_sqnr_db'],
                row['lines_same'], row['lines_right'], lines), flush=True)
    fields = ['plan', 'label', 'weights_bytes', 'bytes_per_element', 'worst_weight_db', 'det_sqnr_db',
              'det_pixels_flipped', 'det_regions', 'rec_sqnr_db', 'lines_same', 'lines_right', 'line_1', 'line_2',
              'schemes']
    with open(os.path.join(args.out, 'results.csv'), 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction='ignore', lineterminator='\n')
        w.writeheader()
        w.writerows(rows)
    pixels = ref_mask.size
    with open(os.path.join(args.out, 'summary.md'), 'w') as f:
        f.write('| weights | B/el | worst weight dB | det map SQNR dB | det pixels flipped (of %d) | text regions '
                '(float: %d) | rec SQNR dB | lines as float | lines right | line 1 | line 2 |\n' % (pixels, ref_regions))
        f.write('|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n')
        for r in rows:
            f.write('| %s | %s | %s | %s | %s | %s | %s | %s/2 | %s/2 | `%s` | `%s` |\n' % (
                r['plan'], r['bytes_per_element'], r['worst_weight_db'], r['det_sqnr_db'],
                r['det_pixels_flipped'], r['det_regions'], r['rec_sqnr_db'], r['lines_same'], r['lines_right'],
                r['line_1'].replace('|', '\\|'), r['line_2'].replace('|', '\\|')))
    print('wrote %s/results.csv and summary.md (%d rows)' % (args.out, len(rows)))


if __name__ == '__main__':
    main()
