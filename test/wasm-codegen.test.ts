// The WebAssembly code generator behind the generated kernels, on a memory of its own:
// constants (signed LEB128 edge cases), loops with constant and run-time counts (including
// zero), and the SIMD operations the kernels use.
import { describe, expect, it } from 'vitest';
import { encodeModule, WasmFunction } from '../src/wasm-kernels/codegen/emitter.js';

function instantiate(functions: WasmFunction[]) {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const module = new WebAssembly.Module(encodeModule(functions));
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<string, (...a: number[]) => void>;
  return { exports, heap: new Float32Array(memory.buffer) };
}

describe('wasm code generator', () => {
  it('encodes a module that validates', () => {
    expect(WebAssembly.validate(encodeModule([new WasmFunction('empty', 0)]))).toBe(true);
  });

  it('repeat runs a body count times: constant, run-time local, and zero', () => {
    const f = new WasmFunction('count', 2); // count(address, n): heap[address] += 1, n times, then 3 more
    const [address, n] = [f.param(0), f.param(1)];
    const i = f.local('i32');
    const increment = () => f.get(address).get(address).f32Load().f32x4Const(1).f32x4ExtractLane(0).f32Add().f32Store();
    f.repeat(i, n, increment);
    f.repeat(i, 3, increment);
    f.repeat(i, 0, increment);
    const { exports, heap } = instantiate([f]);
    exports.count!(16, 5);
    expect(heap[4]).toBe(8);
    exports.count!(16, 0);
    expect(heap[4]).toBe(11);
    exports.count!(16, -2); // a negative count runs nothing
    expect(heap[4]).toBe(14);
  });

  it('i32 constants across the LEB128 byte boundaries address the right words', () => {
    // write(base): heap word (base/4 + k) = 2 for each k; k * 4 crosses 1-, 2- and 3-byte codes.
    const offsets = [0, 15, 16, -16, -17, 2047, 2048, -2048, -2049, 4000, -4000];
    const f = new WasmFunction('write', 1);
    for (const k of offsets) {
      // base + (k*4 + 2^20) - 2^20: also 4-byte codes, positive and negative.
      f.get(f.param(0)).i32(k * 4 + (1 << 20)).add().i32(-(1 << 20)).add();
      f.f32x4Const(2).f32x4ExtractLane(0).f32Store();
    }
    const { exports, heap } = instantiate([f]);
    exports.write!(8192 * 4);
    for (const k of offsets) expect(heap[8192 + k], `offset ${k}`).toBe(2);
    expect(heap.reduce((sum, v) => sum + v, 0)).toBe(2 * offsets.length);
  });

  it('SIMD: max, greater-than masks, bitselect, and-not, or', () => {
    const f = new WasmFunction('simd', 1);
    const p = f.param(0);
    const [a, b, mask] = [f.local('v128'), f.local('v128'), f.local('v128')];
    f.get(p).v128Load(0).set(a).get(p).v128Load(16).set(b);
    f.get(p).get(a).get(b).f32x4Max().v128Store(32);
    f.get(a).get(b).f32x4Gt().set(mask);
    f.get(p).get(a).get(b).get(mask).v128Bitselect().v128Store(48); // = max where a > b, else b
    f.get(p).get(a).get(mask).v128And().v128Store(64); // a where a > b, else 0
    f.get(p).get(a).get(mask).v128AndNot().v128Store(80); // a where not a > b, else 0
    f.get(p).get(mask).get(mask).v128Or().get(b).get(a).f32x4Sub().v128And().v128Store(96);
    f.get(p).get(a).get(b).f32x4Mul().get(a).f32x4Add().v128Store(112); // a*b + a
    f.get(p).get(p).f32x4LoadSplat(4).v128Store(128); // lane 1 of a, splat
    const { exports, heap } = instantiate([f]);
    heap.set([1, -2, NaN, 4], 0);
    heap.set([0, 3, 1, 4], 4);
    exports.simd!(0);
    expect(Array.from(heap.subarray(8, 12))).toEqual([1, 3, NaN, 4]);
    expect(Array.from(heap.subarray(12, 16))).toEqual([1, 3, 1, 4]); // NaN > 1 is false
    expect(Array.from(heap.subarray(16, 20))).toEqual([1, 0, 0, 0]);
    expect(Array.from(heap.subarray(20, 24))).toEqual([0, -2, NaN, 4]);
    expect(Array.from(heap.subarray(24, 28))).toEqual([-1, 0, 0, 0]);
    expect(Array.from(heap.subarray(28, 32))).toEqual([1, -8, NaN, 20]);
    expect(Array.from(heap.subarray(32, 36))).toEqual([-2, -2, -2, -2]);
  });

  it('rejects a parameter index outside the signature', () => {
    expect(() => new WasmFunction('f', 2).param(2)).toThrow(RangeError);
  });
});
