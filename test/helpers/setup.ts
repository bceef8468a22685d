// Every test file runs on the backend the toolkit falls back to on machines without
// libtensorflow (wasm), unless DCNET_TEST_BACKEND names another.
import { beforeAll } from 'vitest';
import { initBackend } from '../../src/backend.js';

beforeAll(async () => {
  await initBackend(process.env.DCNET_TEST_BACKEND ?? 'wasm');
});
