"""Independent NumPy check of eigenq-compare's results.

usage: /usr/bin/python3 tests/conformance/check_compare.py OUT_DIR [--tensors N | --all] [--quiet]
                                                           [--root DIR] [--index INDEX] [--stats STATS_JSON]

OUT_DIR is an eigenq-compare --out folder of a run on .npy files (for the
synthetic set, write it first with --write-synthetic DIR and run on DIR). For N
tensors (the first weight, the worst per-tensor one, the first activation, and
a fixed-seed sample; default 6) every row of results.csv is recomputed here
from the .npy files with compare_reference.py: weights with their metadata as
stored (parameter count, bytes, SQNR, max abs error) and, where the index links
a weight to its input, the layer output's SQNR; activations split into
calibration and held-out batches, with the min/max, moving-average and dynamic
observers (the histogram observers, l2 / percentile / mse, are checked against
PyTorch in tests/observers_test.cpp and are not recomputed here), held-out and
layer SQNR. Bytes must agree exactly, the weight and activation SQNR and the
max abs error to 1e-6 dB (the same float32 arithmetic), the layer SQNR to
1e-3 dB (float32 products there, float64 here). With --all every tensor is
recomputed, and the summary's median and worst SQNR too. Exit status 1 on any
disagreement.

The index (for layer geometry and links) is --index, else index.json beside
the first tensor's file or in its parent folder, as the tool looks for it.

--stats compares the tool's symmetric int8/int4 per-tensor / per-channel / g32
SQNR (float32 scales: run with --scale f32) with the NumPy reference in the
data folder's stats.json. That reference uses another rule (narrow range
[-q, q], scale absmax / q, x / s), so the numbers differ by design; the script
reports the differences and reproduces stats.json with its rule, to show the
difference is the rule.

This file is written from the numeric contract (DESIGN.md section 3), not from
the C++ code.
"""
import argparse
import collections
import csv
import json
import math
import os
import random
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_reference as ref  # noqa: E402

RECOMPUTED_OBSERVERS = ('', 'minmax', 'moving-average', 'dynamic')


def find_index(root, meta, explicit):
    if explicit:
        return explicit
    for t in meta['tensors']:
        if t['file']:
            d = os.path.dirname(os.path.join(root, t['file']))
            for candidate in (os.path.join(d, 'index.json'), os.path.join(d, '..', 'index.json')):
                if os.path.exists(candidate):
                    return candidate
    return None


def load_index(path):
    """Entries by name, with files made absolute."""
    if not path:
        return {}
    index = json.load(open(path))
    base = os.path.dirname(path)
    entries = {}
    for key, items in index.items():
        if not isinstance(items, list):
            continue
        for e in items:
            if isinstance(e, dict) and 'file' in e:
                e = dict(e, path=os.path.join(base, e['file']))
                entries[e.get('name', os.path.splitext(os.path.basename(e['file']))[0])] = e
    return entries


def load(root, t):
    x = np.load(os.path.join(root, t['file']))
    return x.astype(ref.F32) if x.dtype != ref.F32 else x


