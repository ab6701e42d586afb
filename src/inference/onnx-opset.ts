/**
 * Reads the opset imports of an ONNX model (ModelProto field 8, OperatorSetIdProto {1: domain,
 * 2: version}) without loading the graph: a few protobuf varints, the graph is skipped by length.
 * Used to refuse a model whose opset differs from its manifest before ORT sees it.
 */

export interface OpsetImport {
  readonly domain: string;
  readonly version: number;
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      // Multiplication, not <<: values above 2^31 must not wrap (lengths of large graphs).
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
    throw new Error('varint too long');
  }

  bytes(): Uint8Array {
    const len = this.varint();
    if (this.pos + len > this.buf.length) throw new Error('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        return;
      case 2:
        this.bytes();
        return;
      case 5:
        this.pos += 4;
        return;
      default:
        throw new Error(`unsupported wire type ${wireType}`);
    }
  }
}

/** Throws when the bytes are not a well-formed ModelProto at the top level. */
export function readOpsetImports(model: Uint8Array): OpsetImport[] {
  const r = new Reader(model);
  const out: OpsetImport[] = [];
  while (!r.done) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (field === 8 && wire === 2) {
      const inner = new Reader(r.bytes());
      let domain = '';
      let version = 0;
      while (!inner.done) {
        const k = inner.varint();
        if (k >> 3 === 1 && (k & 7) === 2) domain = new TextDecoder().decode(inner.bytes());
        else if (k >> 3 === 2 && (k & 7) === 0) version = inner.varint();
        else inner.skip(k & 7);
      }
      out.push({ domain, version });
    } else r.skip(wire);
  }
  if (r.pos !== model.length) throw new Error('trailing bytes after the last field');
  return out;
}

/** The default-domain ("" or "ai.onnx") opset version, or null when absent. */
export function defaultOpset(imports: readonly OpsetImport[]): number | null {
  const d = imports.find((i) => i.domain === '' || i.domain === 'ai.onnx');
  return d ? d.version : null;
}
