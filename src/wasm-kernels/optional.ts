// Kernels switched by environment variables. DCNET_WASM_WITHOUT=name,name leaves out default
// kernels one by one, so that each can be measured against the path it replaces in the same
// conditions, and a wrong number traced to one of them (each name's path falls back to what
// ran before it existed). DCNET_WASM_WITH=name turns on kernels that are faster but add in
// another order than the default ones: their results differ in the last bits, so the
// committed models and results, which reproduce bit for bit, never run them.

/** The kernels DCNET_WASM_WITHOUT can leave out, and what runs instead. */
export const OPTIONAL_KERNELS = {
  transposedProduct: "a^T b with few columns (the dense layer's weight gradient); instead: transpose, then XNNPACK",
  reluGrad: "the ReLU gradient in one pass; instead: dy * cast(step(x))",
  pixelDot: 'the gradient of a per-pixel scale (sum over channels of dy * x) in one pass; instead: Multiply, then Sum',
} as const;

/** The kernels DCNET_WASM_WITH can turn on, and what they change. */
export const OPT_IN_KERNELS = {
  winograd:
    '3x3 stride-1 convolutions and their input gradients by Winograd F(2x2, 3x3): 2.25x fewer multiplications, results that differ from the default kernels in the last bits',
} as const;

export type OptionalKernel = keyof typeof OPTIONAL_KERNELS;
export type OptInKernel = keyof typeof OPT_IN_KERNELS;

/** The environment variables naming the kernels to leave out and to turn on. */
export const WITHOUT_ENV = 'DCNET_WASM_WITHOUT';
export const WITH_ENV = 'DCNET_WASM_WITH';

/** A DCNET_WASM_WITHOUT or DCNET_WASM_WITH entry that names no kernel it can switch. */
export class WithoutSettingError extends Error {
  override name = 'WithoutSettingError';
}

const settings = new Map<string, ReadonlySet<string>>();

/** The names environment variable `env` lists (read once); an unknown name is refused with one line. */
function listed(env: string, valid: readonly string[]): ReadonlySet<string> {
  const known = settings.get(env);
  if (known) return known;
  const names = (process.env[env] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const n of names) {
    if (!valid.includes(n)) throw new WithoutSettingError(`Invalid ${env} entry '${n}'. Valid values (comma-separated): ${valid.join(', ')}.`);
  }
  const set = new Set(names);
  settings.set(env, set);
  return set;
}

/** Whether optional kernel `name` runs (not listed in DCNET_WASM_WITHOUT). */
export function optionalKernelOn(name: OptionalKernel): boolean {
  return !listed(WITHOUT_ENV, Object.keys(OPTIONAL_KERNELS)).has(name);
}

/** Whether opt-in kernel `name` runs (listed in DCNET_WASM_WITH). */
export function optInKernelOn(name: OptInKernel): boolean {
  return listed(WITH_ENV, Object.keys(OPT_IN_KERNELS)).has(name);
}

/** The opt-in kernels that run (recorded with measurements and results). */
export function optInKernels(): OptInKernel[] {
  return (Object.keys(OPT_IN_KERNELS) as OptInKernel[]).filter(optInKernelOn);
}

/**
 * Leaves out `names` from now on instead of what DCNET_WASM_WITHOUT says, so that a benchmark
 * can alternate with and without a kernel step by step, in the same process and conditions.
 */
export function leaveOut(names: readonly OptionalKernel[]): void {
  settings.set(WITHOUT_ENV, new Set(names));
}

/** Turns on `names` from now on instead of what DCNET_WASM_WITH says (as leaveOut). */
export function turnOn(names: readonly OptInKernel[]): void {
  settings.set(WITH_ENV, new Set(names));
}

/** Checks both settings now (at install), so a mistake fails before any work. */
export function checkWithoutSetting(): void {
  listed(WITHOUT_ENV, Object.keys(OPTIONAL_KERNELS));
  listed(WITH_ENV, Object.keys(OPT_IN_KERNELS));
}
