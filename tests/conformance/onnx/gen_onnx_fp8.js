// Golden file tests/data/onnx_fp8.txt, from ONNX Runtime: QuantizeLinear and
// DequantizeLinear to and from float8e4m3fn, float8e4m3fnuz, float8e5m2 and
// float8e5m2fnuz at opsets 19 and 21 (saturate on, off and omitted; per
// tensor, per axis, and blocked at 21), and float4e2m1 at opset 23.
//
//     cd tests/conformance/onnx && npm install --ignore-scripts && node gen_onnx_fp8.js
//
// Models are built with gen_onnx.js's protobuf encoder. ORT cannot hand
// float8 or float4 tensors to JavaScript, so a quantized output goes through
// a Cast to float inside the model (exact: every code's value is a float32;
// only the payload of a NaN is lost, its sign is kept), and dequantize
// inputs are initializers holding the codes (float4: packed, element 2i in
// the low nibble). The zero point, where given, is 0 of the element type
// (ONNX requires it). Output format: tests/conformance/golden_writer.py,
// and "-nan" for a NaN with its sign bit set; quantize cases record y as the
// float value of ORT's code.
"use strict";
const fs = require("fs");
const path = require("path");
const { ort, T, tensor, valueInfo, intAttr, node, model, floats, ints } = require("./gen_onnx.js");

// Deterministic inputs: mulberry32, seeded per case with FNV-1a of its name.
let seed = 0;
function random() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
function seedFrom(name) {
  seed = 0x811c9dc5;
  for (const ch of name) seed = Math.imul(seed ^ ch.charCodeAt(0), 0x01000193);
}
const fround = Math.fround;
const product = (dims) => dims.reduce((a, b) => a * b, 1);

// The inputs' landmarks per type (chosen inputs, not expected values): the
// largest finite value, the spacing just below it, the smallest subnormal,
// the smallest normal, and the number of codes.
const FORMATS = {
  float8e4m3fn: { max: 448, ulp: 32, sub: 2 ** -9, normal: 2 ** -6, codes: 256 },
  float8e4m3fnuz: { max: 240, ulp: 16, sub: 2 ** -10, normal: 2 ** -7, codes: 256 },
  float8e5m2: { max: 57344, ulp: 8192, sub: 2 ** -16, normal: 2 ** -14, codes: 256 },
  float8e5m2fnuz: { max: 57344, ulp: 8192, sub: 2 ** -17, normal: 2 ** -15, codes: 256 },
  float4e2m1: { max: 6, ulp: 2, sub: 0.5, normal: 1, codes: 16 },
};

// Values on, next to and between the format's steps at the edges of its
// range, and the specials; then random values across the whole range.
function edgeInputs(f) {
  const { max, ulp, sub, normal } = FORMATS[f];
  const next = (v, d) => {  // the float32 d ulps away from v (v > 0)
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    b.writeUInt32LE(b.readUInt32LE() + d);
    return b.readFloatLE();
  };
  const base = [0, max, max + ulp / 2, max + ulp, max - ulp / 2, max - ulp / 4, 2 * max, max + ulp / 4,
                sub, sub / 2, (3 * sub) / 2, (5 * sub) / 2, sub / 4, normal, normal - sub / 2, normal + sub / 2,
                1, 1.5, 2.5, 3.5, 1e30, 3.4e38, 1e-30, 1e-45];
  const out = [NaN, Infinity, -Infinity, -0];
  for (const v of base) {
    const x = fround(v);
    out.push(x, -x);
    if (x > 0 && x < 3e38) out.push(next(x, 1), next(x, -1), -next(x, 1));
  }
  return out.map(fround);
}
function randomInputs(f, n) {
  const { max, sub } = FORMATS[f];
  const lo = Math.log2(sub) - 3, hi = Math.log2(max) + 2;
  return Array.from({ length: n }, () => {
    const v = 2 ** (lo + random() * (hi - lo)) * (random() < 0.5 ? -1 : 1);
    return fround(random() < 0.1 ? NaN : v);
  });
}
const randomScales = (count) => Array.from({ length: count }, () => fround(2 ** (random() * 8 - 4)));

