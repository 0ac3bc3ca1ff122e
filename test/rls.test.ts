// Row Level Security as the app role, in plain SQL and through asUser.
import type { Test } from 'tap'
import t from 'tap'
import { randomUUID } from 'node:crypto'
import type postgres from 'postgres'
import { createDb } from '../src/infra/db.js'
import { adminSql, appSql, uniqueEmail } from './helper.js'

interface Fixture { a: string; b: string; pa: string; pb: string }

// users made as the admin; each user's portfolio inserted as the app role under its own context
async function fixture (t: Test, app: postgres.Sql): Promise<Fixture> {
  const admin = adminSql(t)
  const [a] = await admin<{ id: string }[]>`insert into users (email, password_hash) values (${uniqueEmail('rls-a')}, 'x') returning id`
  const [b] = await admin<{ id: string }[]>`insert into users (email, password_hash) values (${uniqueEmail('rls-b')}, 'x') returning id`
  const insertAs = async (userId: string): Promise<string> => {
    const rows = await app.begin(async tx => {
      await tx`select set_config('app.user_id', ${userId}, true)`
      return tx<{ id: string }[]>`insert into portfolios (user_id, name) values (${userId}, 'mine') returning id`
    })
    return rows[0]!.id
  }
  return { a: a!.id, b: b!.id, pa: await insertAs(a!.id), pb: await insertAs(b!.id) }
}

