// A minimal PNG writer (8-bit RGB, no filtering) and the examples grid: clean images,
// adversarial images and their perturbations, for a few test points and models.
import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const body = Buffer.concat([head.subarray(4), Buffer.from(data)]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body), 0);
  return Buffer.concat([head.subarray(0, 4), body, crc]);
}

/** Encodes an RGB image (row-major, 3 bytes per pixel) as PNG. */
export function encodePng(width: number, height: number, rgb: Uint8Array): Buffer {
  if (rgb.length !== width * height * 3) throw new Error(`encodePng: expected ${width * height * 3} bytes, got ${rgb.length}`);
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0; // filter: none
    Buffer.from(rgb.buffer, rgb.byteOffset + y * width * 3, width * 3).copy(raw, y * (width * 3 + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array()),
  ]);
}

/** One tile: an image with values in [0, 1], [H, W, C] with C 1 or 3. */
export interface Tile {
  pixels: ArrayLike<number>;
  shape: [number, number, number];
}

/** Lays tiles out in a grid (rows x cols, row-major; undefined = blank), scaled up. */
export function gridPng(tiles: Array<Tile | undefined>, cols: number, scale = 3, gap = 4): Buffer {
  const first = tiles.find((t): t is Tile => t !== undefined);
  if (!first) throw new Error('gridPng: no tiles');
  const [h, w] = first.shape;
  const rows = Math.ceil(tiles.length / cols);
  const width = cols * (w * scale + gap) + gap;
  const height = rows * (h * scale + gap) + gap;
  const rgb = new Uint8Array(width * height * 3).fill(255);
  tiles.forEach((tile, i) => {
    if (!tile) return;
    const ox = gap + (i % cols) * (w * scale + gap);
    const oy = gap + Math.floor(i / cols) * (h * scale + gap);
    const c = tile.shape[2];
    for (let y = 0; y < h * scale; y++) {
      for (let x = 0; x < w * scale; x++) {
        const src = (Math.floor(y / scale) * w + Math.floor(x / scale)) * c;
        const dst = ((oy + y) * width + ox + x) * 3;
        for (let k = 0; k < 3; k++) {
          const v = tile.pixels[src + (c === 1 ? 0 : k)]!;
          rgb[dst + k] = Math.round(Math.min(1, Math.max(0, v)) * 255);
        }
      }
    }
  });
  return encodePng(width, height, rgb);
}
