// Golden files tests/data/onnx_opset{13,19,21}.txt, onnx_param_shapes.txt and
// onnx_qlinear.txt, from ONNX Runtime.
//
//     cd tests/conformance/onnx && npm install --ignore-scripts && node gen_onnx.js
//
// Each case is a tiny model with one QuantizeLinear or DequantizeLinear node,
// built here as protobuf bytes (the onnx Python package is not needed; the
// encoder below writes only the fields these models use), and run by the
// CPU build of onnxruntime-node. Scales and zero points are initializers, so
// they reach the operator with their exact ONNX types. ORT cannot hand
// 4-bit tensors to JavaScript, so int4/uint4 outputs go through a Cast to
// int8 inside the model, and 4-bit dequantize inputs are initializers
// (packed, element 2i in the low nibble). onnx_qlinear.txt holds whole
// quantized layers: QLinearMatMul and QLinearConv models, their integer
// inputs and ORT's outputs.
//
// Output format: tests/conformance/golden_writer.py. Per-element parameters
// are ONNX's blocked form with block_size 1 (scale of the tensor's shape).
"use strict";
const fs = require("fs");
const path = require("path");
const ort = require("onnxruntime-node");

// ---------------------------------------------------------------------------
// Protobuf: varints, length-delimited fields, fixed32 floats.

function varint(n) {
  let v = BigInt.asUintN(64, BigInt(n));
  const out = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}
const key = (field, wire) => varint((field << 3) | wire);
const int = (field, n) => Buffer.concat([key(field, 0), varint(n)]);
const bytes = (field, b) => Buffer.concat([key(field, 2), varint(b.length), b]);
const str = (field, s) => bytes(field, Buffer.from(s, "utf8"));
const msg = (field, parts) => bytes(field, Buffer.concat(parts));
function f32(field, v) {
  const b = Buffer.alloc(4);
  b.writeFloatLE(v);
  return Buffer.concat([key(field, 5), b]);
}

// ONNX TensorProto.DataType
const T = { float: 1, uint8: 2, int8: 3, uint16: 4, int16: 5, int32: 6, float8e4m3fn: 17, float8e4m3fnuz: 18,
            float8e5m2: 19, float8e5m2fnuz: 20, uint4: 21, int4: 22, float4e2m1: 23 };
const RANGE = { int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535],
                int32: [-(2 ** 31), 2 ** 31 - 1],
                int4: [-8, 7], uint4: [0, 15] };

// Raw little-endian bytes of values stored as `type` (4-bit types packed).
function raw(type, values) {
  if (type === "float") {
    const b = Buffer.alloc(4 * values.length);
    values.forEach((v, i) => b.writeFloatLE(v, 4 * i));
    return b;
  }
  if (type.startsWith("float8")) return Buffer.from(values);  // codes
  if (type === "int4" || type === "uint4" || type === "float4e2m1") {
    const b = Buffer.alloc((values.length + 1) >> 1);
    values.forEach((v, i) => { b[i >> 1] |= (v & 15) << (4 * (i & 1)); });
    return b;
  }
  const size = { int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4 }[type];
  const b = Buffer.alloc(size * values.length);
  values.forEach((v, i) => (type.startsWith("u") ? b.writeUIntLE(v, size * i, size) : b.writeIntLE(v, size * i, size)));
  return b;
}

// TensorProto: dims=1, data_type=2, name=8, raw_data=9
const tensor = (name, type, dims, values) =>
  Buffer.concat([...dims.map((d) => int(1, d)), int(2, T[type]), str(8, name), bytes(9, raw(type, values))]);
// ValueInfoProto: name=1, type=2 { tensor_type=1 { elem_type=1, shape=2 { dim=1 { dim_value=1 } } } }
const valueInfo = (name, type, dims) =>
  Buffer.concat([str(1, name), msg(2, [msg(1, [int(1, T[type]), msg(2, dims.map((d) => msg(1, [int(1, d)])))])])]);
