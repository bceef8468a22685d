// The committed models of the published profiles (results/<profile>/zoo/), found by walking the
// folders: tests compare the toolkit's own listing and rendering with this independent reading.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ZooManifest } from '../../models/zoo/index.js';

export interface CommittedModel {
  profile: string;
  dir: string;
  manifest: ZooManifest;
}

export function committedModels(root: string): CommittedModel[] {
  const out: CommittedModel[] = [];
  const walk = (profile: string, dir: string): void => {
    if (existsSync(join(dir, 'manifest.json'))) out.push({ profile, dir, manifest: JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) });
    else for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(profile, join(dir, e.name));
  };
  const results = join(root, 'results');
  if (!existsSync(results)) return out;
  for (const p of readdirSync(results).sort()) if (existsSync(join(results, p, 'zoo'))) walk(p, join(results, p, 'zoo'));
  return out;
}