function paramDims(scheme, dims, axis, block) {
  if (axis < 0) axis += dims.length;
  if (scheme === "per_tensor") return [];
  if (scheme === "per_axis") return [dims[axis]];
  return dims.map((d, i) => (i === axis ? Math.ceil(d / block) : d));
}

// One QuantizeLinear (output cast to float) or DequantizeLinear model.
async function run(c) {
  const pdims = paramDims(c.scheme, c.shape, c.axis, c.block);
  const attrs = [];
  if (c.scheme !== "per_tensor") attrs.push(intAttr("axis", c.axis));
  if (c.scheme === "blocked") attrs.push(intAttr("block_size", c.block));
  if (c.saturate !== undefined) attrs.push(intAttr("saturate", c.saturate));
  const inits = [tensor("scale", "float", pdims, c.scale)];
  const inputs = [c.op === "quantize" ? "x" : "q", "scale"];
  if (!c.omitZeroPoint) {
    inits.push(tensor("zp", c.type, pdims, new Array(product(pdims)).fill(0)));
    inputs.push("zp");
  } else if (c.op === "quantize") {
    attrs.push(intAttr("output_dtype", T[c.type]));
  }
  const nodes = [], graphInputs = [], feeds = {};
  if (c.op === "quantize") {
    graphInputs.push(valueInfo("x", "float", c.shape));
    feeds.x = new ort.Tensor("float32", Float32Array.from(c.x), c.shape);
    nodes.push(node("QuantizeLinear", inputs, ["q"], attrs));
    nodes.push(node("Cast", ["q"], ["y"], [intAttr("to", T.float)]));
  } else {
    inits.push(tensor("q", c.type, c.shape, c.q));
    nodes.push(node("DequantizeLinear", inputs, ["y"], attrs));
  }
  const bytes = model(c.opset, nodes, inits, graphInputs, [valueInfo("y", "float", c.shape)]);
  const session = await ort.InferenceSession.create(bytes);
  const result = await session.run(feeds);
  return result.y.data;  // a Float32Array: its bits keep a NaN's sign
}

// Floats as gen_onnx.js writes them, and a NaN's sign ("-nan"), read from
// the float32 bits (a JavaScript number does not show it).
function floatsWithNaNSign(a) {
  const bits = new Uint32Array(a.buffer, a.byteOffset, a.length);
  return Array.from(a, (v, i) => (Number.isNaN(v) ? (bits[i] >>> 31 ? "-nan" : "nan") : floats([v]))).join(",");
}

async function caseLine(c) {
  const y = await run(c);
  const f = [c.name, `op=${c.op}`, `opset=${c.opset}`, `type=${c.type}`,
             `saturate=${c.saturate === undefined ? "default" : c.saturate}`, `scheme=${c.scheme}`,
             `shape=${c.shape.join(",")}`];
  if (c.scheme !== "per_tensor") f.push(`axis=${c.axis}`);
  if (c.scheme === "blocked") f.push(`block=${c.block}`);
  f.push(`scale=${floats(c.scale)}`, c.op === "quantize" ? `x=${floats(c.x)}` : `x=${ints(c.q)}`, `y=${floatsWithNaNSign(y)}`);
  return f.join(" ");
}

