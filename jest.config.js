// Jest runs in ESM mode (scripts/jest.mjs sets --experimental-vm-modules)
// because NestJS 12 ships ESM only; @swc/jest compiles TypeScript with the
// legacy decorators and metadata Nest needs. Tests import the packages from
// source (moduleNameMapper), so `npm test` needs no build except the Lua
// module, which `pretest` generates.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.(t|j)s$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
          target: 'es2022',
          keepClassNames: true,
        },
        module: { type: 'es6' },
        sourceMaps: 'inline',
      },
    ],
  },
  moduleNameMapper: {
    '^@rediskit/(core|express|koa|nestjs|testing)$': '<rootDir>/packages/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/packages/*/src/**/*.test.ts', '<rootDir>/integration-tests/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  globalSetup: '<rootDir>/integration-tests/setup/global-setup.ts',
  globalTeardown: '<rootDir>/integration-tests/setup/global-teardown.ts',
  testTimeout: 30_000,
  maxWorkers: process.env.CI ? 2 : '50%',
};
