// A minimal protobuf writer and a one-node ONNX model around
// com.microsoft MatMulNBits, so the ORT benchmark needs no onnx tooling.
//
//   Y[M,N] = A[M,K] · dequant(B)ᵀ,  dequant(B)[n,k] = scales[n, k/32] · (code[n,k] − 8)
//
// B is uint8 [N, K/32, 16]: within a 32-block, byte j holds element 2j in its
// low nibble and element 2j+1 in its high nibble (ORT's contrib-op doc: "the
// first 4 bits are stored in the lower 4 bits of a byte"; checked numerically
// by ort_matmulnbits.mjs against a JS reference). No zero_points input, so the
// zero point is 2^(bits−1) = 8, the same as Q4_0.

// Protobuf wire types.
const VARINT = 0;
const LEN = 2;

// Accumulates protobuf fields; nested messages are written as separate
// writers and embedded with message().
class ProtoWriter {
  constructor() {
    this.chunks = [];
    this.length = 0;
  }
  push(bytes) {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }
  varint(value) {
    // BigInt keeps int64 fields exact; ONNX dims and ints are int64.
    let v = BigInt.asUintN(64, BigInt(value));
    const out = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      out.push(byte);
    } while (v !== 0n);
    this.push(Uint8Array.from(out));
  }
  tag(field, wire) {
    this.varint((field << 3) | wire);
  }
  int(field, value) {
    this.tag(field, VARINT);
    this.varint(value);
  }
  bytes(field, data) {
    this.tag(field, LEN);
    this.varint(data.length);
    this.push(data);
  }
  string(field, text) {
    this.bytes(field, new TextEncoder().encode(text));
  }
  message(field, writer) {
    this.bytes(field, writer.finish());
  }
  finish() {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

// onnx.proto field numbers and enums used below.
const ElemType = { FLOAT: 1, UINT8: 2 };
const AttrType = { INT: 2 };

// ValueInfoProto for a tensor; a string dim becomes a symbolic dim_param.
function valueInfo(name, elemType, dims) {
  const shape = new ProtoWriter();
  for (const d of dims) {
    const dim = new ProtoWriter();
    if (typeof d === 'string') dim.string(2, d);  // dim_param
    else dim.int(1, d);                           // dim_value
    shape.message(1, dim);                        // TensorShapeProto.dim
  }
  const tensorType = new ProtoWriter();
  tensorType.int(1, elemType);                    // elem_type
  tensorType.message(2, shape);                   // shape
  const type = new ProtoWriter();
  type.message(1, tensorType);                    // TypeProto.tensor_type
  const info = new ProtoWriter();
  info.string(1, name);
  info.message(2, type);
  return info;
}

// TensorProto with raw little-endian bytes.
function tensor(name, elemType, dims, rawBytes) {
  const t = new ProtoWriter();
  for (const d of dims) t.int(1, d);              // dims
  t.int(2, elemType);                             // data_type
  t.string(8, name);                              // name
  t.bytes(9, rawBytes);                           // raw_data
  return t;
}

function intAttribute(name, value) {
  const a = new ProtoWriter();
  a.string(1, name);
  a.int(3, value);                                // i
  a.int(20, AttrType.INT);                        // type
  return a;
}

function opsetImport(domain, version) {
  const o = new ProtoWriter();
  o.string(1, domain);
  o.int(2, version);
  return o;
}

// Encodes ModelProto bytes for Y[M,N] = A[M,K] · dequant(B)ᵀ with M symbolic.
//   b:      Uint8Array, N·(K/32)·16 bytes (layout in the file comment)
//   scales: Float32Array, N·(K/32), row n's blocks contiguous
// accuracyLevel (optional) is MatMulNBits' accuracy_level attribute: unset =
// compute in A's type (f32); 4 lets ORT quantize A to int8.
export function encodeMatMulNBitsModel({ K, N, b, scales, blockSize = 32, accuracyLevel = null }) {
  const blocks = K / blockSize;
  if (!Number.isInteger(blocks)) throw new Error(`K=${K} is not a multiple of ${blockSize}`);
  if (b.length !== N * blocks * (blockSize / 2)) throw new Error(`B has ${b.length} bytes, want ${N * blocks * (blockSize / 2)}`);
  if (scales.length !== N * blocks) throw new Error(`scales has ${scales.length} values, want ${N * blocks}`);

  const node = new ProtoWriter();
  for (const input of ['A', 'B', 'scales']) node.string(1, input);
  node.string(2, 'Y');
  node.string(3, 'matmul_nbits');
  node.string(4, 'MatMulNBits');                  // op_type
  node.message(5, intAttribute('K', K));
  node.message(5, intAttribute('N', N));
  node.message(5, intAttribute('bits', 4));
  node.message(5, intAttribute('block_size', blockSize));
  if (accuracyLevel != null) node.message(5, intAttribute('accuracy_level', accuracyLevel));
  node.string(7, 'com.microsoft');                // domain

  const scaleBytes = new Uint8Array(scales.buffer, scales.byteOffset, scales.byteLength);
  const graph = new ProtoWriter();
  graph.message(1, node);
  graph.string(2, 'matmul_nbits_bench');
  graph.message(5, tensor('B', ElemType.UINT8, [N, blocks, blockSize / 2], b));
  graph.message(5, tensor('scales', ElemType.FLOAT, [N * blocks], scaleBytes));
  graph.message(11, valueInfo('A', ElemType.FLOAT, ['M', K]));
  graph.message(12, valueInfo('Y', ElemType.FLOAT, ['M', N]));

  const model = new ProtoWriter();
  model.int(1, 8);                                // ir_version
  model.string(2, 'nibble-bench');                // producer_name
  model.message(7, graph);
  model.message(8, opsetImport('', 17));
  model.message(8, opsetImport('com.microsoft', 1));
  return model.finish();
}

// Reference dequantization of the MatMulNBits layout: W[N,K] as f32.
export function dequantizeMatMulNBits({ K, N, b, scales }) {
  const w = new Float32Array(N * K);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const byte = b[(n * K + k) >> 1];
      const code = (k & 1) ? byte >> 4 : byte & 15;
      w[n * K + k] = scales[(n * K + k) >> 5] * (code - 8);
    }
  }
  return w;
}

// Q4_0 blocks (GGUF: fp16 d, then byte j = element j low | element j+16 high)
// to the MatMulNBits layout, scales widened exactly from fp16 to f32.
export function q4_0ToMatMulNBits(q4_0Bytes, K, N) {
  const blocks = (N * K) / 32;
  if (q4_0Bytes.length !== blocks * 18) throw new Error(`Q4_0 data has ${q4_0Bytes.length} bytes, want ${blocks * 18}`);
  const b = new Uint8Array(blocks * 16);
  const scales = new Float32Array(blocks);
  const codes = new Uint8Array(32);
  for (let i = 0; i < blocks; i++) {
    const src = i * 18;
    scales[i] = fp16ToFloat(q4_0Bytes[src] | (q4_0Bytes[src + 1] << 8));
    for (let j = 0; j < 16; j++) {
      const byte = q4_0Bytes[src + 2 + j];
      codes[j] = byte & 15;
      codes[j + 16] = byte >> 4;
    }
    for (let j = 0; j < 16; j++) b[i * 16 + j] = codes[2 * j] | (codes[2 * j + 1] << 4);
  }
  return { b, scales };
}

export function fp16ToFloat(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
