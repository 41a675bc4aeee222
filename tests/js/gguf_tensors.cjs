// Reads the tensors of a GGUF file (tests only: trusts the file).
const crypto = require('node:crypto');
const { tensorTypes } = require('../../dist/nibble.cjs');

// A GGUF file's tensors: { name: { type ('Q4_K', as types.json), shape,
// data (a view of its bytes), sha256 of them } }; .headerBytes (not
// enumerable): the length of everything before the tensor data; .fileType
// (not enumerable): general.file_type; .metadata (not enumerable): every
// key's GGUF value type and value { key: { type, value } } in file order
// (numbers, strings, bigints for 64-bit integers, arrays of them), so that
// comparing two files' metadata compares the types too.
function ggufTensors(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  const u32 = () => { at += 4; return view.getUint32(at - 4, true); };
  const u64 = () => { at += 8; return Number(view.getBigUint64(at - 8, true)); };
  const str = () => { const n = u64(); at += n; return bytes.subarray(at - n, at).toString('utf8'); };
  // GGUF value types 0-12: u8 i8 u16 i16 u32 i32 f32 bool string array u64 i64 f64.
  const SCALARS = {
    0: [1, 'getUint8'], 1: [1, 'getInt8'], 2: [2, 'getUint16'], 3: [2, 'getInt16'], 4: [4, 'getUint32'],
    5: [4, 'getInt32'], 6: [4, 'getFloat32'], 7: [1, 'getUint8'], 10: [8, 'getBigUint64'], 11: [8, 'getBigInt64'],
    12: [8, 'getFloat64'],
  };
  const value = (type) => {
    if (type === 8) return str();
    if (type === 9) {
      const inner = u32(), n = u64();
      return Array.from({ length: n }, () => value(inner));
    }
    const [size, get] = SCALARS[type];
    at += size;
    const v = view[get](at - size, true);
    return type === 7 ? v !== 0 : v;
  };
  const tensorCount = u64(), kvCount = u64();
  const metadata = {};
  for (let i = 0; i < kvCount; ++i) {
    const key = str(), type = u32();
    // An array's type is [9, its elements' type] (the element type comes next).
    metadata[key] = { type: type === 9 ? [type, view.getUint32(at, true)] : type, value: value(type) };
  }
  const alignment = metadata['general.alignment']?.value ?? 32, fileType = metadata['general.file_type']?.value;
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
  Object.defineProperty(tensors, 'metadata', { value: metadata, enumerable: false });
  return tensors;
}

module.exports = { ggufTensors };
