// A zoo mistake (bad id, missing or tampered model files, incompatible checkpoint): printed by
// the CLI as one line, no stack trace.
import { UserError } from '../../src/errors.js';

export class ZooError extends UserError {
  override name = 'ZooError';
}
