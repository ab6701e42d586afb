/** Memory of this process, for the operational view (servingMetrics). */

/**
 * MB: resident set, V8 heap (used / reserved), and memory outside the V8 heap that JS objects own
 * (external, of which array buffers: model assets, tensors). The rest of the resident set is
 * native: onnxruntime sessions in the workers, allocator pools.
 */
export interface ProcessMemoryMb {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

export function memoryMb(): ProcessMemoryMb {
  const m = process.memoryUsage();
  const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;
  return { rss: mb(m.rss), heapUsed: mb(m.heapUsed), heapTotal: mb(m.heapTotal), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers) };
}
