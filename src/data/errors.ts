// Errors in data files are user mistakes (wrong folder, damaged download): the CLI prints them
// as one line naming the file and what is wrong.
export class DataError extends Error {
  override name = 'DataError';
}
