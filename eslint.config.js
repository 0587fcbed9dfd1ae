// ESLint flat config: type-checked TypeScript rules plus the one-way arrows between src/ components.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Components under src/ and the components each one may import (see STYLE.md "Layout"). */
const allowedImports = {
  core: [],
  store: ['core'],
  client: ['core'],
  vcs: ['core'],
  executors: ['core'],
  // why vcs: the hub clones and fetches the Git repository of agent definitions with the runner's mirror helpers.
  hub: ['core', 'store', 'dashboard', 'vcs'],
  runner: ['core', 'executors', 'vcs', 'client'],
  dashboard: ['core'],
  cli: ['core', 'store', 'hub', 'runner', 'executors', 'vcs', 'client'],
};
const components = Object.keys(allowedImports);
// why: node I/O modules are forbidden in core so that domain logic stays pure and testable.
const ioModules = [
  'node:fs',
  'node:fs/promises',
  'node:child_process',
  'node:net',
  'node:http',
  'fs',
  'child_process',
];

const boundaryConfigs = Object.entries(allowedImports).map(([component, allowed]) => {
  const forbidden = components.filter((name) => name !== component && !allowed.includes(name));
  return {
    files: [`src/${component}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths:
            component === 'core' ? ioModules.map((name) => ({ name, message: 'src/core does no I/O.' })) : [],
          patterns: forbidden.map((name) => ({
            // why: relative paths only; a bare `**/client/*` would also match npm paths such as
            // `@modelcontextprotocol/sdk/client/index.js`.
            group: [`../**/${name}/*`, `../**/${name}`, `./${name}/*`],
            message: `src/${component} may not import src/${name} (one-way arrows, see STYLE.md).`,
          })),
        },
      ],
    },
  };
});

export default tseslint.config(
  { ignores: ['node_modules/', 'coverage/', '.warren/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  ...boundaryConfigs,
);