// AttributeProto: name=1, i=3, type=20 (INT=2)
const intAttr = (name, v) => Buffer.concat([str(1, name), int(3, v), int(20, 2)]);
// ints=8, type INTS=7
const intsAttr = (name, vs) => Buffer.concat([str(1, name), ...vs.map((v) => int(8, v)), int(20, 7)]);
// NodeProto: input=1, output=2, name=3, op_type=4, attribute=5
const node = (op, inputs, outputs, attrs) =>
  Buffer.concat([...inputs.map((s) => str(1, s)), ...outputs.map((s) => str(2, s)), str(3, op), str(4, op),
                 ...attrs.map((a) => msg(5, [a]))]);
const IR_VERSION = { 13: 7, 19: 9, 21: 10, 23: 11, 24: 11 };
// ModelProto: ir_version=1, opset_import=8 { domain=1, version=2 }, graph=7
// GraphProto: node=1, name=2, initializer=5, input=11, output=12
function model(opset, nodes, initializers, inputs, outputs) {
  const graph = Buffer.concat([...nodes.map((n) => msg(1, [n])), str(2, "g"), ...initializers.map((t) => msg(5, [t])),
                               ...inputs.map((v) => msg(11, [v])), ...outputs.map((v) => msg(12, [v]))]);
  return Buffer.concat([int(1, IR_VERSION[opset]), msg(8, [str(1, ""), int(2, opset)]), msg(7, [graph])]);
}

// ---------------------------------------------------------------------------
// Cases

// Deterministic float32 inputs: mulberry32.
let seed = 20240613;
function random() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const LATER_TYPES = ["uint16"];

// Types added after the first files were written draw from their own seed
// (FNV-1a of the case's description), so the older cases keep their values.
function withOwnSeed(description, make) {
  const saved = seed;
  seed = 0x811c9dc5;
  for (const ch of description) seed = Math.imul(seed ^ ch.charCodeAt(0), 0x01000193);
  try {
    return make();
  } finally {
    seed = saved;
  }
}
const randint = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const fround = Math.fround;

const SPECIALS = [0, -0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999997, 126.5, 127.5, -128.5, 48.64207, -6.328578,
                  1e10, -1e10, 1e30, -1e30, Infinity, -Infinity, NaN, 1e-45, 3.4e38].map(fround);

function inputs(n, scales, span, specials = SPECIALS) {
  const pool = [...specials];
  for (let i = 0; i < 3 * n; ++i) {
    const s = scales[randint(0, scales.length - 1)];
    pool.push(fround((randint(-span, span) + 0.5) * s));  // on or next to a tie
    pool.push(fround(normal() * span * s));
  }
  for (let i = pool.length - 1; i > 0; --i) {  // shuffle
    const j = randint(0, i);
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, n);
}

function randomScales(count) {
  return Array.from({ length: count }, () => fround(2 ** (random() * 10 - 8)));
}

function hexfloat(v) {
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  if (v === 0) return Object.is(v, -0) ? "-0x0p+0" : "0x0p+0";
  const b = Buffer.alloc(8);
  b.writeDoubleBE(v);
  const hi = b.readUInt32BE(0), lo = b.readUInt32BE(4);
  const sign = hi >>> 31 ? "-" : "";
  const exponent = ((hi >>> 20) & 0x7ff) - 1023;  // float32 values are normal doubles
  const mantissa = ((hi & 0xfffff).toString(16).padStart(5, "0") + lo.toString(16).padStart(8, "0")).replace(/0+$/, "");
  return `${sign}0x1${mantissa ? "." + mantissa : ""}p${exponent >= 0 ? "+" : ""}${exponent}`;
}
const floats = (a) => Array.from(a, hexfloat).join(",");
const ints = (a) => Array.from(a, (v) => String(v)).join(",");

// The parameters' shape in ONNX: scalar, 1-D along the axis, or blocked.
function paramDims(scheme, dims, axis, block) {
  if (axis < 0) axis += dims.length;
  if (scheme === "per_tensor") return [];
  if (scheme === "per_axis") return [dims[axis]];
  return dims.map((d, i) => (i === axis ? Math.ceil(d / block) : d));
}
const product = (dims) => dims.reduce((a, b) => a * b, 1);

