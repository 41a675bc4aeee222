// Reads the tensors of a GGUF file (tests only: trusts the file).
const crypto = require('node:crypto');
const { tensorTypes } = require('../../dist/nibble.cjs');

// A GGUF file's tensors: { name: { type ('Q4_K', as types.json), shape,
// data (a view of its bytes), sha256 of them } }; .headerBytes (not
// enumerable): the length of everything before the tensor data; .fileType
// (not enumerable): general.file_type.
function ggufTensors(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  const u32 = () => { at += 4; return view.getUint32(at - 4, true); };
  const u64 = () => { at += 8; return Number(view.getBigUint64(at - 8, true)); };
  const str = () => { const n = u64(); at += n; return bytes.subarray(at - n, at).toString('utf8'); };
  const SIZES = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  const skip = (type) => {
    if (type === 8) str();
    else if (type === 9) {
      const inner = u32(), n = u64();
      for (let i = 0; i < n; ++i) skip(inner);
    } else at += SIZES[type];
  };
  const tensorCount = u64(), kvCount = u64();
  let alignment = 32, fileType;
  for (let i = 0; i < kvCount; ++i) {
    const key = str(), type = u32();
    if (key === 'general.alignment') alignment = view.getUint32(at, true);
    if (key === 'general.file_type') fileType = view.getUint32(at, true);
    skip(type);
  }
  const names = ['F32', 'F16', 'Q4_0', 'Q4_1', , , 'Q5_0', 'Q5_1', 'Q8_0', , , , 'Q4_K', 'Q5_K', 'Q6_K', , , , , , 'IQ4_NL'];
  const infos = [];
  for (let i = 0; i < tensorCount; ++i) {
    const name = str(), dims = u32(), shape = [];
    for (let d = 0; d < dims; ++d) shape.push(u64());
    const type = names[u32()];
    infos.push({ name, shape, type, offset: u64() });
  }
  const data = Math.ceil(at / alignment) * alignment;
  const ends = infos.map((t) => data + t.offset).sort((a, b) => a - b).concat(bytes.length);
  const tensors = {};
  for (const t of infos) {
    const start = data + t.offset, end = ends[ends.indexOf(start) + 1];
    const n = t.shape.reduce((a, b) => a * b, 1);
    const info = tensorTypes.find((x) => x.name === t.type.toLowerCase());
    const size = (n / info.blockSize) * info.blockBytes;
    if (end - start < size) throw new Error(`tensor ${t.name} overlaps the next one`);
    const bytesOf = bytes.subarray(start, start + size);
    tensors[t.name] = { type: t.type, shape: t.shape, data: bytesOf, sha256: crypto.createHash('sha256').update(bytesOf).digest('hex') };
  }
  Object.defineProperty(tensors, 'headerBytes', { value: data, enumerable: false });
  Object.defineProperty(tensors, 'fileType', { value: fileType, enumerable: false });
  return tensors;
}

module.exports = { ggufTensors };
