// A zoo mistake (bad id, missing or tampered model files, incompatible checkpoint): printed by
// the CLI as one line, no stack trace.
export class ZooError extends Error {
  override name = 'ZooError';
}
