// Attack plugin modules written to a folder, as a user would write them: one good attack
// and one broken per contract property. They use register(api), so they need no import of
// the toolkit and load the same way in vitest, the CLI and bench workers.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** An FGSM-like attack whose run() body is given (ctx, tf and eps in scope). */
function pluginSource(name: string, body: string): string {
  return `export function register(api) {
  const { tf } = api;
  api.registerAttack({
    name: ${JSON.stringify(name)},
    norm: 'linf',
    needs: 'gradients',
    iterative: false,
    randomized: false,
    description: 'test plugin ${name}',
    params: { scale: { type: 'number', default: 1, min: 0, max: 4, help: 'step as a multiple of eps' } },
    run(ctx) {
      const eps = ctx.epsilon * ctx.params.scale;
${body}
    },
  });
}
`;
}

const STEP = `const { grad, fooled } = ctx.gradient(ctx.x); fooled.dispose();`;

export const PLUGIN_BODIES = {
  /** FGSM done right: tidy, projected, no read-back. */
  good: `      return tf.tidy(() => { ${STEP} return ctx.project(tf.add(ctx.x, tf.mul(tf.sign(grad), eps))); });`,
  /** Reads the gradient back to JavaScript. */
  readback: `      return tf.tidy(() => { ${STEP} grad.dataSync(); return ctx.project(tf.add(ctx.x, tf.mul(tf.sign(grad), eps))); });`,
  /** Leaves one tensor behind per call (outside any tidy). */
  leak: `      const spare = tf.zerosLike(ctx.x);
      return tf.tidy(() => { ${STEP} return ctx.project(tf.add(ctx.x, tf.mul(tf.sign(grad), eps))); });`,
  /** Steps 2 eps and never projects: outside the ball and [0, 1]. */
  outside: `      return tf.tidy(() => { ${STEP} return tf.add(ctx.x, tf.mul(tf.sign(grad), 2 * eps)); });`,
} as const;

export type PluginKind = keyof typeof PLUGIN_BODIES;

/** Writes `<kind>.mjs` defining the attack `<prefix>-<kind>`; returns its path. */
export function writePlugin(dir: string, kind: PluginKind, prefix = 'plug'): string {
  const path = join(dir, `${prefix}-${kind}.mjs`);
  writeFileSync(path, pluginSource(`${prefix}-${kind}`, PLUGIN_BODIES[kind]));
  return path;
}

/** A module with arbitrary source (for the loader's error cases). */
export function writeModule(dir: string, file: string, source: string): string {
  const path = join(dir, file);
  writeFileSync(path, source);
  return path;
}
