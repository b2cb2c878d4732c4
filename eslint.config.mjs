// ESLint (flat config): `npm run lint`. typescript-eslint's recommended rules, the type-aware
// promise rules, and import-x/no-cycle, which follows value imports only (`import type` and
// all-`type` specifier lists are erased at compile time, so they cannot form a load-time cycle).
import js from '@eslint/js'
import { defineConfig } from 'eslint/config'
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript'
import { importX } from 'eslint-plugin-import-x'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default defineConfig(
  {
    // Generated, built or not TypeScript/JavaScript of ours.
    ignores: [
      'dist/',
      'build/',
      'build-cmake/',
      'prebuilds/',
      'demo/',
      'assets/',
      'docs/',
      'cpp/',
      'python/',
      '.venv/',
      '.cache/',
      'lib/text/tables.generated.ts',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: './tsconfig.eslint.json', tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    plugins: { 'import-x': importX },
    settings: {
      // Without these, import-x skips .ts modules when it walks the graph (no-cycle would pass vacuously).
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      // node:test's test() and describe() return promises the runner awaits itself.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // A type used only as a type is imported with `type`, so no-cycle sees every value import.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // `const { a: _a, ...rest } = x` leaves out `a` on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // Layering, type imports included: the addon contract (lib/native.ts) is the lowest layer,
      // the library never reaches into the CLI, and CLI commands never import the main.ts that
      // registers them.
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './lib/native.ts',
              from: './lib',
              except: ['./native.ts', './native_loader.ts', './dtype.ts', './errors.ts', './libtorch_check.ts', './package_root.ts', './types'],
              message: 'lib/native.ts is the lowest layer: it imports only the addon loader and its helpers.',
            },
            { target: ['./lib/*.ts', './lib/!(cli)/**/*.ts'], from: './lib/cli', message: 'The library does not depend on the CLI.' },
            {
              target: './lib/cli/commands',
              from: './lib/cli/main.ts',
              message: 'main.ts imports the commands: take Runner and Action from lib/cli/runner.ts.',
            },
          ],
        },
      ],
    },
  },
  {
    // The CommonJS scripts: bin/videovae.js, scripts/*.js.
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests load the CommonJS locator script as it ships (it has no types to import).
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-require-imports': ['error', { allow: ['/scripts/libtorch\\.js$'] }] },
  },
)
