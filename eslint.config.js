import js from '@eslint/js'
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript'
import { importX } from 'eslint-plugin-import-x'
import tseslint from 'typescript-eslint'

/** A folder's imports that are not its own business: each rule says who may speak to what. */
const outside = (folders, message) =>
  folders.map((folder) => ({ group: [`../${folder}/*`, `../../src/${folder}/*`], message }))

/** `import()` outside its own folder, and of the packages only an adapter speaks to, but `allowed`. */
const LAZY = {
  folder: ['/^\\.\\.\\//', 'import() loads only from its own folder: the seams are static imports'],
  aws: ['/^@aws-sdk\\//', 'only src/ecr speaks to AWS'],
  github: ["'@actions/github'", 'only src/github speaks to GitHub']
}
const lazyLoads = (allowed) => [
  'error',
  ...Object.entries(LAZY)
    .filter(([name]) => name !== allowed)
    .map(([, [source, message]]) => ({
      selector: `ImportExpression[source.value=${source}]`,
      message
    }))
]

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'src/core/convention.validate.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        structuredClone: 'readonly'
      }
    }
  },
  {
    // The product gets the type-aware rules: they catch unsafe `any`, floating promises and unbound methods.
    files: ['src/**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    plugins: { 'import-x': importX },
    languageOptions: {
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname }
    },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver()],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] }
    },
    rules: {
      // No module reaches itself through others: the folders form layers, not a web.
      'import-x/no-cycle': ['error', { ignoreExternal: true }]
    }
  },
  // The seams of the architecture (CONTRIBUTING.md, "Layout"), enforced.
  // no-restricted-imports does not see `import()`: a lazy load stays in its own folder, and a
  // package loaded lazily is the one its adapter speaks to.
  { files: ['src/**/*.ts'], rules: { 'no-restricted-syntax': lazyLoads() } },
  { files: ['src/ecr/**/*.ts'], rules: { 'no-restricted-syntax': lazyLoads('aws') } },
  { files: ['src/github/**/*.ts'], rules: { 'no-restricted-syntax': lazyLoads('github') } },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/ecr/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@aws-sdk/*'], message: 'only src/ecr speaks to AWS' },
            { group: ['@actions/github'], message: 'only src/github speaks to GitHub' }
          ]
        }
      ]
    }
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@aws-sdk/*', '@actions/*'], message: 'src/core is pure: no AWS, no runner' },
            ...outside(
              ['ecr', 'github', 'run', 'report', 'action', 'cli'],
              'src/core imports only src/core'
            )
          ]
        }
      ]
    }
  },
  {
    files: ['src/ecr/**/*.ts', 'src/github/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@actions/core'], message: 'an adapter knows nothing of the runner' },
            ...outside(
              ['run', 'report', 'action', 'cli'],
              'an adapter imports only src/core and its own folder'
            )
          ]
        }
      ]
    }
  },
  {
    files: ['src/github/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@aws-sdk/*'], message: 'only src/ecr speaks to AWS' },
            { group: ['@actions/core'], message: 'an adapter knows nothing of the runner' },
            ...outside(
              ['run', 'report', 'action', 'cli', 'ecr'],
              'an adapter imports only src/core and its own folder'
            )
          ]
        }
      ]
    }
  },
  {
    // What both hosts share never reaches either host: the command line bundles no runner code.
    files: ['src/run/**/*.ts', 'src/report/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@aws-sdk/*'], message: 'only src/ecr speaks to AWS' },
            { group: ['@actions/github'], message: 'only src/github speaks to GitHub' },
            { group: ['@actions/core'], message: 'only src/action speaks to the runner' },
            ...outside(['action', 'cli'], 'the shared stages know neither host')
          ]
        }
      ]
    }
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@aws-sdk/*'], message: 'only src/ecr speaks to AWS' },
            { group: ['@actions/*'], message: 'the command line runs outside a runner' },
            ...outside(['action'], 'the command line shares src/run, never the action')
          ]
        }
      ]
    }
  }
)
