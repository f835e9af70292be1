import { defineConfig } from 'tsup';

// The demo is an app, not a library: one CJS bundle, packages left external so
// it runs against the built @rediskit/* packages exactly as a user's app would.
export default defineConfig({
  entry: ['src/main.ts'],
  format: ['cjs'],
  target: 'node20',
  platform: 'node',
  sourcemap: true,
  clean: true,
  dts: false,
  tsconfig: 'tsconfig.json',
});
