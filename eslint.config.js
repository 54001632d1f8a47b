// @ts-check
import path from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const modulesDir = path.resolve(import.meta.dirname, 'apps/server/src/modules');

/**
 * Bounded contexts meet only through their public index: a file under apps/server/src may import
 * another context's `modules/<name>/index.js`, never a file inside it. (Within a context, any file.)
 */
const moduleBoundaries = {
  meta: {
    type: 'problem',
    docs: { description: 'another bounded context may be imported only through its index.ts' },
    schema: [],
    messages: {
      internal: "'{{source}}' reaches into the {{target}} context: import '{{suggestion}}' instead.",
    },
  },
  /** @param {import('eslint').Rule.RuleContext} context */
  create(context) {
    const file = context.filename;
    const own = path.relative(modulesDir, file).split(path.sep);
    const ownModule = own[0] === '..' || own.length < 2 ? null : own[0];
    return {
      /** @param {any} node */
      'ImportDeclaration, ExportNamedDeclaration, ExportAllDeclaration, ImportExpression'(node) {
        const source = node.source?.value;
        if (typeof source !== 'string' || !source.startsWith('.')) return;
        const target = path.relative(modulesDir, path.resolve(path.dirname(file), source)).split(path.sep);
        if (target[0] === '..' || target.length < 2) return;
        const [targetModule, ...rest] = target;
        if (targetModule === ownModule) return;
        if (rest.length === 1 && rest[0] === 'index.js') return;
        const suggestion = path.relative(path.dirname(file), path.join(modulesDir, targetModule ?? '', 'index.js'));
        context.report({
          node,
          messageId: 'internal',
          data: {
            source,
            target: targetModule ?? '',
            suggestion: suggestion.startsWith('.') ? suggestion : `./${suggestion}`,
          },
        });
      },
    };
  },
};

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/data/**',
      '**/test-artifacts/**',
      '**/.bench-data/**',
      '**/coverage/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-floating-promises': 'error',
      // Fastify handlers and hooks are async by contract even when they have nothing to await.
      '@typescript-eslint/require-await': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['apps/server/src/**/*.ts'],
    plugins: { yunpay: { rules: { 'module-boundaries': moduleBoundaries } } },
    rules: { 'yunpay/module-boundaries': 'error' },
  },
  {
    // HTTP tests (and the crash test and the end-to-end benchmark) read JSON bodies: their shape is what the assertions check, so `any` is fine there.
    files: ['**/test/**/*.ts', '**/crash/**/*.ts', '**/bench/e2e-*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.d.mts'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Plain Node.js scripts (run before anything is built).
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
