// Attack plugins in process: the loader's one-line refusals, what it records, and the
// contract kit failing a plugin on exactly the property it breaks.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import {
  AttackError,
  attackOrigin,
  getAttack,
  loadPlugins,
  perturb,
  PluginError,
  type AttackDefinition,
} from '../attacks/index.js';
import { loadRecordedPlugins } from '../attacks/plugins.js';
import { checkAttackContract, CONTRACT, countReadbacks } from '../attacks/contract-test.js';
import { BUILTIN_PROFILES, profilePlugins, validateProfile } from '../src/bench/profile.js';
import { writeModule, writePlugin } from './helpers/plugin-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'dcnet-plugins-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The error a failed load throws: a user error (an AttackError) of one line. */
async function refusal(specs: string[], base = dir): Promise<Error> {
  const err = await loadPlugins(specs, base).then(
    () => undefined,
    (e: Error) => e,
  );
  expect(err, 'expected the load to fail').toBeInstanceOf(PluginError);
  expect(err).toBeInstanceOf(AttackError);
  expect(err!.message).not.toContain('\n');
  return err!;
}

const definition = (name: string, extra: string) => `
export const attack = {
  name: ${JSON.stringify(name)}, norm: 'linf', needs: 'gradients', iterative: false, randomized: false,
  description: 'x', params: {}, run: (ctx) => ctx.x.clone(), ${extra}
};`;

describe('loading plugins', () => {
  it('loads a register(api) plugin and records its file by path and sha256 (checked with sha256sum)', async () => {
    const path = writePlugin(dir, 'good', 'rec');
    const [record] = await loadPlugins(['./rec-good.mjs'], dir);
    const expected = execFileSync('sha256sum', [path], { encoding: 'utf8' }).split(' ')[0];
    expect(record).toEqual({ name: 'rec-good.mjs', path, sha256: expected, attacks: ['rec-good'] });
    expect(attackOrigin('rec-good')).toBe(path);
    expect(getAttack('rec-good').description).toBe('test plugin rec-good');
    // Loading it again (e.g. --plugin and the profile both name it) is a no-op.
    expect(await loadPlugins([path, './rec-good.mjs'], dir)).toEqual([record]);
  });

  it('loads exported definitions that import the toolkit, and runs them through perturb', async () => {
    const tfUrl = pathToFileURL(join(import.meta.dirname, '..', 'src', 'tf.ts')).href;
    writeModule(
      dir,
      'exported.mjs',
      `import { tf } from ${JSON.stringify(tfUrl)};
export const halfStep = { name: 'half-step', norm: 'linf', needs: 'gradients', iterative: false, randomized: false,
  description: 'FGSM with eps / 2', params: {},
  run: (ctx) => tf.tidy(() => { const { grad, fooled } = ctx.gradient(ctx.x); fooled.dispose(); return ctx.project(tf.add(ctx.x, tf.mul(tf.sign(grad), ctx.epsilon / 2))); }) };
export const helper = 42;`,
    );
    const [record] = await loadPlugins(['./exported.mjs'], dir);
    expect(record!.attacks).toEqual(['half-step']);
    // One linear logit pair: the sign of the input gradient is known by hand.
    const logits = (x: tf.Tensor4D) => tf.tidy(() => tf.concat([tf.sum(x, [1, 2, 3], true).reshape([-1, 1]), tf.zeros([x.shape[0], 1])], 1) as tf.Tensor2D);
    const x = tf.fill([1, 2, 2, 1], 0.5) as tf.Tensor4D;
    const adv = perturb('half-step', logits, x, tf.tensor1d([0], 'int32'), 0.2);
    // Class 0's logit is sum(x): raising the loss lowers every pixel by eps / 2.
    expect(Array.from(adv.dataSync())).toEqual([0.4, 0.4, 0.4, 0.4].map(Math.fround));
    tf.dispose([x, adv]);
  });

  it('refuses a missing file and a missing package, naming what to do', async () => {
    expect((await refusal(['./nope.mjs'])).message).toMatch(/Plugin \.\/nope\.mjs: no such file \(.*nope\.mjs\)/);
    expect((await refusal(['dcnet-no-such-plugin'])).message).toMatch(/cannot find the package.*npm install dcnet-no-such-plugin/);
  });

  it('refuses a module that exports nothing usable, and one that throws on import', async () => {
    writeModule(dir, 'empty.mjs', 'export const answer = 42;\nexport function helper() {}\n');
    expect((await refusal(['./empty.mjs'])).message).toMatch(/exports nothing usable: export an attack definition .* or a function register\(api\)/);
    writeModule(dir, 'broken.mjs', "throw new Error('boom at import');\n");
    expect((await refusal(['./broken.mjs'])).message).toMatch(/broken\.mjs failed to load: boom at import/);
  });

  it('refuses a name that clashes with a built-in or with another plugin, registering nothing', async () => {
    writeModule(dir, 'clash-builtin.mjs', definition('pgd', ''));
    expect((await refusal(['./clash-builtin.mjs'])).message).toMatch(/attack 'pgd' clashes with the built-in attack 'pgd': give it another name/);
    expect(attackOrigin('pgd')).toBe('built-in');
    const first = writeModule(dir, 'first.mjs', definition('twin', ''));
    writeModule(dir, 'second.mjs', definition('twin', "extra: 1, validate: () => {}, "));
    writeModule(dir, 'second-only.mjs', `${definition('twin', '')}\nexport const other = { ...attack, name: 'second-only' };`);
    await loadPlugins(['./first.mjs'], dir);
    expect((await refusal(['./second-only.mjs'])).message).toMatch(new RegExp(`attack 'twin' clashes with the attack of plugin ${first.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} named 'twin'`));
    // All or nothing: the plugin's other attack was not registered either.
    expect(() => getAttack('second-only')).toThrow(/Unknown attack 'second-only'/);
  });

  it('a bench worker refuses a plugin file that changed since the main process recorded it', async () => {
    const path = writePlugin(dir, 'good', 'worker');
    const [record] = await loadPlugins([path]);
    await expect(loadRecordedPlugins([record!])).resolves.toBeUndefined();
    await expect(loadRecordedPlugins([{ ...record!, sha256: '0'.repeat(64) }])).rejects.toThrow(
      new RegExp(`Plugin .*worker-good\\.mjs changed during the run \\(sha256 000000000000… at the start, ${record!.sha256.slice(0, 12)} now\\)`),
    );
  });

  it('refuses invalid declarations with the field named', async () => {
    const cases: Array<[string, RegExp]> = [
      [definition('Bad Name', ''), /attack name "Bad Name" must be lower-case/],
      [definition('no-norm', "norm: 'l2',"), /attack 'no-norm': 'norm' must be "linf", got "l2"/],
      [definition('no-run', 'run: 42,'), /'run' must be a function/],
      [definition('bad-type', "params: { steps: { type: 'integer', default: 3, help: 'h' } },"), /parameter 'steps': 'type' must be "int" or "number" or "boolean" or "choice", got "integer"/],
      [definition('bad-default', "params: { steps: { type: 'int', default: 0, min: 1, help: 'h' } },"), /parameter 'steps' = 0 is out of range \[1, inf\]/],
      [definition('bad-range', "params: { a: { type: 'number', min: 2, max: 1, help: 'h' } },"), /parameter 'a': 'min' 2 is above 'max' 1/],
      [definition('no-help', "params: { a: { type: 'boolean', default: true } },"), /parameter 'a': 'help' must be a non-empty string/],
      [definition('typo-field', "params: { a: { type: 'number', defualt: 1, help: 'h' } },"), /unknown field\(s\) defualt/],
    ];
    for (const [i, [source, message]] of cases.entries()) {
      writeModule(dir, `invalid-${i}.mjs`, source);
      expect((await refusal([`./invalid-${i}.mjs`])).message).toMatch(message);
    }
  });
});

