// A small WebAssembly code generator: kernels are written in TypeScript as instruction
// sequences and compiled at run time into modules that import the wasm backend's memory, so
// they read and write tensors where TF.js keeps them (no copies) and can be specialised on a
// layer's shapes (constant offsets, unrolled channel loops). Only what the kernels use is
// here: i32 arithmetic, structured loops, f32 scalars and 128-bit SIMD (no relaxed SIMD:
// measured no faster on these machines).

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (i32 constants). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function name(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
}

function vector(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, bytes: number[]): number[] {
  return [id, ...uleb(bytes.length), ...bytes];
}

const VALUE_TYPE = { i32: 0x7f, f32: 0x7d, v128: 0x7b } as const;
export type ValueType = keyof typeof VALUE_TYPE;

/** A local variable (an object, so that loop counts can be locals or plain constants). */
export class Local {
  constructor(readonly index: number) {}
}

/** SIMD opcodes (after the 0xfd prefix). */
const SIMD = {
  load: 0x00,
  load32Splat: 0x09,
  shuffle: 0x0d,
  store: 0x0b,
  const: 0x0c,
  f32x4Splat: 0x13,
  f32x4ExtractLane: 0x1f,
  f32x4Ne: 0x42,
  f32x4Gt: 0x44,
  and: 0x4e,
  andNot: 0x4f,
  or: 0x50,
  bitselect: 0x52,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Max: 0xe9,
} as const;

/**
 * One function whose parameters are all i32 (byte addresses and sizes) and which returns
 * nothing. Instruction methods append to the body and return `this`, so code reads as a
 * stack-machine listing: `f.get(a).i32(16).add().set(b)`.
 */
export class WasmFunction {
  private readonly code: number[] = [];
  private readonly localTypes: ValueType[] = [];

  constructor(
    readonly exportName: string,
    readonly paramCount: number,
  ) {}

  /** Parameter `i` as a local. */
  param(i: number): Local {
    if (i < 0 || i >= this.paramCount) throw new RangeError(`parameter ${i} of ${this.paramCount}`);
    return new Local(i);
  }

  local(type: ValueType): Local {
    this.localTypes.push(type);
    return new Local(this.paramCount + this.localTypes.length - 1);
  }

  /** `count` new locals of one type. */
  locals(type: ValueType, count: number): Local[] {
    return Array.from({ length: count }, () => this.local(type));
  }

  private op(...bytes: number[]): this {
    for (const b of bytes) this.code.push(b);
    return this;
  }

  private simd(opcode: number, ...immediates: number[]): this {
    return this.op(0xfd, ...uleb(opcode), ...immediates);
  }

  get(l: Local): this {
    return this.op(0x20, ...uleb(l.index));
  }
  set(l: Local): this {
    return this.op(0x21, ...uleb(l.index));
  }
  tee(l: Local): this {
    return this.op(0x22, ...uleb(l.index));
  }

  i32(n: number): this {
    return this.op(0x41, ...sleb(n | 0));
  }
  add(): this {
    return this.op(0x6a);
  }
  sub(): this {
    return this.op(0x6b);
  }
  mul(): this {
    return this.op(0x6c);
  }
  /** Unsigned division (the kernels' indices are non-negative). */
  divU(): this {
    return this.op(0x6e);
  }
  remU(): this {
    return this.op(0x70);
  }
  ltS(): this {
    return this.op(0x48);
  }
  ltU(): this {
    return this.op(0x49);
  }
  geS(): this {
    return this.op(0x4e);
  }
  and(): this {
    return this.op(0x71);
  }
  /** Pops an i32 condition: runs `then` if it is non-zero. */
  ifThen(then: () => void): this {
    this.op(0x04, 0x40);
    then();
    return this.op(0x0b);
  }
  /** A block: `br(d)` from inside, d levels up, jumps past its end. */
  block(body: () => void): this {
    this.op(0x02, 0x40);
    body();
    return this.op(0x0b);
  }
  /** A loop: `br(d)` from inside, d levels up, jumps back to its start. */
  loop(body: () => void): this {
    this.op(0x03, 0x40);
    body();
    return this.op(0x0b);
  }
  br(depth: number): this {
    return this.op(0x0c, depth);
  }
  /** Pops an i32 condition: branches when it is non-zero. */
  brIf(depth: number): this {
    return this.op(0x0d, depth);
  }
  /** Adds the constant `n` to local `l`. */
  addTo(l: Local, n: number): this {
    return this.get(l).i32(n).add().set(l);
  }