// Runs one QuantizeLinear / DequantizeLinear model; returns the output array.
async function run(c) {
  const pdims = c.paramDims ?? paramDims(c.scheme, c.shape, c.axis, c.block);
  const attrs = [];
  if (c.onnxAxis !== undefined) attrs.push(intAttr("axis", c.onnxAxis));
  if (c.scheme === "blocked" || c.scheme === "per_element") attrs.push(intAttr("block_size", c.block));
  if (c.omitZeroPoint && c.op === "quantize" && c.type !== "uint8") attrs.push(intAttr("output_dtype", T[c.type]));
  const inits = [tensor("scale", "float", pdims, c.scale)];
  const nodeInputs = [c.op === "quantize" ? "x" : "q", "scale"];
  if (!c.omitZeroPoint) {
    inits.push(tensor("zp", c.type, pdims, c.zp));
    nodeInputs.push("zp");
  }
  const is4 = c.type === "int4" || c.type === "uint4";
  const nodes = [], inputs = [], feeds = {};
  let output;
  if (c.op === "quantize") {
    inputs.push(valueInfo("x", "float", c.shape));
    feeds.x = new ort.Tensor("float32", Float32Array.from(c.x), c.shape);
    nodes.push(node("QuantizeLinear", nodeInputs, [is4 ? "q4" : "y"], attrs));
    if (is4) nodes.push(node("Cast", ["q4"], ["y"], [intAttr("to", T.int8)]));
    output = valueInfo("y", is4 ? "int8" : c.type, c.shape);
  } else {
    if (is4) {
      inits.push(tensor("q", c.type, c.shape, c.q));
    } else {
      inputs.push(valueInfo("q", c.type, c.shape));
      const Arr = { int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array }[c.type];
      feeds.q = new ort.Tensor(c.type, Arr.from(c.q), c.shape);
    }
    nodes.push(node("DequantizeLinear", nodeInputs, ["y"], attrs));
    output = valueInfo("y", "float", c.shape);
  }
  const bytes = model(c.opset, nodes, inits, inputs, [output]);
  const session = await ort.InferenceSession.create(bytes);
  const result = await session.run(feeds);
  return Array.from(result.y.data);
}

function layoutFields(c) {
  const f = [`scheme=${c.scheme}`, `shape=${c.shape.join(",")}`];
  if (c.scheme === "per_axis" || c.scheme === "blocked") f.push(`axis=${c.axis}`);
  if (c.scheme === "blocked") f.push(`block=${c.block}`);
  return f;
}

async function caseLine(c) {
  const y = await run(c);
  const [qmin, qmax] = RANGE[c.type];
  const fields = [c.name, `op=${c.op}`, "preset=onnx", `type=${c.type}`, ...layoutFields(c), `qmin=${qmin}`,
                  `qmax=${qmax}`, `scale=${floats(c.scale)}`, `zp=${ints(c.zp)}`,
                  c.op === "quantize" ? `x=${floats(c.x)}` : `x=${ints(c.q)}`,
                  c.op === "quantize" ? `y=${ints(y)}` : `y=${floats(y)}`];
  return fields.join(" ");
}

// A case: scheme, shape, axis (normalized), the axis attribute as written in
// the model (undefined: omitted, so the default 1 applies), block size.
function makeCase(opset, op, type, scheme, shape, opts = {}) {
  const axis = opts.axis ?? 0;
  const block = scheme === "per_element" ? 1 : opts.block ?? 0;
  // per_element is ONNX's blocked form with block 1 along the last axis.
  const onnxAxis = scheme === "per_element" ? shape.length - 1 : opts.onnxAxis;
  const count = product(paramDims(scheme, shape, scheme === "per_element" ? shape.length - 1 : axis, block));
  const [qmin, qmax] = RANGE[type];
  const scale = opts.scale ?? randomScales(count);
  let zp;
  if (opts.zp !== undefined) zp = opts.zp;
  else if (opts.omitZeroPoint || type === "int32") zp = new Array(count).fill(0);  // int32: zero point must be 0
  else zp = Array.from({ length: count }, () => randint(Math.max(qmin, -1000), Math.min(qmax, 1000)));
  const n = product(shape);
  // The axis as the model gives it (negative ones stay negative; eigenq takes
  // them too), or the default 1 when the attribute is omitted.
  const c = { opset, op, type, scheme, shape, axis: scheme === "per_element" ? shape.length - 1 : opts.onnxAxis ?? axis,
              onnxAxis, block, scale, zp, omitZeroPoint: opts.omitZeroPoint };
  if (op === "quantize") c.x = opts.x ?? inputs(n, scale, Math.min(qmax - qmin, 4096) >> 1, opts.specials);
  else c.q = opts.q ?? Array.from({ length: n }, (_, i) => (i === 0 ? qmin : i === 1 ? qmax : randint(qmin, qmax)));
  const axisTag = opts.onnxAxis === undefined ? (scheme === "per_axis" ? "default" : "") : String(opts.onnxAxis);
  c.name = opts.name ?? [op, type, scheme, shape.join("x"), axisTag && "axis" + axisTag,
                         block && scheme === "blocked" ? "b" + block : "", opts.omitZeroPoint ? "nozp" : ""]
                          .filter(Boolean).join("_");
  return c;
}

