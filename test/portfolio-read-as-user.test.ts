// db.readAsUser: one statement that sets its own RLS context. Rows come back for the owner
// (so the context was set before the policies read it), none for anyone else, and the next
// query on the same connection, pipelined or not, sees no context at all.
import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import postgres from 'postgres'
import { createDb, withUserContext, type DbActor } from '../src/infra/db.js'
import { portfolioPage } from '../src/portfolio/queries/portfolios.js'
import { TEST_DATABASE_URL, adminSql, appSql, uniqueEmail } from './helper.js'

interface Fixture { a: string; b: string; pa: string[]; pb: string[] }

// two users with three portfolios each, written as the schema owner
async function fixture (t: Test): Promise<Fixture> {
  const admin = adminSql(t)
  const users = await admin<{ id: string }[]>`insert into users (email, password_hash) values (${uniqueEmail('rau-a')}, 'x'), (${uniqueEmail('rau-b')}, 'x') returning id`
  const [a, b] = users.map(u => u.id) as [string, string]
  const make = async (userId: string): Promise<string[]> => (await admin<{ id: string }[]>`
    insert into portfolios (user_id, name) select ${userId}, 'p' || g from generate_series(1, 3) g returning id`).map(r => r.id)
  return { a, b, pa: await make(a), pb: await make(b) }
}

const user = (userId: string): DbActor => ({ userId, role: 'user' })
const ids = (rows: readonly { id: string }[]): string[] => rows.map(r => r.id).sort()
const mine = (q: postgres.Sql, f: Fixture) => q<{ id: string; ctx: string }[]>`
  select id, current_setting('app.user_id', true) as ctx from portfolios where id in ${q([...f.pa, ...f.pb])}`

t.test('the owner gets their rows, others and a forged context get none', async t => {
  const db = createDb(appSql(t, 1))
  const f = await fixture(t)
  const asA = await db.readAsUser(user(f.a), q => mine(q, f))
  t.same(ids(asA), [...f.pa].sort(), 'the context was set before the policy read it')
  t.ok(asA.every(r => r.ctx === f.a), 'inside the statement the context is the actor')
  t.same(ids(await db.readAsUser(user(f.b), q => mine(q, f))), [...f.pb].sort())
  for (const forged of ['', 'not-a-uuid', `${f.a}' or '1'='1`, randomUUID(), `${f.a},${f.b}`]) {
    t.same(await db.readAsUser(user(forged), q => mine(q, f)), [], `forged ${JSON.stringify(forged)}: zero rows, no error`)
  }
  const admin = await db.readAsUser({ userId: f.a, role: 'admin' }, q => mine(q, f))
  t.equal(admin.length, 6, 'role admin reads every row under the admin policy')
  t.same(await db.readAsUser({ userId: '', role: 'admin' }, q => mine(q, f)), [], 'admin without a user id reads nothing')
})

t.test('the next query on the same connection carries no context', async t => {
  const sql = appSql(t, 1) // one connection: every query below reuses it
  const db = createDb(sql)
  const f = await fixture(t)
  const probe = () => sql`select current_setting('app.user_id', true) as uid, current_setting('app.role', true) as role,
    (select count(*)::int from portfolios where id in ${sql([...f.pa, ...f.pb])}) as n`

  await db.readAsUser({ userId: f.a, role: 'admin' }, q => mine(q, f))
  t.same(await probe(), [{ uid: '', role: '', n: 0 }], 'after an awaited read')

  // pipelined on the one connection: each statement is its own implicit transaction
  const [r1, p1, r2, p2] = await Promise.all([
    db.readAsUser(user(f.a), q => mine(q, f)), probe(), db.readAsUser(user(f.b), q => mine(q, f)), probe()
  ])
  t.equal(r1.length, 3)
  t.same(p1, [{ uid: '', role: '', n: 0 }], 'pipelined right behind a read')
  t.equal(r2.length, 3)
  t.same(p2, [{ uid: '', role: '', n: 0 }])

  // a statement that fails after setting the context leaves nothing either
  await t.rejects(db.readAsUser(user(f.a), q => q`select id, 1 / (count(*) over () - 3) as boom from portfolios where id in ${q(f.pa)}`), { code: '22012' })
  t.same(await probe(), [{ uid: '', role: '', n: 0 }], 'after a failed read')
})

t.test('custom and generic plans alike set the context before the scan', async t => {
  const f = await fixture(t)
  for (const mode of ['force_custom_plan', 'force_generic_plan']) {
    const sql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {}, connection: { plan_cache_mode: mode } })
    t.teardown(() => sql.end({ timeout: 5 }))
    const db = createDb(sql)
    for (let i = 0; i < 8; i++) { // the same prepared statement, again and again
      const page = await db.readAsUser(user(i % 2 ? f.a : f.b), q => portfolioPage(q, { ownerId: i % 2 ? f.a : f.b, after: null, take: 10 }))
      t.equal(page.length, 3, `${mode} #${i}`)
    }
    t.same(await db.readAsUser(user(f.a), q => portfolioPage(q, { ownerId: f.b, after: null, take: 10 })), [], `${mode}: asking for b's rows as a gets none`)
  }
})

t.test('EXPLAIN: the context CTE is the outer side and the policy scan runs inside it', async t => {
  const sql = appSql(t, 1)
  const f = await fixture(t)
  const statement = withUserContext(sql, user(f.a), portfolioPage(sql, { ownerId: f.a, after: null, take: 10 }))
  const [row] = await sql`explain (analyze, costs off, timing off, summary off, format json) ${statement}`
  const plan = (row!['QUERY PLAN'] as Array<{ Plan: PlanNode }>)[0]!.Plan
  t.equal(plan['Node Type'], 'Nested Loop')
  const [outer, inner] = plan.Plans!.filter(p => p['Parent Relationship'] !== 'InitPlan' && p['Subplan Name'] === undefined)
  t.match(outer, { 'Parent Relationship': 'Outer', 'Node Type': 'CTE Scan', 'CTE Name': 'ctx', 'Actual Rows': 1 }, 'the context row comes first')
  t.match(inner, { 'Parent Relationship': 'Inner' })
  const scans = nodes(inner!).filter(n => n['Relation Name'] === 'portfolios')
  t.equal(scans.length, 1, 'portfolios is scanned on the inner side, after the context row')
  t.equal(scans[0]!['Actual Rows'], 3, 'and its policy saw the actor: all three rows')
  const policyPlans = nodes(inner!).filter(n => n['Parent Relationship'] === 'InitPlan')
  t.ok(policyPlans.length >= 1, 'the policy\'s (select app.current_user_id()) is an InitPlan on the inner side')
  t.same(plan.Plans!.filter(p => p['Parent Relationship'] === 'InitPlan').map(p => p['Subplan Name']), ['CTE ctx'], 'the only InitPlan above the join is the context itself')
})

interface PlanNode {
  'Node Type': string
  'Parent Relationship'?: string
  'Subplan Name'?: string
  'Relation Name'?: string
  'CTE Name'?: string
  'Actual Rows'?: number
  Plans?: PlanNode[]
}

function nodes (n: PlanNode): PlanNode[] {
  return [n, ...(n.Plans ?? []).flatMap(nodes)]
}
