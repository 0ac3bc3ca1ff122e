// scripts/user-create.ts run as the operator runs it (a child process against the test
// database): what it prints, its exit code, and what Postgres holds afterwards.
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { verifyPassword } from '../src/auth/passwords/hash.js'
import { adminSql, uniqueEmail, TEST_ADMIN_URL } from './helper.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

interface Run { code: number | null; stdout: string; stderr: string }

async function run (args: string[], env: Record<string, string> = {}): Promise<Run> {
  const base: NodeJS.ProcessEnv = { ...process.env, DATABASE_ADMIN_URL: TEST_ADMIN_URL }
  delete base.HALLPASS_PASSWORD
  const child = spawn(process.execPath, ['--import=tsx', 'scripts/user-create.ts', ...args], {
    cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', d => { stdout += d })
  child.stderr.on('data', d => { stderr += d })
  const [code] = await once(child, 'close') as [number | null]
  return { code, stdout, stderr }
}

const GOOD_PASSWORD = 'violet-harbor-lantern-42'

t.test('creates an admin with an argon2id hash and a Main portfolio', async t => {
  const admin = adminSql(t)
  const email = uniqueEmail('cli-admin')
  const res = await run(['--email', `  ${email.toUpperCase()} `, '--password', GOOD_PASSWORD, '--admin'])
  t.equal(res.code, 0, res.stderr)
  const [user] = await admin`select id, email, role, password_hash from users where email = ${email}`
  t.ok(user, 'the email is stored trimmed and lower-cased')
  t.equal(user!.role, 'admin')
  t.match(user!.password_hash, /^\$argon2id\$/)
  t.ok(await verifyPassword(user!.password_hash, GOOD_PASSWORD), 'the hash is of the given password')
  t.equal(res.stdout.trim(), `created user id=${user!.id} email=${email} role=admin`)
  t.notMatch(res.stdout + res.stderr, /argon2|violet-harbor/, 'neither the hash nor the password is printed')
  const portfolios = await admin`select name from portfolios where user_id = ${user!.id}`
  t.same(portfolios, [{ name: 'Main' }])
})

t.test('takes HALLPASS_PASSWORD, or generates a password and prints it once', async t => {
  const admin = adminSql(t)
  const fromEnv = uniqueEmail('cli-env')
  const generated = uniqueEmail('cli-gen')
  const [a, b] = await Promise.all([
    run(['--email', fromEnv], { HALLPASS_PASSWORD: GOOD_PASSWORD }),
    run(['--email', generated])
  ])
  t.equal(a.code, 0, a.stderr)
  t.equal(b.code, 0, b.stderr)
  const [ua] = await admin`select role, password_hash from users where email = ${fromEnv}`
  t.equal(ua!.role, 'user', 'without --admin the role is user')
  t.ok(await verifyPassword(ua!.password_hash, GOOD_PASSWORD))
  t.notMatch(a.stdout, /generated password/)

  const printed = /generated password \(shown once, store it now\): (\S+)/.exec(b.stdout)?.[1]
  t.ok(printed && printed.length >= 20, 'a long random password is printed')
  const [ub] = await admin`select password_hash from users where email = ${generated}`
  t.ok(await verifyPassword(ub!.password_hash, printed!), 'the printed password logs in')
})

t.test('a taken email is refused with exit 1 and changes nothing', async t => {
  const admin = adminSql(t)
  const email = uniqueEmail('cli-dup')
  t.equal((await run(['--email', email, '--password', GOOD_PASSWORD])).code, 0)
  const [before] = await admin`select password_hash from users where email = ${email}`
  const res = await run(['--email', email.toUpperCase(), '--password', 'another-long-passphrase-7', '--admin'])
  t.equal(res.code, 1)
  t.equal(res.stderr.trim(), `user:create: an account with this email already exists: ${email}`)
  const rows = await admin`select role, password_hash from users where email = ${email}`
  t.same(rows, [{ role: 'user', password_hash: before!.password_hash }], 'the existing user is untouched')
})

t.test('bad input exits 1 with one line and creates nothing', async t => {
  const admin = adminSql(t)
  const email = uniqueEmail('cli-bad')
  const cases: [string, string, RegExp][] = [
    ['a common password', 'qwerty123456', /too common/],
    ['an 11-char password', 'abcdefghijk', /12 to 256/],
    ['a 257-char password', 'x'.repeat(257), /12 to 256/],
    ['the email inside the password', `${email.split('@')[0]!.toUpperCase()}-2026`, /email/]
  ]
  const results = await Promise.all(cases.map(([, password]) => run(['--email', email, '--password', password])))
  results.forEach((res, i) => {
    const [name, , message] = cases[i]!
    t.equal(res.code, 1, name)
    t.match(res.stderr, message, name)
    t.equal(res.stderr.trim().split('\n').length, 1, `${name}: one line`)
    t.equal(res.stdout, '', `${name}: nothing on stdout`)
  })
  const made = await admin`select email from users where email = ${email}`
  t.same(made, [], 'no user was created')

  const others = await Promise.all([
    run(['--email', 'not-an-email', '--password', GOOD_PASSWORD]),
    run(['--password', GOOD_PASSWORD]),
    run(['--email', uniqueEmail('cli-opt'), '--password', GOOD_PASSWORD, '--role', 'admin'])
  ])
  t.match(others[0]!.stderr, /^user:create: not a valid email address/)
  t.match(others[1]!.stderr, /--email is required/)
  t.match(others[2]!.stderr, /Unknown option '--role'/)
  t.same(others.map(r => r.code), [1, 1, 1])
})