def recompute(x, t, r, entries, linked, cache):
    """(sqnr_db, max_abs_error, layer_sqnr_db, params, data_bytes, metadata_bytes) for one row."""
    order = 'F' if t['layout'] == 'F' else 'C'
    fmt, scheme, mode = r['format'], r['scheme'], r['symmetry']
    scale, zero = r['scale'], int(r['zero_point_bits'])
    if t['role'] != 'activation':
        y, params, data, meta = ref.quantize(x, scheme, fmt, mode, scale, zero, t['channel_axis'],
                                             ref.shape_of(t['block_shape']), t['block_axis'], order)
        layer = math.nan
        if linked is not None:
            entry, a = linked
            y_float = cache.setdefault(('w', t['name']), ref.layer(entry, a, np.ascontiguousarray(x)))
            layer = ref.sqnr(y_float, ref.layer(entry, a, np.ascontiguousarray(y)))
        return ref.sqnr(x, y), float(np.abs(x.astype(np.float64) - y).max()), layer, params, data, meta
    xc = np.ascontiguousarray(x)
    batches, held = cache.setdefault(('split', t['name']), ref.split_activation(xc, t['channel_axis']))
    lo, hi = ref.observe(batches, held, r['observer'], scheme, t['channel_axis'])
    xq = ref.quantize_activation(held, lo, hi, fmt, mode, scale, scheme, t['channel_axis'])
    params = lo.size
    meta = ref.packed_bytes(params, ref.SCALE_BITS[scale]) + ref.packed_bytes(params, zero)
    layer = math.nan
    if linked is not None:
        entry, w = linked
        y_float = cache.setdefault(('a', t['name']), ref.layer(entry, held, w))
        layer = ref.sqnr(y_float, ref.layer(entry, xq, w))
    return (ref.sqnr(held, xq), float(np.abs(held.astype(np.float64) - xq).max()), layer, params,
            ref.packed_bytes(held.size, ref.BITS[fmt]), meta)


def linked_of(t, entries):
    """The layer across which a tensor was measured: (the weight's index entry, the values of the tensor on the
    other side: a weight's input, an activation's consuming weight), or None."""
    other = entries.get(t.get('linked', ''))
    weight = other if t['role'] == 'activation' else entries.get(t['name'])
    if other is None or weight is None:
        return None
    return weight, np.ascontiguousarray(np.load(other['path']).astype(ref.F32))


def same(a, b, tolerance):
    return (math.isnan(a) and math.isnan(b)) or (math.isinf(a) and a == b) or abs(a - b) <= tolerance


def check_rows(root, names_wanted, info, rows, entries, numpy_sqnr, quiet):
    failures, checked, skipped, worst, worst_layer = 0, 0, 0, 0.0, 0.0
    print('%-30s %-6s %-12s %-10s %-5s %-3s %-14s %12s %12s %12s  %s' % (
        'tensor', 'format', 'scheme', 'sym', 'scale', 'zp', 'observer', 'eigenq dB', 'numpy dB', 'layer diff',
        'bytes/max-err'))
    for name in names_wanted:
        t = info[name]
        x = load(root, t)
        linked = linked_of(t, entries)
        cache = {}
        for r in (r for r in rows if r['tensor'] == name):
            if r['observer'] not in RECOMPUTED_OBSERVERS:
                skipped += 1
                continue
            sqnr, maxerr, layer, params, data, meta = recompute(x, t, r, entries, linked, cache)
            numpy_sqnr[(r['role'], r['format'], r['scheme'], r['symmetry'], r['scale'], r['zero_point_bits'],
                        r['observer'])].append(sqnr)
            got, got_layer = float(r['sqnr_db']), float(r['layer_sqnr_db'])
            ok_bytes = (int(r['params']) == params and float(r['data_bytes']) == data and
                        float(r['metadata_bytes']) == meta)
            ok_err = abs(float(r['max_abs_error']) - maxerr) <= 1e-12 * max(1.0, maxerr)
            ok = same(got, sqnr, 1e-6) and same(got_layer, layer, 1e-3) and ok_bytes and ok_err
            if math.isfinite(got) and math.isfinite(sqnr):
                worst = max(worst, abs(got - sqnr))
            if math.isfinite(got_layer) and math.isfinite(layer):
                worst_layer = max(worst_layer, abs(got_layer - layer))
            checked += 1
            failures += not ok
            if quiet and ok:
                continue
            print('%-30s %-6s %-12s %-10s %-5s %-3s %-14s %12.6f %12.6f %12.2e  %s' % (
                name[-30:], r['format'], r['scheme'], r['symmetry'], r['scale'], r['zero_point_bits'], r['observer'],
                got, sqnr, 0.0 if same(got_layer, layer, 0) else abs(got_layer - layer),
                'ok' if ok_bytes and ok_err else 'MISMATCH params %s/%d data %s/%d meta %s/%d maxerr %s/%r' % (
                    r['params'], params, r['data_bytes'], data, r['metadata_bytes'], meta, r['max_abs_error'],
                    maxerr)))
    return checked, failures, skipped, worst, worst_layer


