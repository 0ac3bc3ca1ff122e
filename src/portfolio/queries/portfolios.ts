// Portfolios. Reads are fragments for db.readAsUser (one statement that sets its own RLS
// context); writes take the transaction of db.asUser. Every function takes the connection
// first, and nothing here runs without a context.
// Lists filter by user_id as well as the policy: the policies are OR-ed (owner OR admin),
// which Postgres cannot use as an index condition, while `user_id = $1` walks
// portfolios_user_id_idx (user_id, created_at, id) in page order.
// Timestamps leave as UTC ISO text with microseconds: a JS Date would drop them and break
// the (created_at, id) cursor. For the same reason a cursor's timestamp goes in as
// `$n::text::timestamptz`: a parameter Postgres sees as timestamptz is serialized by
// postgres.js through new Date(), which cuts it to milliseconds and repeats rows.
import type { ReadSql, Tx } from '../../infra/db.js'
import type { TimeKey } from '../cursor.js'
import type { Portfolio } from '../schemas.js'
import { portfolioColumns } from '../reply-columns.js'

export interface PortfolioPageArgs {
  ownerId: string
  after: TimeKey | null
  /** rows to fetch: the page size + 1 */
  take: number
}

/** a page of one user's portfolios, oldest first */
export function portfolioPage (q: ReadSql, { ownerId, after, take }: PortfolioPageArgs) {
  return q<Portfolio[]>`
    select ${portfolioColumns(q)}
    from portfolios
    where user_id = ${ownerId}::uuid
      ${after ? q`and (created_at, id) > (${after.at}::text::timestamptz, ${after.id}::uuid)` : q``}
    order by created_at, id
    limit ${take}`
}

export function portfolioById (q: ReadSql, id: string) {
  return q<Portfolio[]>`
    select ${portfolioColumns(q)}
    from portfolios
    where id = ${id}::uuid`
}

export async function createPortfolio (tx: Tx, input: { name: string; baseCurrency?: string | undefined }): Promise<Portfolio> {
  // the owner is the context's user, so the row always passes WITH CHECK
  const [row] = await tx<Portfolio[]>`
    insert into portfolios (user_id, name, base_currency)
    values (app.current_user_id(), ${input.name}, ${input.baseCurrency ?? 'USD'})
    returning ${portfolioColumns(tx)}`
  return row!
}

/** null when the portfolio is not the caller's (or does not exist) */
export async function updatePortfolio (tx: Tx, id: string, input: { name?: string | undefined; baseCurrency?: string | undefined }): Promise<Portfolio | null> {
  const [row] = await tx<Portfolio[]>`
    update portfolios
    set name = coalesce(${input.name ?? null}::text, name),
        base_currency = coalesce(${input.baseCurrency ?? null}::text, base_currency),
        updated_at = now()
    where id = ${id}::uuid
    returning ${portfolioColumns(tx)}`
  return row ?? null
}

/** false when the portfolio is not the caller's; its holdings and transactions go with it */
export async function deletePortfolio (tx: Tx, id: string): Promise<boolean> {
  const rows = await tx`delete from portfolios where id = ${id}::uuid returning id`
  return rows.length > 0
}
