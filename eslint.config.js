// Typed lint: the rules that catch real bugs in async distributed code.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/** The rules of a deterministic core: time and randomness come from a Clock and a Random. */
const determinism = {
  'no-restricted-globals': ['error', 'setTimeout', 'setInterval', 'setImmediate'],
  'no-restricted-properties': ['error',
    { object: 'Date', property: 'now', message: 'Take a Clock.' },
    { object: 'Math', property: 'random', message: 'Take a Random.' }],
}

export default tseslint.config(
  { ignores: ['**/dist/**', '**/.blocks/**', '**/node_modules/**', 'docs/api/**', 'coverage/**', 'bench-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', '*.mjs', 'scripts/*.mjs', 'examples/demo/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: 'TSEnumDeclaration', message: 'Use an as-const object and a union type.' }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    // Deterministic cores never read real time or randomness: the store and the orchestrators
    // (their drivers and clocks excepted)...
    files: ['packages/{store,orchestrator,agent}/src/**/*.ts', 'packages/network/src/{ipam,allocator,control}/**/*.ts', 'packages/network/src/dns/resolver*.ts', 'packages/network/src/mesh/endpoints*.ts'],
    // Compliance suites are test harnesses shipped in src: they wait for real I/O.
    ignores: ['**/*driver*.ts', '**/*clock*.ts', '**/compliance/**'],
    rules: determinism,
  },
  {
    // ...and raft's pure state machine, which is exactly its core/ folder (storage, transport
    // and driver/ are the effects at the edge).
    files: ['packages/raft/src/core/**/*.ts'],
    rules: determinism,
  },
)