def check_summary(out_dir, numpy_sqnr):
    """With every tensor recomputed, the summary's median and worst SQNR must follow from NumPy's values."""
    bad = checked = 0
    for s in csv.DictReader(open(os.path.join(out_dir, 'summary.csv'))):
        v = numpy_sqnr.get((s['role'], s['format'], s['scheme'], s['symmetry'], s['scale'], s['zero_point_bits'],
                            s['observer']))
        if not v:
            continue
        checked += 1
        med, worst = float(np.median(v)), min(v)
        ok = all(same(float(a), b, 1e-6) for a, b in ((s['median_sqnr_db'], med), (s['worst_sqnr_db'], worst)))
        bad += not ok
        if not ok:
            print('SUMMARY MISMATCH %s %s %s %s: median %s vs %r, worst %s vs %r' % (
                s['role'], s['format'], s['scheme'], s['symmetry'], s['median_sqnr_db'], med, s['worst_sqnr_db'],
                worst))
    print('summary.csv: median and worst SQNR of %d rows recomputed from the NumPy values: %d mismatches'
          % (checked, bad))
    return bad


def as_rows(base, e):
    """A weight as stats.py sees it: the [C_out, reduction] matrix, in float64."""
    w = np.load(os.path.join(base, e['file'])).astype(np.float64)
    if e['op'] == 'MatMul':
        return w.T
    if e['op'] == 'ConvTranspose':
        return np.moveaxis(w, 1, 0).reshape(w.shape[1], -1)
    return w.reshape(w.shape[0], -1)


def stats_rule_sqnr(m, bits, granularity):
    """stats.json's rule on the [C_out, K] matrix: symmetric narrow range, x / s, float64."""
    q = 2 ** (bits - 1) - 1
    if granularity == 'tensor':
        absmax = np.abs(m).max()
    elif granularity == 'channel':
        absmax = np.abs(m).max(axis=1, keepdims=True)
    else:  # group32: the last group zero-padded
        C, K = m.shape
        m = np.pad(m, ((0, 0), (0, -K % 32))).reshape(C, -1, 32)
        absmax = np.abs(m).max(axis=-1, keepdims=True)
    s = np.where(absmax == 0, 1, absmax / q)
    mq = np.clip(np.round(m / s), -q, q) * s
    return 10 * math.log10((m ** 2).sum() / max(((m - mq) ** 2).sum(), 1e-30))


