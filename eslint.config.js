import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import globals from 'globals'

export default tseslint.config(
  {
    ignores: ['node_modules/**', 'build/**', 'dist/**', 'web/build/**', 'web/.cache/**', 'data/**', 'test-artifacts/**', 'web/public/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'warn',
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    ignores: ['eslint.config.js'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Forgetting to await an activity, a workflow API or a query is a bug.
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
  {
    // Workflow code is bundled and replayed: it must stay deterministic and free of I/O.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'path', 'crypto', 'http', 'https', 'net', 'child_process', 'os'], message: 'Workflow code cannot use Node builtins; do it in an activity.', allowTypeImports: true },
            { group: ['knex', 'objection', 'pg', 'ioredis', 'grammy', 'exceljs', 'undici', '#db/*', '#activities/*'], message: 'Workflow code does no I/O; call an activity instead.', allowTypeImports: true },
          ],
        },
      ],
    },
  },
)
