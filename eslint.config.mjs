// typescript-eslint recommended-type-checked over every TypeScript file; `npm run lint` (part of
// `npm test`) must report zero problems, warnings included (--max-warnings 0).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'console/dist/**', 'trainer/**', 'coverage/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // tsc (noUnusedLocals/Parameters) already reports these, with `_` conventions of its own.
      '@typescript-eslint/no-unused-vars': 'off',
      // `async` here keeps a function's failures as rejections and satisfies Promise-returning
      // interfaces (Apollo plugin hooks, DataLoader batches) even where nothing is awaited.
      '@typescript-eslint/require-await': 'off',
      // A switch over a union lists every member, or ends in a `never` default (src/common/exhaustive.ts).
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false }],
    },
  },
  {
    // Tests and benchmarks read GraphQL JSON responses, which are untyped by nature.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
