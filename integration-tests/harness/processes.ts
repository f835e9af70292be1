import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGES = ['core', 'express', 'koa', 'nestjs', 'testing'];

/**
 * Bundles a worker script (TypeScript, importing `@rediskit/*` from source)
 * into one CommonJS file that plain `node` can run in a child process, so
 * multi-process tests exercise the current source, not a stale build.
 * Takes about 50 ms.
 *
 * @example
 * const file = await bundleWorker(new URL('./worker.ts', import.meta.url));
 * const results = await runWorkers(file, 4, { url, prefix });
 */
export async function bundleWorker(entry: URL | string): Promise<string> {
  const entryPath = typeof entry === 'string' ? entry : fileURLToPath(entry);
  // Inside the repo so the bundle's external imports resolve from node_modules.
  mkdirSync(join(root, 'node_modules', '.cache'), { recursive: true });
  const outdir = mkdtempSync(join(root, 'node_modules', '.cache', 'rediskit-worker-'));
  const outfile = join(outdir, `${basename(entryPath).replace(/\.ts$/, '')}.cjs`);
  await build({
    entryPoints: [entryPath],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    logLevel: 'silent',
    sourcemap: 'inline',
    // Dependencies load from node_modules; only our packages come from source.
    packages: 'external',
    alias: Object.fromEntries(PACKAGES.map((p) => [`@rediskit/${p}`, join(root, 'packages', p, 'src', 'index.ts')])),
  });
  return outfile;
}

/** What a worker sends back with `process.send(result)` before exiting. */
export interface WorkerResult<T> {
  index: number;
  result: T;
}

/**
 * Forks `count` workers of a bundled script, each getting `{ index, ...input }`
 * as JSON in `process.argv[2]`, and resolves with each worker's first message
 * (`process.send(...)`). Rejects if a worker exits without sending one.
 * Workers are killed if the test process dies (the IPC channel closes).
 */
export function runWorkers<T>(file: string, count: number, input: Record<string, unknown> = {}): Promise<T[]> {
  return Promise.all(
    Array.from({ length: count }, (_, index) => {
      const child = fork(file, [JSON.stringify({ index, ...input })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      return onceResult<T>(child, index);
    }),
  );
}

/** Starts one worker and returns the child, for tests that kill it midway. */
export function startWorker(file: string, input: Record<string, unknown> = {}): ChildProcess {
  return fork(file, [JSON.stringify(input)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function onceResult<T>(child: ChildProcess, index: number): Promise<T> {
  return new Promise((resolve, reject) => {
    let done = false;
    child.once('message', (message) => {
      done = true;
      resolve(message as T);
    });
    child.once('exit', (code) => {
      if (!done) reject(new Error(`worker ${index} exited with code ${code} before reporting`));
    });
    child.once('error', reject);
  });
}
