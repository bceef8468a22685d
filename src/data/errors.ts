// Errors in data files are user mistakes (wrong folder, damaged download): the CLI prints them
// as one line naming the file and what is wrong.
import { UserError } from '../errors.js';

export class DataError extends UserError {
  override name = 'DataError';
}
