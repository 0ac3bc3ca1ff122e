// A source check: every SQL that names portfolios, holdings or transactions lives in
// src/portfolio/queries/*.ts (or the register transaction in src/auth/users.ts, which sets
// the context itself), runs on the connection handed in by db.asUser / db.readAsUser, and
// every call of those query functions sits in such a callback. RLS still fails closed if
// something slips past (no context, no rows); this catches the slip at review time.
// The check reads the TypeScript syntax tree, so comments never trip it; it is a guard
// against mistakes, not against someone set on hiding a table name.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join, posix, relative, sep } from 'node:path'
import ts from 'typescript'

interface Source { path: string; text: string }

const TABLE = '(portfolios|holdings|transactions)'
// SQL that reads or writes one of the tables, with or without schema and quotes
const SQL_ON_TABLE = new RegExp(`\\b(from|join|into|update|table|truncate|copy|lock|using)\\s+(only\\s+)?("?public"?\\s*\\.\\s*)?"?${TABLE}\\b`, 'i')
// a bare table name, e.g. for sql('portfolios') or string-built SQL
const TABLE_NAME = new RegExp(`^\\s*("?public"?\\.)?"?${TABLE}"?\\s*$`, 'i')
const QUERIES_FILE = /^src\/portfolio\/queries\/[a-z-]+\.ts$/
const REGISTER_FILE = 'src/auth/users.ts'
const CONTEXT_TYPES = new Set(['Tx', 'ReadSql'])
const CONTEXT_RUNNERS = new Set(['asUser', 'readAsUser'])
// the benchmark's plain query (no RLS context) lives in bench/: nothing in src/ may import from there
const BENCH_IMPORT = /(^|\/)bench\//

function walk (node: ts.Node, visit: (n: ts.Node) => void): void {
  visit(node)
  node.forEachChild(child => walk(child, visit))
}

const isFunction = (n: ts.Node): n is ts.FunctionLikeDeclaration =>
  ts.isFunctionDeclaration(n) || ts.isFunctionExpression(n) || ts.isArrowFunction(n) || ts.isMethodDeclaration(n)

function enclosingFunction (n: ts.Node): ts.FunctionLikeDeclaration | undefined {
  for (let p = n.parent; p; p = p.parent) if (isFunction(p)) return p
  return undefined
}

/** the function whose parameter `name` is, looking outwards from n */
function functionDeclaringParam (n: ts.Node, name: string): { fn: ts.FunctionLikeDeclaration; index: number } | undefined {
  for (let f = enclosingFunction(n); f; f = enclosingFunction(f)) {
    const index = f.parameters.findIndex(p => ts.isIdentifier(p.name) && p.name.text === name)
    if (index >= 0) return { fn: f, index }
  }
  return undefined
}

/** the literal text of a string or template (substitutions left out) */
function literalText (n: ts.Node): string | undefined {
  if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) return n.text
  if (ts.isTemplateExpression(n)) return [n.head.text, ...n.templateSpans.map(s => s.literal.text)].join(' ${} ')
  return undefined
}