async function generate(opset) {
  const out = [];
  const header = [
    `# Golden file tests/data/onnx_opset${opset}.txt, from ONNX Runtime ${ort.env.versions.common} (npm onnxruntime-node),`,
    `# QuantizeLinear / DequantizeLinear at opset ${opset}. Generated by tests/conformance/onnx/gen_onnx.js.`,
  ];
  const qtypes = opset >= 21 ? ["int8", "uint8", "int16", "uint16", "int4", "uint4"] : ["int8", "uint8"];
  const dtypes = [...qtypes, "int32"];
  const cases = [];
  for (const op of ["quantize", "dequantize"]) {
    for (const type of op === "quantize" ? qtypes : dtypes) {
      const make = LATER_TYPES.includes(type)
        ? (...a) => withOwnSeed(JSON.stringify(a), () => makeCase(...a)) : makeCase;
      cases.push(make(opset, op, type, "per_tensor", [67]));
      cases.push(make(opset, op, type, "per_tensor", [3, 17]));
      // Without a zero point QuantizeLinear writes uint8, or opset 21's output_dtype.
      if (op === "dequantize" || type === "uint8" || opset >= 21)
        cases.push(make(opset, op, type, "per_tensor", [2, 3], { omitZeroPoint: true }));
      if (type === "int32") continue;  // per-axis int32 needs opset 21; keep to the shared subset
      cases.push(make(opset, op, type, "per_axis", [4, 5, 6], { axis: 1 }));  // axis omitted: default 1
      cases.push(make(opset, op, type, "per_axis", [4, 5, 6], { axis: 0, onnxAxis: 0 }));
      cases.push(make(opset, op, type, "per_axis", [4, 5, 6], { axis: 2, onnxAxis: -1 }));
      cases.push(make(opset, op, type, "per_axis", [7, 33], { axis: 1, onnxAxis: -1 }));
      cases.push(make(opset, op, type, "per_axis", [3, 40], { axis: 0, onnxAxis: -2 }));
      if (opset >= 21) {
        cases.push(make(opset, op, type, "blocked", [4, 70], { axis: 1, onnxAxis: 1, block: 32 }));
        cases.push(make(opset, op, type, "blocked", [3, 128], { axis: 1, onnxAxis: -1, block: 64 }));
        cases.push(make(opset, op, type, "blocked", [2, 256], { axis: 1, onnxAxis: 1, block: 128 }));
        // Blocks along an axis that is not the last: ORT saturates wrongly there,
        // so these random cases keep to finite values that fit; the edges are
        // in the ort_blocked_edges cases below.
        const finite = SPECIALS.filter((v) => Math.abs(v) < 1e3);
        cases.push(make(opset, op, type, "blocked", [3, 10, 4], { axis: 1, onnxAxis: 1, block: 4,
          specials: finite }));
        cases.push(make(opset, op, type, "blocked", [70, 3], { axis: 0, onnxAxis: 0, block: 32,
          specials: finite }));
        cases.push(make(opset, op, type, "per_element", [5, 7]));
      }
    }
  }
  // uint16 above int16's range: a signed 16-bit narrowing would saturate these.
  if (opset >= 21) {
    for (const [scheme, shape, opts] of [["per_tensor", [67], { zp: [40000] }],
                                         ["per_axis", [3, 40], { axis: 0, onnxAxis: 0, zp: [32768, 50000, 65535] }]]) {
      const name = `quantize_uint16_above_int16_${scheme}`;
      cases.push(withOwnSeed(name, () => makeCase(opset, "quantize", "uint16", scheme, shape, { name, ...opts })));
    }
  }
  // Scales whose reciprocal overflows float32: ORT divides and dequantizes
  // with them (eigenq's reciprocal presets refuse them for quantize).
  if (opset >= 21) {
    const tiny = [fround(1e-45), fround(1e-39), fround(2.9e-39)];
    const x = [0, -0, 1e-45, -1e-45, 2e-45, 1e-39, -3e-39, 1e-30, -1, 0.5, NaN, Infinity].map(fround);
    for (const s of tiny) {
      cases.push(makeCase(opset, "quantize", "int8", "per_tensor", [x.length], { name: `quantize_tiny_scale_${s}`,
        x, scale: [s], zp: [3] }));
      cases.push(makeCase(opset, "dequantize", "int8", "per_tensor", [6], { name: `dequantize_tiny_scale_${s}`,
        q: [-128, -1, 0, 1, 3, 127], scale: [s], zp: [3] }));
    }
    cases.push(makeCase(opset, "dequantize", "uint16", "per_axis", [3, 2], { name: "dequantize_tiny_scale_per_axis",
      axis: 0, onnxAxis: 0, q: [0, 65535, 1, 40000, 7, 32768], scale: tiny, zp: [0, 32768, 65535] }));
  }
  // The numeric contract's named cases.
  const contract = [fround(48.64207), fround(-6.328578)];
  cases.push(makeCase(opset, "quantize", "int8", "per_tensor", [2], { name: "reciprocal_vs_division",
    x: contract, scale: [fround(1.7067393)], zp: [0] }));
  cases.push(makeCase(opset, "quantize", "int8", "per_tensor", [1], { name: "reciprocal_vs_division_0_666",
    x: contract.slice(1), scale: [fround(0.6661661)], zp: [0] }));
  cases.push(makeCase(opset, "quantize", "int8", "per_tensor", [6], { name: "ties_zero_point_after_rounding",
    x: [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5], scale: [1], zp: [5] }));
  // Saturation, NaN and infinities at every position of a vector and its tail.
  const edges = [Infinity, -Infinity, NaN, 1e30, -1e30, 1e10, -1e10, 3.4e38].map(fround);
  for (const type of qtypes) {
    const [qmin, qmax] = RANGE[type];
    const zps = type.startsWith("u") ? [0, qmax >> 1, qmax] : [qmin, -1, 0, 3, qmax];
    for (const zp of zps) {
      for (const n of [8, 37]) {
        const x = Array.from({ length: n }, (_, i) => edges[i % edges.length]);
        cases.push(makeCase(opset, "quantize", type, "per_tensor", [n], { name: `saturate_${type}_zp${zp}_n${n}`, x,
          scale: [fround(0.5)], zp: [zp] }));
      }
    }
  }
  if (opset >= 21) {
    // ORT's departures from the specification (tests/onnx_test.cpp lists them).
    // Blocked along an axis that is not the last, with values that saturate.
    for (const type of qtypes) {
      const [qmin, qmax] = RANGE[type];
      const s = fround(0.5);
      const more = [300, -300, 1e6, -1e6, 2.5, -2.5, 0, 1].map((v) => fround(v * s));
      const x = Array.from({ length: 32 }, (_, i) => [...edges, ...more][i % 16]);
      const zp = type.startsWith("u") ? [0, qmax >> 1, qmax, 1] : [qmin, -1, 0, qmax];
      cases.push(makeCase(opset, "quantize", type, "blocked", [2, 8, 2], { name: `ort_blocked_edges_${type}`, x,
        axis: 1, onnxAxis: 1, block: 4, scale: new Array(8).fill(s), zp: [...zp, ...zp] }));
    }
    // int4 with a negative zero point: each edge alone in the scalar tail.
    for (const zp of [-8, -1, 0, 7]) {
      for (const n of [1, 33]) {
        for (const [k, v] of edges.entries()) {
          const x = Array.from({ length: n }, (_, i) => (i === n - 1 ? v : fround(i - 16)));
          cases.push(makeCase(opset, "quantize", "int4", "per_tensor", [n], { name: `ort_int4_tail_zp${zp}_n${n}_e${k}`,
            x, scale: [fround(1)], zp: [zp] }));
        }
      }
    }
  }
  for (const c of cases) out.push(await caseLine(c));
  const file = path.join(__dirname, "..", "..", "data", `onnx_opset${opset}.txt`);
  fs.writeFileSync(file, [...header, ...out].join("\n") + "\n");
  console.log(`wrote ${out.length} cases to ${file}`);
}