def check_stats(stats_path, rows):
    stats = json.load(open(stats_path))
    base = os.path.dirname(stats_path)
    index = json.load(open(os.path.join(base, 'index.json')))
    entries = {e['name']: e for e in index['tensors']}
    ours = {(r['tensor'], r['scheme'], r['format'], r['symmetry']): float(r['sqnr_db'])
            for r in rows if r['scale'] == 'f32' and r['role'] == 'weight'}
    pairs = [('tensor', 'per-tensor'), ('channel', 'per-channel'), ('group32', 'g32')]
    print('\nstats.json (NumPy reference in float64: symmetric narrow range [-q, q], scale = absmax / q, x / s) vs eigenq:')
    print('  sym:        PyTorch symmetric, [-2^(b-1), 2^(b-1) - 1], scale = absmax / ((qmax - qmin) / 2), x * (1/s)')
    print('  sym-narrow: [-q, q], scale = absmax / q, x * (1/s) in float32 (the reference\'s rule)')
    print('%-6s %-12s %-10s %5s %12s %12s %12s %12s' % ('bits', 'scheme', 'eigenq', 'n', 'median diff', 'min diff',
                                                       'max diff', 'rule repro'))
    for bits, fmt in ((8, 'int8'), (4, 'int4')):
        for skey, scheme in pairs:
            for mode in ('sym', 'sym-narrow'):
                diffs, repro = [], []
                for s in stats['weights']:
                    key = (s['name'], scheme, fmt, mode)
                    if key not in ours:
                        continue
                    reference = s['int%d_sqnr_db' % bits][skey]
                    diffs.append(ours[key] - reference)
                    if len(repro) < 8:  # reproduce the reference with its own rule on a few tensors
                        repro.append(abs(stats_rule_sqnr(as_rows(base, entries[s['name']]), bits, skey) - reference))
                if not diffs:
                    continue
                print('%-6s %-12s %-10s %5d %+12.3f %+12.3f %+12.3f %12.1e' % (
                    fmt, scheme, mode, len(diffs), float(np.median(diffs)), min(diffs), max(diffs), max(repro)))
    print('(diff = eigenq - stats.json in dB; "rule repro" = largest |stats.json - this script with stats.py\'s rule| '
          'over 8 tensors)')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('out_dir')
    ap.add_argument('--tensors', type=int, default=6)
    ap.add_argument('--all', action='store_true')
    ap.add_argument('--stats')
    ap.add_argument('--index', help='the index.json the run used (default: found as the tool finds it)')
    ap.add_argument('--quiet', action='store_true', help='print only mismatching rows and the totals')
    ap.add_argument('--root', default='.', help='the directory eigenq-compare ran in (relative tensor paths '
                                                'start there; default: the current directory)')
    args = ap.parse_args()

    meta = json.load(open(os.path.join(args.out_dir, 'summary.json')))
    rows = list(csv.DictReader(open(os.path.join(args.out_dir, 'results.csv'))))
    for r in rows:
        r.setdefault('role', 'weight')
    info = {t['name']: t for t in meta['tensors']}
    if any(not t['file'] for t in meta['tensors']):
        sys.exit('%s: a run on the built-in synthetic set has no files to read; write them with '
                 'eigenq-compare --write-synthetic DIR and run on DIR' % args.out_dir)
    if any(t['tensor'] for t in meta['tensors']):
        sys.exit('%s: a run on a .safetensors checkpoint; this check reads .npy files' % args.out_dir)
    index_path = find_index(args.root, meta, args.index)
    entries = load_index(index_path)
    names = [t['name'] for t in meta['tensors']]
    if args.all:
        wanted = names
    else:
        pt = [r for r in rows if r['scheme'] == 'per-tensor' and r['format'] == 'int8' and r['symmetry'] == 'asym'
              and r['role'] == 'weight']
        worst = min(pt, key=lambda r: float(r['sqnr_db']))['tensor'] if pt else names[0]
        acts = [t['name'] for t in meta['tensors'] if t['role'] == 'activation']
        first = [names[0], worst] + acts[:1]
        rest = [n for n in names if n not in first]
        random.Random(7).shuffle(rest)
        wanted = list(dict.fromkeys(first + rest))[:max(1, args.tensors)]
    print('eigenq-compare results: %s (%s)' % (args.out_dir, meta.get('command', '')))
    print('index: %s' % (index_path or 'none (no layer outputs recomputed)'))
    numpy_sqnr = collections.defaultdict(list)
    checked, failures, skipped, worst, worst_layer = check_rows(args.root, wanted, info, rows, entries, numpy_sqnr,
                                                                args.quiet)
    print('\n%d rows of %d tensors recomputed with NumPy %s: %d mismatches; largest |SQNR difference| %.2e dB, '
          'layer output %.2e dB; %d histogram-observer rows not recomputed' % (
              checked, len(wanted), np.__version__, failures, worst, worst_layer, skipped))
    if len(wanted) == len(names):
        failures += check_summary(args.out_dir, numpy_sqnr)
    if args.stats:
        check_stats(args.stats, rows)
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
