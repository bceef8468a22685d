// The CIFAR-10 binary format: records of 1 label byte and 3072 pixel bytes, stored as the
// 1024 red, then green, then blue values of a 32x32 image (channel-major). The toolkit works
// in NHWC, so records are interleaved to height x width x channel here.
import { DataError } from './errors.js';

export const CIFAR_SIDE = 32;
const PLANE = CIFAR_SIDE * CIFAR_SIDE;
const RECORD = 1 + 3 * PLANE;

export interface CifarBatch {
  /** HWC pixels, one image after another. */
  pixels: Uint8Array;
  labels: Uint8Array;
}

export function parseCifar10(buf: Uint8Array, file: string): CifarBatch {
  if (buf.length === 0 || buf.length % RECORD !== 0) {
    const whole = Math.floor(buf.length / RECORD);
    throw new DataError(
      `${file} is truncated or not a CIFAR-10 binary batch: ${buf.length} bytes is not a multiple of ` +
        `the ${RECORD}-byte record (expected ${Math.max(whole, 1) * RECORD} or ${(whole + 1) * RECORD} bytes ` +
        `for ${Math.max(whole, 1)} or ${whole + 1} images). Use the "binary version" files data_batch_1.bin ... test_batch.bin.`,
    );
  }
  const n = buf.length / RECORD;
  const pixels = new Uint8Array(n * 3 * PLANE);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const rec = i * RECORD;
    labels[i] = buf[rec]!;
    const out = i * 3 * PLANE;
    for (let p = 0; p < PLANE; p++) {
      pixels[out + 3 * p] = buf[rec + 1 + p]!;
      pixels[out + 3 * p + 1] = buf[rec + 1 + PLANE + p]!;
      pixels[out + 3 * p + 2] = buf[rec + 1 + 2 * PLANE + p]!;
    }
  }
  return { pixels, labels };
}

/** Encodes HWC images as a CIFAR-10 binary batch (for tests). */
export function encodeCifar10(pixels: Uint8Array, labels: Uint8Array): Uint8Array {
  const n = labels.length;
  const out = new Uint8Array(n * RECORD);
  for (let i = 0; i < n; i++) {
    const rec = i * RECORD;
    out[rec] = labels[i]!;
    for (let p = 0; p < PLANE; p++)
      for (let c = 0; c < 3; c++) out[rec + 1 + c * PLANE + p] = pixels[i * 3 * PLANE + 3 * p + c]!;
  }
  return out;
}