// Which y_scale shapes ORT 1.30 takes for an input shape, axis and
// block_size (opset 21, QuantizeLinear int8, y_zero_point of the same shape),
// and its output when it takes one: tests/data/onnx_param_shapes.txt.
async function generateParamShapes() {
  // name, input shape, axis attribute (undefined: omitted, default 1), block_size (0: omitted), y_scale shape
  const shapes = [
    ["per_tensor_scalar", [2, 4], undefined, 0, []],
    ["per_tensor_1", [2, 4], undefined, 0, [1]],
    ["per_tensor_1x1", [2, 4], undefined, 0, [1, 1]],
    ["per_axis_1", [2, 4], 1, 0, [4]],
    ["per_axis_0", [2, 4], 0, 0, [2]],
    ["per_axis_default", [2, 4, 3], undefined, 0, [4]],
    ["per_axis_negative", [2, 4, 3], -1, 0, [3]],
    ["per_axis_wrong_length", [2, 4], 1, 0, [3]],
    ["per_axis_1x4", [2, 4], 1, 0, [1, 4]],
    ["per_axis_4x1", [2, 4], 1, 0, [4, 1]],
    ["blocked_2x2", [2, 4], 1, 2, [2, 2]],
    ["blocked_4x1", [2, 4], 1, 2, [4, 1]],
    ["blocked_1d_4", [2, 4], 1, 2, [4]],
    ["blocked_1x4", [2, 4], 1, 2, [1, 4]],
    ["blocked_2x3", [2, 4], 1, 2, [2, 3]],
    ["blocked_2x1", [2, 4], 1, 2, [2, 1]],
    ["blocked_scalar", [2, 4], 1, 2, []],
    ["blocked_ragged", [2, 5], 1, 2, [2, 3]],
    ["blocked_ragged_short", [2, 5], 1, 2, [2, 2]],
    ["blocked_axis0", [5, 3], 0, 2, [3, 3]],
    ["blocked_axis0_3x1", [5, 3], 0, 2, [3, 1]],
    ["blocked_axis_negative", [2, 4], -1, 2, [2, 2]],
    ["blocked_block_above_axis", [2, 4], 1, 8, [2, 1]],
    ["blocked_3d", [3, 10, 4], 1, 4, [3, 3, 4]],
    ["blocked_3d_flattened", [3, 10, 4], 1, 4, [9, 4]],
    ["blocked_3d_swapped", [3, 10, 4], 1, 4, [3, 4, 3]],
    ["blocked_3d_rank2", [3, 10, 4], 1, 4, [3, 12]],
    ["blocked_block1", [2, 3], 1, 1, [2, 3]],
  ];
  const out = [
    `# Golden file tests/data/onnx_param_shapes.txt, from ONNX Runtime ${ort.env.versions.common} (npm onnxruntime-node):`,
    "# the y_scale shapes QuantizeLinear (opset 21, int8) takes, and its output when it takes one.",
    "# Generated by tests/conformance/onnx/gen_onnx.js. axis: the attribute, or its default 1 when omitted.",
  ];
  for (const [name, shape, axis, block, scaleDims] of shapes) {
    const count = product(scaleDims);
    const c = withOwnSeed(name, () => {
      const scale = randomScales(count);
      return { opset: 21, op: "quantize", type: "int8", scheme: "per_tensor", shape, onnxAxis: axis, block,
               paramDims: scaleDims, scale, zp: Array.from({ length: count }, () => randint(-20, 20)),
               x: inputs(product(shape), scale, 64, SPECIALS.slice(0, 8)) };
    });
    if (block > 0) c.scheme = "blocked";  // run() adds block_size for blocked schemes
    const fields = [name, `shape=${shape.join(",")}`, `axis=${axis ?? 1}`, `block=${block}`,
                    `scale_shape=${scaleDims.join(",")}`];
    let y = null;
    try {
      y = await run(c);
    } catch (e) {
      fields.push("ort=refused");
    }
    if (y !== null)
      fields.push("ort=accepted", `scale=${floats(c.scale)}`, `zp=${ints(c.zp)}`, `x=${floats(c.x)}`, `y=${ints(y)}`);
    out.push(fields.join(" "));
  }
  const file = path.join(__dirname, "..", "..", "data", "onnx_param_shapes.txt");
  fs.writeFileSync(file, out.join("\n") + "\n");
  console.log(`wrote ${shapes.length} cases to ${file}`);
}

