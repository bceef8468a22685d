// The toolkit's version and install folder, read from package.json so both are defined once.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

interface PackageJson {
  name?: string;
  version?: string;
}

function findPackage(): { root: string; pkg: PackageJson } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
      if (pkg.name === 'dcnet-robustness') return { root: dir, pkg };
    } catch {
      // not here; look one folder up
    }
    dir = dirname(dir);
  }
  throw new Error('dcnet-robustness: cannot find its own package.json above ' + fileURLToPath(import.meta.url));
}

const found = findPackage();
/** Root folder of the installed package (holds data/ and package.json). */
export const PACKAGE_ROOT: string = found.root;
export const VERSION: string = found.pkg.version ?? '0.0.0';
