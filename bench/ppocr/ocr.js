// Runs PP-OCRv4 text detection on the rendered page and text recognition on
// the rendered lines with ONNX Runtime (npm onnxruntime-node, CPU, graph
// optimisation disabled as when the data folder's activations were recorded),
// and writes each model's output as raw float32 with its shape.
//
// usage: node bench/ppocr/ocr.js DET.onnx REC.onnx INPUTS_DIR OUT_DIR
//   INPUTS_DIR holds det_x.bin, rec_x.bin and inputs.json (det_shape, rec_shape),
//   as the data folder's tools/make_inputs.py writes them.
//   OUT_DIR gets det.bin, rec.bin and meta.json ({det: dims, rec: dims}).
// env: ORT_PATH, where onnxruntime-node is (default: resolved from NODE_PATH)
const ort = require(process.env.ORT_PATH || 'onnxruntime-node');
const fs = require('fs');
const path = require('path');

async function run(model, input, dims) {
  const buf = fs.readFileSync(input);
  const x = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'disabled' });
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, dims) });
  return out[session.outputNames[0]];
}

(async () => {
  const [det, rec, inputs, outDir] = process.argv.slice(2);
  if (!outDir) throw new Error('usage: node ocr.js DET.onnx REC.onnx INPUTS_DIR OUT_DIR');
  const shapes = JSON.parse(fs.readFileSync(path.join(inputs, 'inputs.json')));
  fs.mkdirSync(outDir, { recursive: true });
  const meta = {};
  for (const [name, model, dims] of [['det', det, shapes.det_shape], ['rec', rec, shapes.rec_shape]]) {
    const y = await run(model, path.join(inputs, name + '_x.bin'), dims);
    fs.writeFileSync(path.join(outDir, name + '.bin'), Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
    meta[name] = y.dims;
  }
  fs.writeFileSync(path.join(outDir, 'meta.json'), JSON.stringify(meta));
})().catch((e) => {
  console.error('ocr.js: ' + (e && e.message ? e.message : e));
  process.exit(1);
});
