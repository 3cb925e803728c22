import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { RUNTIME_PACKAGES, buildLambda } from '../src/local/lambda-bundle.js'
import { LockfileEntryMissingError, pruneLockfile, resolveInLockfile, type Lockfile } from '../src/local/runtime-lockfile.js'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '..')
const dockerfile = await readFile(resolve(root, 'lambda/Dockerfile'), 'utf8')
/** The Dockerfile's instructions, comments and continuation lines folded (`RUN a \` + `&& b` is one line). */
const instructions = dockerfile.split('\n').filter((line) => !line.startsWith('#')).join('\n').replace(/\\\n/g, ' ')
  .split('\n').map((line) => line.trim()).filter((line) => line !== '')

t.test('a pruned lockfile keeps the reachable entries at their paths and recomputes which are optional', async (t) => {
  const source: Lockfile = {
    name: 'app',
    lockfileVersion: 3,
    packages: {
      '': { name: 'app', dependencies: { a: '^1', admin: '^1' } },
      'node_modules/a': { version: '1.0.0', integrity: 'sha512-a', dependencies: { b: '^2' }, optionalDependencies: { 'a-linux': '1.0.0', 'a-absent': '1.0.0' } },
      // b@2 nested under a, while the root has b@1 for the admin package
      'node_modules/a/node_modules/b': { version: '2.0.0', integrity: 'sha512-b2', dependencies: { c: '^1' } },
      'node_modules/b': { version: '1.0.0', integrity: 'sha512-b1' },
      'node_modules/c': { version: '1.0.0', integrity: 'sha512-c', dev: true, devOptional: true },
      'node_modules/a-linux': { version: '1.0.0', integrity: 'sha512-al', os: ['linux'], optional: true, dependencies: { d: '^1' } },
      'node_modules/d': { version: '1.0.0', integrity: 'sha512-d', peer: true },
      'node_modules/admin': { version: '1.0.0', integrity: 'sha512-admin', dependencies: { b: '^1' } },
      'node_modules/tool': { version: '1.0.0', integrity: 'sha512-tool', dev: true },
    },
  }
  t.equal(resolveInLockfile(source.packages, 'node_modules/a', 'b'), 'node_modules/a/node_modules/b', 'its own node_modules first')
  t.equal(resolveInLockfile(source.packages, 'node_modules/a/node_modules/b', 'c'), 'node_modules/c', 'then the root')
  t.equal(resolveInLockfile(source.packages, 'node_modules/a', 'zzz'), undefined)

  const { lockfile, dependencies } = pruneLockfile(source, 'image', ['a'])
  t.same(dependencies, { a: '1.0.0' }, 'the root depends on the exact version the source installed')
  t.same(lockfile.packages[''], { name: 'image', dependencies: { a: '1.0.0' } })
  t.same(Object.keys(lockfile.packages).sort(),
    ['', 'node_modules/a', 'node_modules/a-linux', 'node_modules/a/node_modules/b', 'node_modules/c', 'node_modules/d'],
    'what a reaches, at the same paths; not the admin package, its b@1 or a dev tool')
  t.equal(lockfile.packages['node_modules/a/node_modules/b']?.integrity, 'sha512-b2', 'entries keep their integrity')
  t.equal(lockfile.packages['node_modules/c']?.dev, undefined, 'dev described the old root: dropped')
  t.equal(lockfile.packages['node_modules/c']?.devOptional, undefined)
  t.equal(lockfile.packages['node_modules/c']?.optional, undefined, 'c is required (a -> b -> c)')
  t.equal(lockfile.packages['node_modules/a-linux']?.optional, true, 'reached only through an optional edge')
  t.equal(lockfile.packages['node_modules/d']?.optional, true, 'so is what only an optional package needs')
  t.equal(lockfile.packages['node_modules/d']?.peer, undefined)

  const broken = structuredClone(source)
  delete broken.packages['node_modules/c']
  t.throws(() => pruneLockfile(broken, 'image', ['a']), LockfileEntryMissingError, 'a missing required entry is an error')
  t.throws(() => pruneLockfile(source, 'image', ['nope']), LockfileEntryMissingError)
})

