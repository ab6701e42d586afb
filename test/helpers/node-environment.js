/**
 * Node test environment that shares the outer realm's typed-array constructors with tests:
 * onnxruntime-node checks `instanceof Float32Array` against its own realm and rejects arrays
 * created inside jest's VM context ("must be type of function Float32Array()").
 */
const { TestEnvironment } = require('jest-environment-node');

class MeridianEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of [
      'Float32Array', 'Float64Array', 'Int8Array', 'Int16Array', 'Int32Array', 'Uint8Array',
      'Uint16Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array', 'ArrayBuffer',
    ]) {
      this.global[name] = globalThis[name];
    }
  }
}

module.exports = MeridianEnvironment;
