// Shared tsup settings: every package ships CJS (.js) and ESM (.mjs) with
// declarations for both, from a single src/index.ts entry.
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['cjs', 'esm'],
  dts: true,
  tsconfig: 'tsconfig.build.json',
  target: 'node20',
  platform: 'node',
  sourcemap: true,
  clean: true,
  splitting: false,
  treeshake: false,
  shims: false,
});