function makeCases(opset, type) {
  const cases = [];
  const add = (name, make) => {
    seedFrom(name);
    cases.push({ name, opset, type, ...make() });
  };
  const { codes } = FORMATS[type];
  const tag = `${type}_opset${opset}`;
  const allCodes = Array.from({ length: codes }, (_, i) => i);
  for (const saturate of [undefined, 1, 0]) {
    const st = saturate === undefined ? "satdefault" : `sat${saturate}`;
    const x = edgeInputs(type);
    // Scale 1: the conversion alone; 2^-3: exact; 0.3 and 1.7067393: the
    // division rounds (x * (1 / s) would differ for some x).
    for (const s of [1, 0.125, 0.3, 1.7067393].map(fround))
      add(`quantize_${tag}_${st}_edges_scale${s}`, () => ({ op: "quantize", saturate, scheme: "per_tensor",
        shape: [x.length], scale: [s], x: x.map((v) => fround(v * s)) }));
    add(`quantize_${tag}_${st}_random`, () => {
      const n = 200;
      return { op: "quantize", saturate, scheme: "per_tensor", shape: [n], scale: randomScales(1),
               x: randomInputs(type, n) };
    });
  }
  // Per axis and blocked, saturate on (the default) and off.
  for (const saturate of [undefined, 0]) {
    const st = saturate === undefined ? "satdefault" : "sat0";
    const layouts = [["per_axis", [4, 5, 6], 1, 0], ["per_axis", [3, 40], 0, 0], ["per_axis", [7, 33], -1, 0]];
    if (opset >= 21) layouts.push(["blocked", [4, 70], 1, 32], ["blocked", [3, 10, 4], 1, 4], ["blocked", [70, 3], 0, 32]);
    for (const [scheme, shape, axis, block] of layouts) {
      const a = axis < 0 ? axis + shape.length : axis;
      add(`quantize_${tag}_${st}_${scheme}_${shape.join("x")}_axis${axis}${block ? "_b" + block : ""}`, () => {
        const scale = randomScales(product(paramDims(scheme, shape, a, block)));
        return { op: "quantize", saturate, scheme, shape, axis, block, scale, x: randomInputs(type, product(shape)) };
      });
    }
  }
  // Dequantize: every code at scale 1 (ORT's table of values) and at a
  // scale that rounds; per axis; blocked at 21; without a zero point.
  for (const s of [1, 0.3, 1e-30].map(fround))
    add(`dequantize_${tag}_every_code_scale${s}`, () => ({ op: "dequantize", scheme: "per_tensor", shape: [codes],
      scale: [s], q: allCodes }));
  add(`dequantize_${tag}_nozp`, () => ({ op: "dequantize", scheme: "per_tensor", shape: [codes], scale: [fround(2.5)],
    q: allCodes, omitZeroPoint: true }));
  const dlayouts = [["per_axis", [4, 64], 1, 0], ["per_axis", [3, 40], 0, 0]];
  if (opset >= 21) dlayouts.push(["blocked", [4, 70], 1, 32], ["blocked", [70, 3], 0, 32]);
  for (const [scheme, shape, axis, block] of dlayouts) {
    add(`dequantize_${tag}_${scheme}_${shape.join("x")}_axis${axis}${block ? "_b" + block : ""}`, () => {
      const scale = randomScales(product(paramDims(scheme, shape, axis, block)));
      return { op: "dequantize", scheme, shape, axis, block, scale,
               q: Array.from({ length: product(shape) }, () => Math.floor(random() * codes)) };
    });
  }
  return cases;
}

(async () => {
  const header = [
    `# Golden file tests/data/onnx_fp8.txt, from ONNX Runtime ${ort.env.versions.common} (npm onnxruntime-node):`,
    "# QuantizeLinear / DequantizeLinear with float8 (opsets 19, 21) and float4e2m1 (opset 23) elements.",
    "# Generated by tests/conformance/onnx/gen_onnx_fp8.js. Quantize: y is the float value of ORT's code (a Cast",
    "# to float in the model). saturate=default: the attribute omitted.",
  ];
  const out = [];
  const refused = [];
  for (const opset of [19, 21]) {
    for (const type of ["float8e4m3fn", "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz"])
      for (const c of makeCases(opset, type)) out.push(await caseLine(c));
  }
  // float4e2m1 (opset 23): written when ORT runs it, else a comment says so
  // (ORT 1.30's CPU provider has no float4e2m1 kernel for QuantizeLinear,
  // DequantizeLinear or Cast).
  for (const c of makeCases(23, "float4e2m1")) {
    try {
      out.push(await caseLine(c));
    } catch (e) {
      const why = `# ${c.op} ${c.type} (opset ${c.opset}): ORT refused: ${String(e.message ?? e).split("\n")[0]}`;
      if (!refused.includes(why)) refused.push(why);
    }
  }
  const file = path.join(__dirname, "..", "..", "data", "onnx_fp8.txt");
  fs.writeFileSync(file, [...header, ...refused, ...out].join("\n") + "\n");
  console.log(`wrote ${out.length} cases to ${file}${refused.length ? `; ORT refused ${refused.length}` : ""}`);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
