// Kernels that can be left out one by one (DCNET_WASM_WITHOUT=name,name), so that each can be
// measured against the path it replaces in the same conditions, and a wrong number traced to
// one of them. Each name's path falls back to what ran before it existed.

/** The kernels DCNET_WASM_WITHOUT can leave out, and what runs instead. */
export const OPTIONAL_KERNELS = {
  transposedProduct: "a^T b with few columns (the dense layer's weight gradient); instead: transpose, then XNNPACK",
  reluGrad: "the ReLU gradient in one pass; instead: dy * cast(step(x))",
  pixelDot: 'the gradient of a per-pixel scale (sum over channels of dy * x) in one pass; instead: Multiply, then Sum',
} as const;

export type OptionalKernel = keyof typeof OPTIONAL_KERNELS;

/** The environment variable naming the optional kernels to leave out. */
export const WITHOUT_ENV = 'DCNET_WASM_WITHOUT';

/** A DCNET_WASM_WITHOUT entry that names no optional kernel. */
export class WithoutSettingError extends Error {
  override name = 'WithoutSettingError';
}

let left: ReadonlySet<string> | undefined;

/** The names DCNET_WASM_WITHOUT lists (read once); an unknown name is refused with one line. */
function leftOut(): ReadonlySet<string> {
  if (left) return left;
  const names = (process.env[WITHOUT_ENV] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const valid = Object.keys(OPTIONAL_KERNELS);
  for (const n of names) {
    if (!valid.includes(n)) throw new WithoutSettingError(`Invalid ${WITHOUT_ENV} entry '${n}'. Valid values (comma-separated): ${valid.join(', ')}.`);
  }
  return (left = new Set(names));
}

/** Whether optional kernel `name` runs (not listed in DCNET_WASM_WITHOUT). */
export function optionalKernelOn(name: OptionalKernel): boolean {
  return !leftOut().has(name);
}

/**
 * Leaves out `names` from now on instead of what DCNET_WASM_WITHOUT says, so that a benchmark
 * can alternate with and without a kernel step by step, in the same process and conditions.
 */
export function leaveOut(names: readonly OptionalKernel[]): void {
  left = new Set(names);
}

/** Checks DCNET_WASM_WITHOUT now (at install), so a mistake fails before any work. */
export function checkWithoutSetting(): void {
  leftOut();
}