// ---------------------------------------------------------------------------
// Whole quantized layers: QLinearMatMul and QLinearConv (opset 13), each on
// fixed integer inputs, their output as ORT computes it. tests/data/onnx_qlinear.txt.

const TYPED = { int8: Int8Array, uint8: Uint8Array, int32: Int32Array };
const randints = (n, [lo, hi]) => Array.from({ length: n }, () => randint(lo, hi));

// A layer case: x [M, K] times w [K, N] (matmul) or x [1, Cin, H, W] with
// w [Cout, Cin, kH, kW], pads 1 (conv). Weight scales and zero points per
// tensor or per output channel.
// opts.ties: power-of-two scales, s_x * s_w[c] / s_y = 2^-2 or 2^-3 exactly,
// and inputs within 4 of their zero points, so that one accumulator in four
// or eight lands on a tie (ORT rounds it half to even).
function makeLayer(name, op, xtype, wtype, perChannel, dims, opts = {}) {
  const channels = op === "matmul" ? dims.N : dims.Cout;
  const wcount = perChannel ? channels : 1;
  let xScale = fround(2 ** (random() * 2 - 7)), yScale = fround(2 ** (random() * 2 - 5));
  let wScale = Array.from({ length: wcount }, () => fround(2 ** (random() * 2 - 8)));
  if (opts.ties) {
    xScale = 2 ** -6;
    yScale = 2 ** -9;
    wScale = Array.from({ length: wcount }, (_, c) => 2 ** (-5 - (c % 2)));
  }
  const xzp = xtype === "uint8" ? randint(100, 150) : randint(-20, 20);
  const wzp = Array.from({ length: wcount }, () => (wtype === "uint8" ? randint(100, 150) : 0));
  const yzp = xtype === "uint8" ? randint(100, 150) : randint(-20, 20);
  const xdims = op === "matmul" ? [dims.M, dims.K] : [1, dims.Cin, dims.H, dims.W];
  const wdims = op === "matmul" ? [dims.K, dims.N] : [dims.Cout, dims.Cin, 3, 3];
  const wrange = wtype === "uint8" ? [0, 255] : [-127, 127];
  const near = (zp) => [zp - 4, zp + 4];
  const c = { name, op, xtype, wtype, perChannel, xdims, wdims, xScale, yScale, wScale, xzp, wzp, yzp,
              x: randints(product(xdims), opts.ties ? near(xzp) : RANGE[xtype]),
              w: randints(product(wdims), opts.ties ? near(wzp[0]) : wrange) };
  if (op === "conv") c.bias = randints(channels, opts.ties ? [-40, 40] : [-20000, 20000]);
  return c;
}

