// npm run legacy:report as the tests run it: against a schema of the test's own, whose
// refresh_tokens holds only that test's rows, so parallel test files cannot change the counts.
import { randomBytes } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import type { Test } from 'tap'
import { testEnv, TEST_DATABASE_URL, adminSql } from './helper.js'
import type { Env } from '../src/config/config.js'

/** a schema holding a copy of the user's refresh tokens, and a DATABASE_URL that reads it */
export async function ownSchema (t: Test, userId: string): Promise<{ url: string; appUrl: string; schema: string }> {
  const sql = adminSql(t)
  const schema = `legacy_report_${randomBytes(4).toString('hex')}`
  await sql.unsafe(`create schema ${schema}`)
  t.teardown(() => sql.unsafe(`drop schema ${schema} cascade`))
  await sql.unsafe(`create table ${schema}.refresh_tokens (like public.refresh_tokens including all)`)
  await sql.unsafe(`insert into ${schema}.refresh_tokens select * from public.refresh_tokens where user_id = $1`, [userId])
  await sql.unsafe(`grant usage on schema ${schema} to hallpass_app; grant select on ${schema}.refresh_tokens to hallpass_app`)
  const url = (path: string): string => {
    const u = new URL(TEST_DATABASE_URL)
    u.searchParams.set('search_path', path)
    return u.toString()
  }
  // the report needs only refresh_tokens; an app needs the rest of the schema too
  return { url: url(schema), appUrl: url(`${schema},public`), schema }
}

export function runReport (env: Env, json = true): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['--import=tsx', 'scripts/legacy-report.ts', ...(json ? ['--json'] : [])], {
    env: { ...process.env, ...testEnv(env) },
    encoding: 'utf8',
    timeout: 60_000
  })
}
