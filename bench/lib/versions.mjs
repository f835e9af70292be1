// Installed versions of the packages a contender runs on, read from the
// package.json that Node would load (bench's own install first, then the root's).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const benchDir = fileURLToPath(new URL('..', import.meta.url));
const rootDir = fileURLToPath(new URL('../..', import.meta.url));

export function versionOf(name) {
  if (name.startsWith('@rediskit/')) {
    const p = `${rootDir}packages/${name.slice('@rediskit/'.length)}/package.json`;
    return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')).version : undefined;
  }
  for (const dir of [benchDir, rootDir]) {
    const p = `${dir}node_modules/${name}/package.json`;
    if (existsSync(p)) return JSON.parse(readFileSync(p, 'utf8')).version;
  }
  return undefined;
}

export function versionsOf(names) {
  return Object.fromEntries(names.map((n) => [n, versionOf(n) ?? 'missing']));
}
