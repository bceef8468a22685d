// Fills the README's generated blocks: the text between `<!-- generated:NAME -->` and
// `<!-- /generated:NAME -->` is replaced by what block NAME's generator renders from committed
// artifacts, so that no number in the README is typed in by hand.

const OPEN = /<!-- generated:([a-z0-9-]+) -->/g;

/** The generated blocks of a text, in order; throws on an unclosed or nested block. */
export function findBlocks(text) {
  const found = [];
  for (const m of text.matchAll(OPEN)) {
    const name = m[1];
    const bodyStart = m.index + m[0].length;
    const close = `<!-- /generated:${name} -->`;
    const end = text.indexOf(close, bodyStart);
    if (end < 0) throw new Error(`README block "${name}" is not closed: add ${close}`);
    const nested = text.slice(bodyStart, end).match(/<!-- generated:([a-z0-9-]+) -->/);
    if (nested) throw new Error(`README block "${nested[1]}" is nested in "${name}"`);
    if (found.some((b) => b.name === name)) throw new Error(`README block "${name}" appears twice`);
    found.push({ name, bodyStart, bodyEnd: end });
  }
  return found;
}

/**
 * The text with every block's body replaced by its generator's output (framed by newlines).
 * A block without a generator, or a generator without a block, is an error: both mean the
 * README and the generators have drifted apart.
 */
export async function renderReadme(text, generators, root) {
  const blocks = findBlocks(text);
  const names = new Set(blocks.map((b) => b.name));
  for (const name of Object.keys(generators)) {
    if (!names.has(name)) throw new Error(`generator "${name}" has no block in the README: add <!-- generated:${name} --><!-- /generated:${name} -->`);
  }
  let out = '';
  let at = 0;
  for (const b of blocks) {
    const generate = generators[b.name];
    if (!generate) throw new Error(`README block "${b.name}" has no generator in scripts/readme/blocks.mjs`);
    const body = (await generate(root)).replace(/\s+$/, '');
    out += text.slice(at, b.bodyStart) + `\n${body}\n`;
    at = b.bodyEnd;
  }
  return out + text.slice(at);
}
