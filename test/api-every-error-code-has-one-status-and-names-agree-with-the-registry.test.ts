import t from 'tap'
import * as errors from '../src/registry/errors.js'
import { ERROR_CODES, STATUS_BY_CODE } from '../src/api/errors.js'
import { NAME_PATTERN } from '../src/api/schemas/common.js'
import { isValidName } from '../src/registry/registry.js'

t.test('every domain error class of the registry has a code with one HTTP status and a meaning', async (t) => {
  type DomainErrorClass = new (...args: string[]) => errors.RegistryError
  const classes = (Object.values(errors) as unknown[]).filter((value): value is DomainErrorClass =>
    typeof value === 'function' && value.prototype instanceof errors.RegistryError)
  t.ok(classes.length >= 14, `${classes.length} domain error classes`)
  for (const ErrorClass of classes) {
    const error = new ErrorClass('step', 'message', 'detail')
    t.ok(Object.hasOwn(ERROR_CODES, error.code), `${ErrorClass.name} (${error.code}) is in ERROR_CODES`)
  }
  for (const [code, { status, meaning }] of Object.entries(ERROR_CODES)) {
    t.equal(STATUS_BY_CODE[code as keyof typeof STATUS_BY_CODE], status, code)
    t.ok(status >= 400 && status < 600 && meaning.length > 10, `${code}: ${status}, ${meaning}`)
  }
  t.same(
    Object.fromEntries(Object.entries(STATUS_BY_CODE).filter(([code]) => ['invalid_input', 'model_not_found', 'model_exists',
      'unknown_release', 'version_not_found', 'alias_busy', 'revision_mismatch', 'deploy_failed', 'gate_rejected'].includes(code))),
    {
      invalid_input: 400,
      model_not_found: 404,
      model_exists: 409,
      alias_busy: 409,
      revision_mismatch: 412,
      unknown_release: 422,
      version_not_found: 422,
      gate_rejected: 422,
      deploy_failed: 502,
    }, 'the statuses DESIGN.md fixes')
})

t.test('the API\'s name pattern accepts exactly the names the registry accepts', async (t) => {
  const pattern = new RegExp(NAME_PATTERN, 'u')
  const samples = ['resnet', 'resnet-50', 'a', 'a.b', 'a_b', '0', 'x'.repeat(63), 'x'.repeat(64), '', 'a/b', '..', 'a..b',
    '.a', '-a', '_a', 'A', 'ResNet', 'a b', 'a\u0000', 'a\u0001b', 'a\nb', 'a\u007f', 'é', 'a%2fb', 'a.', 'a-']
  for (const name of samples) t.equal(pattern.test(name), isValidName(name), JSON.stringify(name))
})
