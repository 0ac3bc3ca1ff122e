// Development only: a JWT secret kept in .data/ (git-ignored), so legacy tokens survive the
// restarts of `npm start` and `npm run dev` (tsx watch restarts on every save). Production
// never reads it: there JWT_ACCESS_SECRET is required (config.ts).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { Env } from './config.js'

const DEV_SECRET_FILE = 'dev-jwt-secret'

/**
 * `env` with JWT_ACCESS_SECRET read from (or first written to) `<dataDir>/dev-jwt-secret` when
 * NODE_ENV is development and no secret is set; otherwise `env` unchanged. `usedFile` says
 * whether the file's secret was taken.
 */
export function withDevelopmentSecret (env: Env, dataDir: string): { env: Env; usedFile: string | null } {
  if ((env.NODE_ENV ?? 'development') !== 'development' || env.JWT_ACCESS_SECRET?.trim()) return { env, usedFile: null }
  const file = join(dataDir, DEV_SECRET_FILE)
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  try {
    // 'wx': of two servers starting at once, one writes and the other reads what it wrote
    writeFileSync(file, randomBytes(48).toString('base64url') + '\n', { flag: 'wx', mode: 0o600 })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  const secret = readFileSync(file, 'utf8').trim()
  if (Buffer.byteLength(secret) < 32) return { env, usedFile: null } // a damaged file: config.ts generates one
  return { env: { ...env, JWT_ACCESS_SECRET: secret }, usedFile: file }
}