async function runLayer(c) {
  const pdims = c.perChannel ? [c.wScale.length] : [];
  const inits = [tensor("x_scale", "float", [], [c.xScale]), tensor("x_zp", c.xtype, [], [c.xzp]),
                 tensor("w", c.wtype, c.wdims, c.w), tensor("w_scale", "float", pdims, c.wScale),
                 tensor("w_zp", c.wtype, pdims, c.wzp), tensor("y_scale", "float", [], [c.yScale]),
                 tensor("y_zp", c.xtype, [], [c.yzp])];
  const inputs = ["x", "x_scale", "x_zp", "w", "w_scale", "w_zp", "y_scale", "y_zp"];
  let n, ydims;
  if (c.op === "matmul") {
    ydims = [c.xdims[0], c.wdims[1]];
    n = node("QLinearMatMul", inputs, ["y"], []);
  } else {
    inits.push(tensor("bias", "int32", [c.bias.length], c.bias));
    ydims = [1, c.wdims[0], c.xdims[2], c.xdims[3]];
    n = node("QLinearConv", [...inputs, "bias"], ["y"], [intsAttr("pads", [1, 1, 1, 1])]);
  }
  const bytes = model(13, [n], inits, [valueInfo("x", c.xtype, c.xdims)], [valueInfo("y", c.xtype, ydims)]);
  const session = await ort.InferenceSession.create(bytes);
  const result = await session.run({ x: new ort.Tensor(c.xtype, TYPED[c.xtype].from(c.x), c.xdims) });
  return Array.from(result.y.data);
}