export function violations (files: Source[]): string[] {
  const found: string[] = []
  const where = (file: Source, sf: ts.SourceFile, n: ts.Node): string => `${file.path}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`

  for (const file of files) {
    const sf = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS)
    const inQueries = QUERIES_FILE.test(file.path)
    const queryImports = new Set<string>()

    walk(sf, n => {
      // 1. SQL naming the tables: only tagged templates of a queries file (on a context
      //    connection) or the register transaction after its set_config
      const text = literalText(n)
      if (text !== undefined && (SQL_ON_TABLE.test(text) || TABLE_NAME.test(text))) {
        const tagged = n.parent && ts.isTaggedTemplateExpression(n.parent) ? n.parent : undefined
        const tag = tagged && ts.isIdentifier(tagged.tag) ? tagged.tag.text : undefined
        if (inQueries && tag) {
          const param = functionDeclaringParam(n, tag)
          const type = param?.fn.parameters[param.index]?.type?.getText(sf)
          if (!param || param.index !== 0 || !type || !CONTEXT_TYPES.has(type)) {
            found.push(`${where(file, sf, n)}: SQL on a table must be tagged with the function's first parameter typed Tx or ReadSql (got ${tag}: ${type ?? 'untyped'})`)
          }
        } else if (file.path === REGISTER_FILE && tag === 'tx') {
          const fn = enclosingFunction(n)
          const before = fn ? file.text.slice(fn.getStart(sf), n.getStart(sf)) : ''
          if (!/set_config\('app\.user_id'/.test(before)) found.push(`${where(file, sf, n)}: SQL on a table before the context is set`)
        } else {
          found.push(`${where(file, sf, n)}: SQL naming portfolios/holdings/transactions outside src/portfolio/queries/: ${text.trim().slice(0, 60)}`)
        }
      }

      // 2. a queries file takes its connection from the caller and never opens its own
      if (inQueries) {
        if (ts.isParameter(n) && n.type && /\b(Sql|Queryable|TransactionSql|any)\b/.test(n.type.getText(sf)) && !CONTEXT_TYPES.has(n.type.getText(sf))) {
          found.push(`${where(file, sf, n)}: a query function takes a Tx or a ReadSql, not ${n.type.getText(sf)}`)
        }
        if (ts.isPropertyAccessExpression(n) && ['unsafe', 'begin', 'reserve', 'file', 'db', 'sql'].includes(n.name.text)) {
          found.push(`${where(file, sf, n)}: .${n.name.text} in a queries file`)
        }
        if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier) && n.moduleSpecifier.text === 'postgres' && !n.importClause?.isTypeOnly) {
          found.push(`${where(file, sf, n)}: a queries file imports postgres itself`)
        }
      }

      // 3. src/ never reaches into bench/ (where the plain, context-free query lives)
      if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier) && BENCH_IMPORT.test(n.moduleSpecifier.text)) {
        found.push(`${where(file, sf, n)}: src/ imports from bench/ (${n.moduleSpecifier.text})`)
      }

      // 4. collect what this file imports from a queries module
      if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier) && /\/queries\/[a-z-]+\.js$/.test(n.moduleSpecifier.text) && n.importClause && !n.importClause.isTypeOnly) {
        const bindings = n.importClause.namedBindings
        if (bindings && ts.isNamespaceImport(bindings)) found.push(`${where(file, sf, n)}: import the query functions by name, not as a namespace`)
        if (bindings && ts.isNamedImports(bindings)) {
          for (const el of bindings.elements) if (!el.isTypeOnly) queryImports.add(el.name.text)
        }
        if (n.importClause.name) queryImports.add(n.importClause.name.text)
      }
    })

    // 5. every use of an imported query function: called inside a db.asUser/db.readAsUser
    //    callback, with that callback's connection as its first argument
    walk(sf, n => {
      if (!ts.isIdentifier(n) || !queryImports.has(n.text) || ts.isImportSpecifier(n.parent) || ts.isImportClause(n.parent)) return
      const call = n.parent
      if (!ts.isCallExpression(call) || call.expression !== n) {
        found.push(`${where(file, sf, n)}: ${n.text} used other than by a direct call`)
        return
      }
      const first = call.arguments[0]
      const param = first && ts.isIdentifier(first) ? functionDeclaringParam(call, first.text) : undefined
      const runner = param?.fn.parent
      const ok = param && param.index === 0 && (ts.isArrowFunction(param.fn) || ts.isFunctionExpression(param.fn)) &&
        runner && ts.isCallExpression(runner) && runner.arguments.includes(param.fn as ts.Expression) &&
        ts.isPropertyAccessExpression(runner.expression) && CONTEXT_RUNNERS.has(runner.expression.name.text)
      if (!ok) found.push(`${where(file, sf, n)}: ${n.text}(…) must get the connection of a db.asUser/db.readAsUser callback`)
    })
  }
  return found
}

function sources (dir: string, root: string): Source[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const full = join(dir, e.name)
    if (e.isDirectory()) return sources(full, root)
    if (!/\.(ts|mts|cts|js|mjs)$/.test(e.name) || e.name.endsWith('.d.ts')) return []
    return [{ path: relative(root, full).split(sep).join(posix.sep), text: readFileSync(full, 'utf8') }]
  })
}

const ROOT = fileURLToPath(new URL('..', import.meta.url))

