// Holdings: one row per (portfolio, symbol). Reads are fragments for db.readAsUser, writes
// take the transaction of db.asUser (see portfolio-queries.ts). Quantities and costs are
// numeric(28, 8) and leave as trimmed decimal text ('10', '110.5'), never as JS numbers.
import type { ReadSql, Tx } from '../../infra/db.js'
import type { Holding } from '../schemas.js'
import { holdingColumns } from '../reply-columns.js'

export interface HoldingPageRow {
  portfolioId: string
  holding: Holding | null
}

/**
 * A page of a portfolio's holdings by symbol. The portfolio is the driving row, so an empty
 * page (one row, no holding) and a portfolio that is not the caller's (no row) differ, in
 * one statement.
 */
export function holdingPage (q: ReadSql, portfolioId: string, after: string | null, take: number) {
  return q<HoldingPageRow[]>`
    select p.id as "portfolioId",
           case when h.id is null then null else json_build_object(
             'id', h.id, 'portfolioId', h.portfolio_id, 'symbol', h.symbol,
             'quantity', trim_scale(h.quantity)::text, 'averageCost', trim_scale(h.average_cost)::text,
             'createdAt', to_char(h.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
             'updatedAt', to_char(h.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')) end as holding
    from portfolios p
    left join (
      select * from holdings
      where portfolio_id = ${portfolioId}::uuid ${after ? q`and symbol > ${after}::text` : q``}
      order by symbol
      limit ${take}
    ) h on true
    where p.id = ${portfolioId}::uuid
    order by h.symbol`
}

/**
 * null when the portfolio is not the caller's; a symbol it already holds raises 23505
 * (unique (portfolio_id, symbol)), answered as HOLDING_EXISTS
 */
export async function createHolding (tx: Tx, portfolioId: string, input: { symbol: string; quantity?: string | undefined; averageCost?: string | undefined }): Promise<Holding | null> {
  const [row] = await tx<Holding[]>`
    insert into holdings (user_id, portfolio_id, symbol, quantity, average_cost)
    select p.user_id, p.id, ${input.symbol}::text, ${input.quantity ?? '0'}::numeric, ${input.averageCost ?? '0'}::numeric
    from portfolios p
    where p.id = ${portfolioId}::uuid
    returning ${holdingColumns(tx)}`
  return row ?? null
}

/** a manual correction of quantity and/or average cost; null when not the caller's */
export async function updateHolding (tx: Tx, id: string, input: { quantity?: string | undefined; averageCost?: string | undefined }): Promise<Holding | null> {
  const [row] = await tx<Holding[]>`
    update holdings
    set quantity = coalesce(${input.quantity ?? null}::numeric, quantity),
        average_cost = coalesce(${input.averageCost ?? null}::numeric, average_cost),
        updated_at = now()
    where id = ${id}::uuid
    returning ${holdingColumns(tx)}`
  return row ?? null
}

export async function deleteHolding (tx: Tx, id: string): Promise<boolean> {
  const rows = await tx`delete from holdings where id = ${id}::uuid returning id`
  return rows.length > 0
}