async function generateQLinear() {
  const out = [
    `# Golden file tests/data/onnx_qlinear.txt, from ONNX Runtime ${ort.env.versions.common} (npm onnxruntime-node):`,
    "# QLinearMatMul (x [M, K] times w [K, N]) and QLinearConv (x NCHW, w [Cout, Cin, 3, 3], pads 1, stride 1, int32",
    "# bias) at opset 13, weights per tensor or per output channel; *_ties: power-of-two scales, one accumulator in",
    "# eight on a rounding tie. Generated by tests/conformance/onnx/gen_onnx.js.",
  ];
  const mm = { M: 5, K: 7, N: 6 }, big = { M: 9, K: 33, N: 37 }, conv = { Cin: 3, H: 5, W: 5, Cout: 4 };
  const layers = [
    ["matmul", "uint8", "uint8", false, mm], ["matmul", "uint8", "uint8", true, mm],
    ["matmul", "uint8", "int8", false, mm], ["matmul", "uint8", "int8", true, big],
    ["matmul", "int8", "int8", false, mm], ["matmul", "int8", "int8", true, big],
    ["conv", "uint8", "uint8", false, conv], ["conv", "uint8", "uint8", true, conv],
    ["conv", "uint8", "int8", true, conv], ["conv", "int8", "int8", false, conv], ["conv", "int8", "int8", true, conv],
    ["matmul", "int8", "int8", true, big, { ties: true }], ["matmul", "uint8", "uint8", true, big, { ties: true }],
    ["conv", "uint8", "int8", true, conv, { ties: true }],
  ];
  for (const [op, xtype, wtype, perChannel, dims, opts] of layers) {
    const name = [op, xtype, wtype, perChannel ? "per_channel" : "per_tensor", ...Object.values(dims),
                  opts?.ties ? "ties" : ""].filter(Boolean).join("_");
    const c = withOwnSeed(name, () => makeLayer(name, op, xtype, wtype, perChannel, dims, opts));
    const y = await runLayer(c);
    const fields = [name, `op=${op}`, `x_type=${xtype}`, `w_type=${wtype}`, `x_shape=${c.xdims.join(",")}`,
                    `w_shape=${c.wdims.join(",")}`, `x_scale=${floats([c.xScale])}`, `x_zp=${c.xzp}`,
                    `w_scale=${floats(c.wScale)}`, `w_zp=${ints(c.wzp)}`, `y_scale=${floats([c.yScale])}`,
                    `y_zp=${c.yzp}`, `bias=${c.bias ? ints(c.bias) : ""}`, `x=${ints(c.x)}`, `w=${ints(c.w)}`,
                    `y=${ints(y)}`];
    out.push(fields.join(" "));
  }
  const file = path.join(__dirname, "..", "..", "data", "onnx_qlinear.txt");
  fs.writeFileSync(file, out.join("\n") + "\n");
  console.log(`wrote ${layers.length} cases to ${file}`);
}

// gen_onnx_fp8.js builds its models with the same encoder.
module.exports = { ort, T, int, str, msg, tensor, valueInfo, intAttr, node, model, hexfloat, floats, ints };

if (require.main === module) {
  (async () => {
    for (const opset of [13, 19, 21]) await generate(opset);
    await generateParamShapes();
    await generateQLinear();
  })().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
