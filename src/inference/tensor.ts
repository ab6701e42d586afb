/**
 * Plain tensors that cross the worker boundary (structured clone / transfer) and the pure
 * helpers micro-batching needs: concatenate requests along the batch axis and split results back.
 */

export type TensorType = 'float32' | 'int64' | 'int32';
export type TensorArray = Float32Array | BigInt64Array | Int32Array;

export interface TensorData {
  readonly type: TensorType;
  readonly data: TensorArray;
  /** dims[0] is the batch axis. */
  readonly dims: readonly number[];
}

export type Feeds = Readonly<Record<string, TensorData>>;

export function float32(data: Float32Array, dims: readonly number[]): TensorData {
  return checked({ type: 'float32', data, dims });
}

export function int64(data: BigInt64Array, dims: readonly number[]): TensorData {
  return checked({ type: 'int64', data, dims });
}

function checked(t: TensorData): TensorData {
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (n !== t.data.length) throw new Error(`tensor of dims [${t.dims.join(', ')}] needs ${n} values, got ${t.data.length}`);
  return t;
}

function allocate(type: TensorType, n: number): TensorArray {
  switch (type) {
    case 'float32':
      return new Float32Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'int32':
      return new Int32Array(n);
  }
}

/** Rows (dims[0]) of the first tensor; every tensor of one request must agree. */
export function batchRows(feeds: Feeds): number {
  const rows = new Set(Object.values(feeds).map((t) => t.dims[0] ?? 1));
  if (rows.size !== 1) throw new Error('inputs disagree on the batch size');
  return [...rows][0]!;
}

/**
 * Concatenates requests along axis 0. Rank-2 inputs whose second axis differs (token ids of texts
 * of different lengths) are right-padded with 0 to the longest, which the text models accept
 * (attention_mask 0, code point 0). Other dims must match exactly.
 */
export function concatBatch(requests: readonly Feeds[]): Feeds {
  if (requests.length === 1) return requests[0]!;
  const names = Object.keys(requests[0]!);
  const out: Record<string, TensorData> = {};
  for (const name of names) {
    const parts = requests.map((r) => {
      const t = r[name];
      if (!t) throw new Error(`request is missing input ${name}`);
      return t;
    });
    const type = parts[0]!.type;
    const rank = parts[0]!.dims.length;
    if (parts.some((p) => p.type !== type || p.dims.length !== rank)) throw new Error(`input ${name}: mixed types or ranks`);
    const rows = parts.reduce((a, p) => a + (p.dims[0] ?? 1), 0);
    if (rank === 2) {
      const width = Math.max(...parts.map((p) => p.dims[1]!));
      const data = allocate(type, rows * width);
      let row = 0;
      for (const p of parts) {
        const w = p.dims[1]!;
        for (let i = 0; i < p.dims[0]!; i++, row++) {
          // Same-typed views: the cast only satisfies TypeScript's union of typed arrays.
          (data as Float32Array).set((p.data as Float32Array).subarray(i * w, (i + 1) * w), row * width);
        }
      }
      out[name] = { type, data, dims: [rows, width] };
      continue;
    }
    const tail = parts[0]!.dims.slice(1);
    if (parts.some((p) => p.dims.slice(1).join(',') !== tail.join(','))) throw new Error(`input ${name}: mismatched dims`);
    const data = allocate(type, parts.reduce((a, p) => a + p.data.length, 0));
    let offset = 0;
    for (const p of parts) {
      (data as Float32Array).set(p.data as Float32Array, offset);
      offset += p.data.length;
    }
    out[name] = { type, data, dims: [rows, ...tail] };
  }
  return out;
}

/** Splits batched outputs back into per-request outputs of `rows[i]` rows each. */
export function splitBatch(outputs: Feeds, rows: readonly number[]): Feeds[] {
  if (rows.length === 1) return [outputs];
  const result: Record<string, TensorData>[] = rows.map(() => ({}));
  for (const [name, t] of Object.entries(outputs)) {
    const total = t.dims[0]!;
    const expected = rows.reduce((a, b) => a + b, 0);
    if (total !== expected) throw new Error(`output ${name} has ${total} rows, expected ${expected}`);
    const per = total === 0 ? 0 : t.data.length / total;
    let row = 0;
    rows.forEach((n, i) => {
      // slice, not subarray: each caller owns its rows and may keep them.
      result[i]![name] = { type: t.type, data: t.data.slice(row * per, (row + n) * per), dims: [n, ...t.dims.slice(1)] };
      row += n;
    });
  }
  return result;
}