describe("a profile's plugins", () => {
  it('are read before validation, relative to the profile file, with --set applied', () => {
    const file = join(dir, 'sub', 'p.json');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(file, JSON.stringify({ ...BUILTIN_PROFILES.tiny, plugins: ['./a.mjs', 'some-package'] }));
    expect(profilePlugins(file)).toEqual({ specs: ['./a.mjs', 'some-package'], base: join(dir, 'sub') });
    expect(profilePlugins(file, { set: ['plugins=["./b.mjs"]'] }).specs).toEqual(['./b.mjs']);
    expect(profilePlugins('tiny').specs).toEqual([]);
  });

  it('must be a list of module paths or package names', () => {
    expect(() => validateProfile({ ...BUILTIN_PROFILES.tiny, plugins: './a.mjs' }, 'p.json')).toThrow(/Profile p\.json is invalid: .*plugins/);
    expect(() => validateProfile({ ...BUILTIN_PROFILES.tiny, plugins: [' '] }, 'p.json')).toThrow(/plugins.*must be a module path/);
    expect(validateProfile({ ...structuredClone(BUILTIN_PROFILES.tiny), plugins: ['./a.mjs'] }).plugins).toEqual(['./a.mjs']);
  });
});

describe('the contract kit on plugins', () => {
  const failing = async (kind: 'good' | 'readback' | 'leak' | 'outside') => {
    await loadPlugins([writePlugin(dir, kind, 'kit')]);
    return checkAttackContract(`kit-${kind}`)
      .filter((c) => !c.passed)
      .map((c) => c.name);
  };

  it('passes a correct attack on every check', async () => {
    expect(await failing('good')).toEqual([]);
  });
  it('fails an attack that reads tensors back, on that property only', async () => {
    expect(await failing('readback')).toEqual([CONTRACT.readback]);
  });
  it('fails an attack that leaks tensors, although the base tidy would hide it', async () => {
    expect(await failing('leak')).toEqual([CONTRACT.leak]);
  });
  it('fails an attack that leaves the epsilon ball, although the base projection would hide it', async () => {
    expect(await failing('outside')).toEqual([0.03, 0.1, 0.3].map(CONTRACT.bounds));
  });

  it('checks an unregistered definition given as an object', () => {
    const identity: AttackDefinition = {
      name: 'identity', norm: 'linf', needs: 'outputs', iterative: false, randomized: false,
      description: 'returns x', params: {}, run: (ctx) => ctx.x.clone(),
    };
    const failed = checkAttackContract(identity).filter((c) => !c.passed).map((c) => c.name);
    // Doing nothing is inside the ball, but does not defeat an undefended model.
    expect(failed).toEqual([CONTRACT.strength(0.5)]);
  });

  it('counts every kind of read-back and restores the engine afterwards', async () => {
    const t = tf.tensor1d([1, 2]);
    const { reads } = countReadbacks(() => {
      t.dataSync();
      t.arraySync();
      t.bufferSync();
    });
    expect(reads).toBe(3);
    expect(countReadbacks(() => tf.tidy(() => tf.add(t, 1).shape)).reads).toBe(0);
    expect(Object.hasOwn(tf.engine(), 'readSync')).toBe(false);
    t.dispose();
  });
});
