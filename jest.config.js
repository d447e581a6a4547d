/** One jest run for the whole workspace: tests import packages from source via the mapper. */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // TypeScript first: a stray compiled .js next to a source must never shadow it.
  moduleFileExtensions: ['ts', 'js', 'json'],
  roots: ['<rootDir>/packages', '<rootDir>/services', '<rootDir>/test'],
  testMatch: ['**/test/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }],
  },
  moduleNameMapper: {
    '^@ct/(auth|core|registry|queue|testing)$': '<rootDir>/packages/$1/src/index.ts',
  },
  modulePathIgnorePatterns: ['<rootDir>/.*/dist/'],
  testTimeout: 60000,
};