  /**
   * `for (counter = 0; counter < count; counter++) body()`, count an i32 local or constant
   * (nothing runs when it is 0 or negative).
   */
  repeat(counter: Local, count: Local | number, body: () => void): this {
    const pushCount = () => (count instanceof Local ? this.get(count) : this.i32(count));
    this.i32(0).set(counter);
    return this.block(() => {
      this.get(counter);
      pushCount();
      this.geS().brIf(0); // out of the block when done
      this.loop(() => {
        body();
        this.get(counter).i32(1).add().tee(counter);
        pushCount();
        this.ltS().brIf(0); // back to the loop
      });
    });
  }

  f32Load(offset = 0): this {
    return this.op(0x2a, 2, ...uleb(offset));
  }
  f32Store(offset = 0): this {
    return this.op(0x38, 2, ...uleb(offset));
  }
  f32Add(): this {
    return this.op(0x92);
  }
  f32Mul(): this {
    return this.op(0x94);
  }
  /** An f32 constant. */
  f32Const(value: number): this {
    return this.op(0x43, ...new Uint8Array(new Float32Array([value]).buffer));
  }

  /** Pops dest, src, n: copies n bytes (bulk memory; the regions may overlap). */
  memoryCopy(): this {
    return this.op(0xfc, ...uleb(10), 0x00, 0x00);
  }
  /** Pops dest, byte value, n: sets n bytes (bulk memory). */
  memoryFill(): this {
    return this.op(0xfc, ...uleb(11), 0x00);
  }

  v128Load(offset = 0): this {
    return this.simd(SIMD.load, 4, ...uleb(offset));
  }
  v128Store(offset = 0): this {
    return this.simd(SIMD.store, 4, ...uleb(offset));
  }
  /** Loads one f32 into all four lanes. */
  f32x4LoadSplat(offset = 0): this {
    return this.simd(SIMD.load32Splat, 2, ...uleb(offset));
  }
  /** A constant with `value` in all four lanes. */
  f32x4Const(value: number): this {
    const bytes = new Uint8Array(new Float32Array([value, value, value, value]).buffer);
    return this.simd(SIMD.const, ...bytes);
  }
  f32x4ExtractLane(lane: number): this {
    return this.simd(SIMD.f32x4ExtractLane, lane);
  }
  f32x4Add(): this {
    return this.simd(SIMD.f32x4Add);
  }
  f32x4Sub(): this {
    return this.simd(SIMD.f32x4Sub);
  }
  f32x4Mul(): this {
    return this.simd(SIMD.f32x4Mul);
  }
  f32x4Max(): this {
    return this.simd(SIMD.f32x4Max);
  }
  /** Lane mask a > b (false where either is NaN). */
  f32x4Gt(): this {
    return this.simd(SIMD.f32x4Gt);
  }
  /** Pops a, b: the f32 lanes `lanes` of a:b (0-3 are a's lanes, 4-7 b's). */
  f32x4Shuffle(lanes: [number, number, number, number]): this {
    return this.simd(SIMD.shuffle, ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]));
  }
  /** Lane mask a != b (true where either is NaN: x != x finds NaN lanes). */
  f32x4Ne(): this {
    return this.simd(SIMD.f32x4Ne);
  }
  v128And(): this {
    return this.simd(SIMD.and);
  }
  /** a & ~b. */
  v128AndNot(): this {
    return this.simd(SIMD.andNot);
  }
  v128Or(): this {
    return this.simd(SIMD.or);
  }
  /** Pops a, b, mask: a's bits where the mask is set, else b's. */
  v128Bitselect(): this {
    return this.simd(SIMD.bitselect);
  }

  /** The function body's encoding (locals, code, end). */
  encode(): number[] {
    const groups: Array<[number, ValueType]> = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const body = [...vector(groups.map(([n, t]) => [...uleb(n), VALUE_TYPE[t]])), ...this.code, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

/** A module importing `env.memory` and exporting each function under its name. */
export function encodeModule(functions: readonly WasmFunction[]): Uint8Array<ArrayBuffer> {
  const paramCounts = [...new Set(functions.map((f) => f.paramCount))];
  const types = vector(paramCounts.map((n) => [0x60, ...uleb(n), ...new Array<number>(n).fill(VALUE_TYPE.i32), 0]));
  const memoryImport = [...name('env'), ...name('memory'), 0x02, 0x00, 0x00]; // memory, min 0 pages
  const functionTypes = vector(functions.map((f) => uleb(paramCounts.indexOf(f.paramCount))));
  const exports = vector(functions.map((f, i) => [...name(f.exportName), 0x00, ...uleb(i)]));
  const code = vector(functions.map((f) => f.encode()));
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types),
    ...section(2, vector([memoryImport])),
    ...section(3, functionTypes),
    ...section(7, exports),
    ...section(10, code),
  ]);
}