t.test('the image lockfile installs with npm ci: the locked versions, linux x64 binaries only, no install script needed', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'modelpin-image-lock-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await buildLambda({ outfile: join(dir, 'index.mjs'), codeCache: false })
  const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
  const lockfile = JSON.parse(await readFile(join(dir, 'package-lock.json'), 'utf8')) as Lockfile
  const repository = JSON.parse(await readFile(resolve(root, 'package-lock.json'), 'utf8')) as Lockfile

  t.same(Object.keys(manifest.dependencies).sort(), [...RUNTIME_PACKAGES].sort(), 'the bundle\'s external runtime packages')
  for (const [path, entry] of Object.entries(lockfile.packages)) {
    if (path === '') continue
    t.equal(entry.version, repository.packages[path]?.version, `${path}: the repository's locked version`)
    t.equal(entry.integrity, repository.packages[path]?.integrity, `${path}: and integrity`)
  }
  t.notOk(Object.keys(lockfile.packages).some((path) => /\/(better-sqlite3|fastify|kysely|pg|@aws-sdk\/client-s3)$/.test(path)),
    'nothing of the admin API (the bundle carries the AWS SDK)')
  // The Dockerfile runs npm ci with --ignore-scripts: only onnxruntime-node may have an install script (CUDA downloads).
  const withScripts = Object.entries(lockfile.packages).filter(([, entry]) => entry.hasInstallScript === true).map(([path]) => path)
  t.same(withScripts, ['node_modules/onnxruntime-node'])

  // npm itself checks the pair: npm ci refuses a lockfile out of step with package.json. Offline and dry: nothing
  // is downloaded, npm only plans the install the image build makes.
  const { stdout } = await run('npm', ['ci', '--dry-run', '--offline', '--omit=dev', '--os=linux', '--cpu=x64', '--ignore-scripts',
    '--no-audit', '--no-fund'], { cwd: dir, env: { ...process.env, npm_config_loglevel: 'warn' } })
  const added = [...stdout.matchAll(/^add (\S+) (\S+)$/gm)].map((m) => `${m[1]}@${m[2]}`)
  for (const name of RUNTIME_PACKAGES) t.ok(added.includes(`${name}@${manifest.dependencies[name]}`), `installs ${name}`)
  t.ok(added.some((a) => a.startsWith('@img/sharp-linux-x64@')), 'sharp\'s linux x64 binary')
  t.notOk(added.some((a) => /@img\/sharp-(darwin|win32|linux-arm64|linuxmusl)/.test(a)), 'no other platform\'s sharp')
})

t.test('the Dockerfile pins its base image by digest and installs from the copied lockfile, as a non-root user', async (t) => {
  const from = instructions.filter((line) => /^FROM\s/i.test(line))
  t.ok(from.length > 0)
  for (const line of from) {
    t.match(line, /^FROM public\.ecr\.aws\/lambda\/nodejs:22@sha256:[0-9a-f]{64}(\s|$)/, `${line}: the Node.js 22 base image by digest`)
  }
  const copies = instructions.filter((line) => /^COPY\s/i.test(line)).join('\n')
  t.match(copies, /dist\/lambda\/package-lock\.json/, 'copies the lockfile')
  t.match(copies, /dist\/lambda\/index\.mjs dist\/lambda\/main\.cjs dist\/lambda\/make-code-cache\.mjs/, 'the entry point, the function and the code cache\'s maker')
  const runs = instructions.filter((line) => /^RUN\s/i.test(line)).join('\n')
  t.match(runs, /npm ci --omit=dev\b/, 'npm ci --omit=dev over it')
  t.match(runs, /--ignore-scripts/, 'onnxruntime-node\'s install script (CUDA downloads) never runs')
  t.notMatch(runs, /npm (install|i)\s/, 'never npm install')
  t.notMatch(runs, /--no-package-lock/)
  const makeCache = instructions.findIndex((line) => /^RUN node make-code-cache\.mjs$/.test(line))
  t.ok(makeCache > instructions.findIndex((line) => /^COPY .*make-code-cache\.mjs/.test(line)), 'the image makes the code cache under its own Node, after copying the bundle')
  t.ok(makeCache < instructions.findIndex((line) => /^USER\s/i.test(line)), 'as root, before the function\'s user (which cannot write there)')
  const user = instructions.filter((line) => /^USER\s/i.test(line)).at(-1)
  t.ok(user, 'a USER instruction')
  t.notMatch(user ?? '', /^USER\s+(root|0)(:|\s|$)/, 'not root')
  t.equal(instructions.at(-1), 'CMD ["index.handler"]')

  const readme = await readFile(resolve(root, 'infra/README.md'), 'utf8')
  t.match(readme, /docker buildx imagetools inspect public\.ecr\.aws\/lambda\/nodejs:22|crane digest public\.ecr\.aws\/lambda\/nodejs:22/,
    'the deploy guide says how to refresh the pin')
})