t.test('src/ reaches the RLS tables only through asUser / readAsUser', async t => {
  const files = sources(join(ROOT, 'src'), ROOT)
  t.ok(files.some(f => f.path === 'src/portfolio/routes/portfolios.ts'), `${files.length} files read`)
  t.same(violations(files), [], 'no direct access')

  // the check is not vacuous: it did see the queries and their calls
  const queries = files.filter(f => QUERIES_FILE.test(f.path))
  t.ok(queries.length >= 3, queries.map(f => f.path).join(', '))
  const tableSql = queries.reduce((n, f) => n + (f.text.match(new RegExp(SQL_ON_TABLE.source, 'gi'))?.length ?? 0), 0)
  t.ok(tableSql >= 15, `${tableSql} SQL references to the tables checked`)
})

t.test('the check catches new direct queries', async t => {
  const route = (body: string, imports = ''): Source => ({
    path: 'src/portfolio/routes/new.ts',
    text: `${imports}\nexport const routes = async (app: any) => { app.get('/x', async (request: any) => { ${body} }) }`
  })
  const queries = (body: string): Source => ({ path: 'src/portfolio/queries/new.ts', text: `import type { Tx, ReadSql, Sql } from '../../infra/db.js'\n${body}` })
  const imp = "import { portfolioPage, createPortfolio } from '../queries/portfolios.js'"
  const bad: Array<[string, Source]> = [
    ['a tagged query on the pool', route('return app.db.sql`select * from portfolios`')],
    ['a query in another folder', { path: 'src/ops/report.ts', text: 'export const f = (sql: any) => sql`select count(*) from "public"."holdings"`' }],
    ['unsafe SQL text', route("return app.db.sql.unsafe('delete from transactions where id = $1', [request.params.id])")],
    ['a table name as an identifier', route("return app.db.sql`select * from ${app.db.sql('holdings')}`")], // eslint-disable-line no-template-curly-in-string -- source text for the check, not a template
    ['a fragment run on the pool', route('return portfolioPage(app.db.sql, { ownerId: request.auth.userId, after: null, take: 10 })', imp)],
    ['a unit of work in a bare transaction', route('return app.db.sql.begin((tx: any) => createPortfolio(tx, request.body))', imp)],
    ['a query function passed around', route('return app.db.asUser(request.auth, createPortfolio)', imp)],
    ['the bench query in a route', route('return listPortfoliosPlain(app.db.sql, request.auth.userId, 10)', "import { listPortfoliosPlain } from '../../../bench/peers/plain-portfolios.js'")],
    ['a plain query function back in src/', queries('export function listPortfoliosPlain (sql: Sql, userId: string, limit: number) { return portfolioPage(sql, { ownerId: userId, after: null, take: limit }) }')],
    ['a namespace import', route('return 1', "import * as pq from '../queries/portfolios.js'")],
    ['a query function on the plain pool', queries('export const leak = (sql: Sql) => sql`select * from portfolios`')],
    ['a second parameter as the tag', queries('export const leak = (q: ReadSql, sql: any) => sql`select * from holdings`')],
    ['an untyped tag', queries('export const leak = (q) => q`select * from holdings`')],
    ['a queries file reaching for the app', queries('export const leak = (tx: Tx, app: any) => app.db.sql`select 1`')],
    ['the register transaction before its context', { path: 'src/auth/users.ts', text: "export const f = (sql: any) => sql.begin(async (tx: any) => { await tx`insert into portfolios (user_id, name) values (1, 'x')`; await tx`select set_config('app.user_id', '1', true)` })" }]
  ]
  for (const [what, file] of bad) t.ok(violations([file]).length > 0, `caught: ${what}`)

  const good: Array<[string, Source]> = [
    ['a read in readAsUser', route('return app.db.readAsUser(actor, (q: any) => portfolioPage(q, { ownerId: "x", after: null, take: 10 }))', imp)],
    ['a write in asUser', route('return app.db.asUser(actor, async (tx: any) => { const p = await createPortfolio(tx, request.body); return p })', imp)],
    ['a fragment builder', queries('export const page = (q: ReadSql, id: string) => q`select * from portfolios where id = ${id}`')], // eslint-disable-line no-template-curly-in-string -- source text for the check, not a template
    ['a unit of work', queries('export async function del (tx: Tx, id: string) { return tx`delete from holdings where id = ${id}` }')], // eslint-disable-line no-template-curly-in-string -- source text for the check, not a template
    ['words in a comment or a message', route("// select * from portfolios\nthrow new Error('no portfolio found')")]
  ]
  for (const [what, file] of good) t.same(violations([file]), [], `allowed: ${what}`)
})
