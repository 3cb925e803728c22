import neostandard from 'neostandard'
import tseslint from 'typescript-eslint'

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', 'node_modules/**', '.modelpin/**', 'bench/results/**', 'coverage/**', '.tap/**'],
  }),
  {
    files: ['**/*.ts'],
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
]
