// The IDX format of MNIST and Fashion-MNIST: a 4-byte magic number (0, 0, type, number of
// dimensions), one big-endian uint32 per dimension, then the values. Only unsigned bytes
// (type 0x08) occur in these datasets.
import { DataError } from './errors.js';

const UBYTE = 0x08;

export interface IdxArray {
  dims: number[];
  /** The values, row-major, a view into the decoded file. */
  data: Uint8Array;
}

/** Parses an IDX file of unsigned bytes with `rank` dimensions; `file` names it in errors. */
export function parseIdx(buf: Uint8Array, rank: number, file: string): IdxArray {
  const expectedMagic = (UBYTE << 8) | rank;
  if (buf.length < 4) {
    throw new DataError(`${file} is truncated: ${buf.length} bytes, too short for an IDX header.`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0);
  if (magic !== expectedMagic) {
    throw new DataError(
      `${file} has the wrong magic number 0x${hex(magic)}: expected 0x${hex(expectedMagic)} ` +
        `(IDX, unsigned bytes, ${rank} dimension${rank > 1 ? 's' : ''}). Is it the right file ` +
        `(${rank === 1 ? 'labels' : 'images'}) and not an HTML error page or another format?`,
    );
  }
  const headerBytes = 4 + 4 * rank;
  if (buf.length < headerBytes) {
    throw new DataError(`${file} is truncated: ${buf.length} bytes, the IDX header alone needs ${headerBytes}.`);
  }
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i));
  const expected = headerBytes + dims.reduce((a, b) => a * b, 1);
  if (buf.length < expected) {
    throw new DataError(
      `${file} is truncated: expected ${expected} bytes for ${dims.join(' x ')} values, found ${buf.length}. ` +
        `Download it again.`,
    );
  }
  if (buf.length > expected) {
    throw new DataError(
      `${file} has ${buf.length - expected} bytes after the ${dims.join(' x ')} values its header ` +
        `announces (expected ${expected} bytes, found ${buf.length}): the file is damaged.`,
    );
  }
  return { dims, data: buf.subarray(headerBytes, expected) };
}

/** Encodes unsigned bytes as an IDX file (for the embedded subset and tests). */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new Error(`encodeIdx: ${data.length} values for dims ${dims.join('x')}`);
  const out = new Uint8Array(4 + 4 * dims.length + count);
  const view = new DataView(out.buffer);
  view.setUint32(0, (UBYTE << 8) | dims.length);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}