const asCtx = <T>(sql: postgres.Sql, ctx: string, fn: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> =>
  sql.begin(async tx => {
    await tx`select set_config('app.user_id', ${ctx}, true)`
    return fn(tx)
  }) as Promise<T>

t.test('each user sees only their own rows; no or forged context sees none', async t => {
  const app = appSql(t)
  const f = await fixture(t, app)

  const seenBy = (ctx: string) => asCtx(app, ctx, tx => tx<{ id: string }[]>`select id from portfolios where id in (${f.pa}, ${f.pb})`)
  t.same((await seenBy(f.a)).map(r => r.id), [f.pa])
  t.same((await seenBy(f.b)).map(r => r.id), [f.pb])
  t.same(await app`select id from portfolios where id in (${f.pa}, ${f.pb})`, [], 'no context: zero rows')
  for (const forged of ['', 'not-a-uuid', `${f.a}' or '1'='1`, `${f.a},${f.b}`, randomUUID(), ' ' + f.a]) {
    t.same(await seenBy(forged), [], `forged context ${JSON.stringify(forged)}: zero rows, no error`)
  }
})

t.test('writes on another user\'s rows touch nothing; inserts for them are refused', async t => {
  const app = appSql(t)
  const f = await fixture(t, app)

  const updated = await asCtx(app, f.a, tx => tx`update portfolios set name = 'pwned' where id = ${f.pb}`)
  t.equal(updated.count, 0, 'UPDATE of another user\'s row: 0 rows')
  const deleted = await asCtx(app, f.a, tx => tx`delete from portfolios where id = ${f.pb}`)
  t.equal(deleted.count, 0, 'DELETE of another user\'s row: 0 rows')
  const moved = await asCtx(app, f.a, tx => tx`update portfolios set user_id = ${f.b} where id = ${f.pa}`).catch((e: { code: string }) => e.code)
  t.equal(moved, '42501', 'handing one\'s row to another user is refused by WITH CHECK')
  const inserted = await asCtx(app, f.a, tx => tx`insert into portfolios (user_id, name) values (${f.b}, 'planted')`).catch((e: { code: string }) => e.code)
  t.equal(inserted, '42501', 'INSERT with another user\'s user_id is refused')
  const noCtx = await app`insert into portfolios (user_id, name) values (${f.a}, 'no context')`.catch((e: { code: string }) => e.code)
  t.equal(noCtx, '42501', 'INSERT without context is refused')

  const admin = adminSql(t)
  const [pb] = await admin`select name, user_id from portfolios where id = ${f.pb}`
  t.same(pb, { name: 'mine', user_id: f.b }, 'b\'s row is untouched')
  const planted = await admin`select 1 from portfolios where name in ('planted', 'no context') and user_id in (${f.a}, ${f.b})`
  t.equal(planted.length, 0)
})

t.test('an admin context reads all rows but writes only its own', async t => {
  const app = appSql(t)
  const f = await fixture(t, app)
  const rows = await app.begin(async tx => {
    await tx`select set_config('app.user_id', ${f.a}, true), set_config('app.role', 'admin', true)`
    return tx`select id from portfolios where id in (${f.pa}, ${f.pb})`
  })
  t.equal(rows.length, 2)
  const updated = await app.begin(async tx => {
    await tx`select set_config('app.user_id', ${f.a}, true), set_config('app.role', 'admin', true)`
    return tx`update portfolios set name = 'admin edit' where id = ${f.pb}`
  })
  t.equal(updated.count, 0)
  const roleOnly = await app.begin(async tx => {
    await tx`select set_config('app.role', 'admin', true)`
    return tx`select id from portfolios where id in (${f.pa}, ${f.pb})`
  })
  t.equal(roleOnly.length, 0, 'app.role=admin without a user id sees nothing')
})

t.test('app.test_rls_isolation() holds for the app role and leaves nothing behind', async t => {
  const app = appSql(t)
  const admin = adminSql(t)
  const [res] = await app`select app.test_rls_isolation() as ok`
  t.equal(res!.ok, true)
  const [after] = await admin`select count(*)::int as n from users where email like 'rls-check-%'`
  t.equal(after!.n, 0, 'its throwaway users were rolled back')
  const [asSuper] = await admin`select app.test_rls_isolation() as ok`
  t.equal(asSuper!.ok, false, 'false for a role that bypasses RLS')
})

t.test('asUser: context first, same connection never leaks it, an error leaves nothing', async t => {
  const sql = appSql(t, 1) // one connection, so every query reuses it
  const db = createDb(sql)
  const f = await fixture(t, sql)

  const mine = await db.asUser({ userId: f.a, role: 'user' }, tx => tx`select id, current_setting('app.user_id', true) as ctx from portfolios where id in (${f.pa}, ${f.pb})`)
  t.same(mine, [{ id: f.pa, ctx: f.a }])

  const [after] = await sql`select current_setting('app.user_id', true) as ctx, (select count(*)::int from portfolios where id in (${f.pa}, ${f.pb})) as n`
  t.same(after, { ctx: '', n: 0 }, 'the next query on that connection carries no user')

  await t.rejects(db.asUser({ userId: f.a, role: 'user' }, async tx => {
    await tx`update portfolios set name = 'half done' where id = ${f.pa}`
    throw new Error('handler failed')
  }), /handler failed/)
  const [row] = await sql.begin(async tx => {
    await tx`select set_config('app.user_id', ${f.a}, true)`
    return tx`select name from portfolios where id = ${f.pa}`
  })
  t.equal(row!.name, 'mine', 'the failed unit of work rolled back')
  const [leftover] = await sql`select current_setting('app.user_id', true) as ctx`
  t.equal(leftover!.ctx, '', 'no context left behind after the error')

  await t.rejects(db.asUser({ userId: 'not-a-uuid', role: 'user' }, tx => tx`insert into portfolios (user_id, name) values (${f.a}, 'x')`), { code: '42501' }, 'a malformed actor cannot write')
})

t.test('app.current_user_id() is inlined into the statement and answers a uuid or NULL, never an error', async t => {
  const app = appSql(t)
  // inlined: the plan shows the setting read itself, not a call of the SQL function (which
  // would run the function executor, and plan its body, on every statement)
  const plan = (await app.unsafe('explain (verbose) select (select app.current_user_id())')).map(r => String(r['QUERY PLAN'])).join('\n')
  t.match(plan, /current_setting\('app\.user_id'::text, true\)/, 'the plan reads the setting directly')
  t.notMatch(plan, /app\.current_user_id\(\)/, 'and calls no function')
  const id = randomUUID()
  const cases: [string, string | null][] = [[id, id], [id.toUpperCase(), id], ['', null], ['not-a-uuid', null], [` ${id}`, null], [`{${id}}`, null], [`urn:uuid:${id}`, null], [`${id}\n`, null]]
  for (const [setting, expected] of cases) {
    const [row] = await app.begin(async tx => tx<{ uid: string | null }[]>`select set_config('app.user_id', ${setting}, true), app.current_user_id() as uid`)
    t.equal(row!.uid, expected, `${JSON.stringify(setting)} → ${String(expected)}`)
  }
  const [unset] = await app<{ uid: string | null }[]>`select app.current_user_id() as uid`
  t.equal(unset!.uid, null, 'no setting → NULL')
})
