// npm run user:create -- --email a@b.c [--password …] [--admin]: creates a user (argon2id hash)
// and their 'Main' portfolio in one transaction, as the schema owner (DATABASE_ADMIN_URL).
// Without --password it takes HALLPASS_PASSWORD, else generates one and prints it once; a
// password given on the command line stays in shell history and `ps`, so prefer the variable.
// The same rules as registration apply (password-policy.ts). Exit 1 with one line on any error.
import { randomBytes } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { EnvSchema } from '../src/config/config.js'
import { hashPassword } from '../src/auth/passwords/hash.js'
import { passwordProblem } from '../src/auth/passwords/policy.js'
import { createUserWithPortfolio, EmailTakenError, type PublicUser } from '../src/auth/users.js'
import type { Role } from '../src/auth/context.js'

/** a refusal to show the operator as it is (bad input, taken email) */
export class UserCreateError extends Error {}

const EMAIL = /^[^\s@\p{Cc}]{1,64}@[^\s@.\p{Cc}]+(\.[^\s@.\p{Cc}]+)+$/u

/** trimmed and lower-cased, as the users table requires; throws when it is no address */
export function normalizeEmail (raw: string): string {
  const email = raw.trim().toLowerCase()
  if (email.length > 254 || !EMAIL.test(email)) throw new UserCreateError(`not a valid email address: ${JSON.stringify(raw)}`)
  return email
}

export interface NewUser {
  email: string
  password: string
  role: Role
}

export async function createUser (adminUrl: string, input: NewUser): Promise<PublicUser> {
  const email = normalizeEmail(input.email)
  if (input.role !== 'user' && input.role !== 'admin') throw new UserCreateError(`unknown role: ${String(input.role)}`)
  const problem = passwordProblem(input.password, email)
  if (problem) throw new UserCreateError(problem) // never echoes the password itself
  const passwordHash = await hashPassword(input.password)
  const sql = postgres(adminUrl, { max: 1, connect_timeout: 10, onnotice: () => {} })
  try {
    return await createUserWithPortfolio(sql, email, passwordHash, input.role)
  } catch (err) {
    if (err instanceof EmailTakenError) throw new UserCreateError(`an account with this email already exists: ${email}`)
    throw err
  } finally {
    await sql.end({ timeout: 5 })
  }
}

const USAGE = 'usage: npm run user:create -- --email <address> [--password <password>] [--admin]'

/** the CLI: returns the exit code; output goes to stdout, the one-line error to stderr */
export async function main (args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  try {
    const { values } = parseArgs({
      args,
      options: {
        email: { type: 'string' },
        password: { type: 'string' },
        admin: { type: 'boolean', default: false }
      },
      strict: true,
      allowPositionals: false
    })
    if (!values.email) throw new UserCreateError(`--email is required (${USAGE})`)
    let password = values.password ?? (env.HALLPASS_PASSWORD || undefined)
    const generated = password === undefined
    if (password === undefined) password = randomBytes(18).toString('base64url') // 144 bits
    const adminUrl = env.DATABASE_ADMIN_URL?.trim() || EnvSchema.properties.DATABASE_ADMIN_URL.default

    const user = await createUser(adminUrl, { email: values.email, password, role: values.admin ? 'admin' : 'user' })
    console.log(`created user id=${user.id} email=${user.email} role=${user.role}`)
    if (generated) console.log(`generated password (shown once, store it now): ${password}`)
    return 0
  } catch (err) {
    // parseArgs and the driver throw plain errors with a readable first line; neither carries the URL
    const message = (err as Error).message?.split('\n', 1)[0] ?? String(err)
    console.error(`user:create: ${message}`)
    return 1
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2), process.env)
}
