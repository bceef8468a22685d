// A file the user pointed at cannot be used as asked (an output path that is a folder, a
// folder locked by another run, a model file reaching outside its folder): one clear line.
import { UserError } from '../errors.js';

export class FileError extends UserError {
  override name = 'FileError';
}

/** A model folder's files are missing, malformed or unsafe to load. */
export class ModelFileError extends UserError {
  override name = 'ModelFileError';
}
