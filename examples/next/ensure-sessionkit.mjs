// `npm run build` runs this first: the example uses this repository's own sessionkit (file:../..),
// so on a fresh clone it builds it once (`npm ci && npm run build` at the repository root).
// In your own app, with sessionkit installed from the registry, delete this file and `prebuild`.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
if (!existsSync(`${root}/dist/adapters/next.js`)) {
  console.log(`sessionkit is not built yet: running npm ci && npm run build in ${root}`);
  execSync('npm ci && npm run build', { cwd: root, stdio: 'inherit' });
}
