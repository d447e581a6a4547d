// Type-aware linting for every package and service.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'data/**', 'coverage/**', 'scripts/*.mjs', 'jest.config.js', 'eslint.config.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'read the environment in config.ts only' }],
      'no-eval': 'error',
      'no-new-func': 'error',
    },
  },
  {
    files: ['**/config.ts', 'test/**', '**/test/**', 'packages/testing/src/**', 'scripts/src/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['**/test/**', 'test/**', 'scripts/src/**'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
    },
  },
  {
    // The /ui page's script runs in the browser, untranspiled: no TypeScript project to type
    // check it against, and the browser's globals (uPlot: the vendored IIFE's).
    files: ['services/api/src/ui/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      sourceType: 'module',
      parserOptions: { projectService: false },
      globals: Object.fromEntries(['window', 'document', 'fetch', 'sessionStorage', 'location', 'history', 'setTimeout', 'Node', 'uPlot'].map((g) => [g, 'readonly'])),
    },
  },
  {
    // Published coefficient tables are kept digit for digit, as printed.
    files: ['packages/core/src/normal-quantile.ts'],
    rules: { 'no-loss-of-precision': 'off' },
  },
);
