// The layer rule holds for src/, and the rule set really catches what it forbids: a tree of
// deliberately bad imports is cruised with the same .dependency-cruiser.cjs.
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DEPCRUISE = join(ROOT, 'node_modules', '.bin', 'depcruise')
const CONFIG = join(ROOT, '.dependency-cruiser.cjs')

interface Violation { rule: { name: string }; from: string; to: string }

const run = (cwd: string, outputType: string) =>
  promisify(execFile)(DEPCRUISE, ['src', '--config', CONFIG, '--output-type', outputType], { cwd, maxBuffer: 64 * 1024 * 1024 })
    .then(r => ({ stdout: r.stdout, code: 0 }), (e: { stdout: string; code: number }) => ({ stdout: e.stdout, code: e.code }))

/** the violations as JSON, and the exit code of the command `npm run lint:deps` runs */
async function cruise (cwd: string): Promise<{ violations: Violation[]; exitCode: number; modules: number }> {
  const summary = JSON.parse((await run(cwd, 'json')).stdout).summary
  return { violations: summary.violations, exitCode: (await run(cwd, 'err')).code, modules: summary.totalCruised }
}

t.test('src/ keeps the layer rule', async t => {
  const { violations, exitCode, modules } = await cruise(ROOT)
  t.ok(modules > 50, `${modules} modules cruised`)
  t.same(violations.map(v => `${v.rule.name}: ${v.from} → ${v.to}`), [])
  t.equal(exitCode, 0)
})

t.test('the rule set catches an upward import, a feature-to-feature import, a cycle and an unplaced folder', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'layering-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const files: Record<string, string> = {
    'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src'] }),
    'src/core/errors.ts': "import '../auth/guards.js'\nexport const a = 1\n", // core → auth: upward
    'src/auth/guards.ts': "import '../portfolio/plugin.js'\nexport const b = 1\n", // auth → feature: upward
    'src/portfolio/plugin.ts': "import '../health/routes.js'\nimport '../app.js'\nexport const c = 1\n", // feature → feature, feature → composition
    'src/health/routes.ts': 'export const d = 1\n',
    'src/app.ts': "import './portfolio/plugin.js'\nexport const e = 1\n",
    'src/auth/sessions/store.ts': "import type { C } from './cache.js'\nexport type S = C\n", // a type-only cycle
    'src/auth/sessions/cache.ts': "import type { S } from './store.js'\nexport type C = S | 1\n",
    'src/stuff/helper.ts': "import '../core/errors.js'\nexport const f = 1\n" // a folder no rule places
  }
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  const { violations, exitCode } = await cruise(dir)
  const found = new Set(violations.map(v => `${v.rule.name}: ${v.from} → ${v.to}`))
  for (const expected of [
    'core-imports-down-only: src/core/errors.ts → src/auth/guards.ts',
    'auth-imports-down-only: src/auth/guards.ts → src/portfolio/plugin.ts',
    'no-feature-to-feature: src/portfolio/plugin.ts → src/health/routes.ts',
    'features-import-down-only: src/portfolio/plugin.ts → src/app.ts',
    'no-circular: src/auth/sessions/cache.ts → src/auth/sessions/store.ts',
    'every-folder-has-a-layer: src/stuff/helper.ts → src/core/errors.ts'
  ]) t.ok(found.has(expected), expected)
  t.not(exitCode, 0, 'lint:deps fails the build')
})
