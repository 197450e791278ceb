// @ts-check
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/build/**',
      '**/.svelte-kit/**',
      '**/generated/**',
      'packages/cli/bin/**',
      'tmp/**',
      'eslint.config.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      'max-len': ['warn', { code: 100, ignoreUrls: true, ignoreStrings: true }],
    },
  },
  // The web app: Svelte 5 components with TypeScript, the same type-aware rules as the rest.
  ...svelte.configs.recommended,
  {
    files: ['apps/web/**/*.svelte', 'apps/web/**/*.svelte.ts'],
    languageOptions: {
      globals: globals.browser,
      parserOptions: {
        projectService: true,
        extraFileExtensions: ['.svelte'],
        parser: tseslint.parser,
      },
    },
    rules: {
      // The type-aware parser does not see the props SvelteKit types for each route
      // (`$props()` from ./$types, which svelte-check does resolve): every `data.…` would be
      // `any` to it. svelte-check (`npm run typecheck`) checks those types instead.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      // The app is served at the root (no `paths.base`): links need no resolve().
      'svelte/no-navigation-without-resolve': 'off',
      // Prettier lays out markup (it keeps inline elements on their line); it has the last word.
      'max-len': 'off',
    },
  },
  {
    files: ['apps/web/src/**/*.ts'],
    languageOptions: { globals: globals.browser },
  },
  {
    // tRPC client procedures (`api.adt.admit.mutate`) are bound functions, and tests read
    // untyped JSON from raw responses on purpose.
    files: ['tests/**', 'bench/**', '**/*.test.ts'],
    rules: {
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // Boundaries: domain is pure, policy/db/api only look downward (DESIGN.md "Layout").
    files: ['packages/domain/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['@medaxis/*', 'pg', 'node:*', 'fastify', '@trpc/*'] },
      ],
    },
  },
  {
    files: ['packages/db/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['@medaxis/api', '@medaxis/cli', '@trpc/*'] }],
    },
  },
);
