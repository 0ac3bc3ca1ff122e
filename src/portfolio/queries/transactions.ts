// Transactions (trades) and the holding they move, as one unit of work inside db.asUser:
// a buy adds to the holding and re-averages its cost, a sell takes from it, and the trade
// row is written in the same transaction, so either both change or neither does.
import type { ReadSql, Tx } from '../../infra/db.js'
import { Errors } from '../../core/errors.js'
import type { TimeKey } from '../cursor.js'
import { holdingColumns } from '../reply-columns.js'
import type { Holding, Transaction, TransactionInput } from '../schemas.js'

export interface TransactionPageRow {
  portfolioId: string
  transaction: Transaction | null
}

/** a page of a portfolio's trades, newest first; no row when the portfolio is not visible */
export function transactionPage (q: ReadSql, portfolioId: string, after: TimeKey | null, take: number) {
  return q<TransactionPageRow[]>`
    select p.id as "portfolioId",
           case when t.id is null then null else json_build_object(
             'id', t.id, 'portfolioId', t.portfolio_id, 'symbol', t.symbol, 'side', t.side,
             'quantity', trim_scale(t.quantity)::text, 'price', trim_scale(t.price)::text, 'fee', trim_scale(t.fee)::text,
             'executedAt', to_char(t.executed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')) end as transaction
    from portfolios p
    left join (
      select * from transactions
      where portfolio_id = ${portfolioId}::uuid
        ${after ? q`and (executed_at, id) < (${after.at}::text::timestamptz, ${after.id}::uuid)` : q``}
      order by executed_at desc, id desc
      limit ${take}
    ) t on true
    where p.id = ${portfolioId}::uuid
    order by t.executed_at desc, t.id desc`
}

// Buy: insert the holding or add to it. The upsert takes the row lock, so concurrent buys of
// one symbol queue up and each re-averages the latest row:
//   average_cost = (q_held × avg_held + q_bought × price) / (q_held + q_bought), rounded to 8 places
async function addToHolding (tx: Tx, portfolioId: string, symbol: string, quantity: string, price: string): Promise<Holding | null> {
  const [row] = await tx<Holding[]>`
    insert into holdings as h (user_id, portfolio_id, symbol, quantity, average_cost)
    select p.user_id, p.id, ${symbol}::text, ${quantity}::numeric, ${price}::numeric
    from portfolios p
    where p.id = ${portfolioId}::uuid
    on conflict (portfolio_id, symbol) do update
      set quantity = h.quantity + excluded.quantity,
          average_cost = round((h.quantity * h.average_cost + excluded.quantity * excluded.average_cost) / (h.quantity + excluded.quantity), 8),
          updated_at = now()
    returning ${holdingColumns(tx)}`
  return row ?? null
}

// Sell: one conditional update. Concurrent sells wait for the row lock and re-check
// `quantity >= $q` against the latest row, so the quantity can never go below zero.
async function takeFromHolding (tx: Tx, portfolioId: string, symbol: string, quantity: string): Promise<Holding | null> {
  const [row] = await tx<Holding[]>`
    update holdings
    set quantity = quantity - ${quantity}::numeric, updated_at = now()
    where portfolio_id = ${portfolioId}::uuid and symbol = ${symbol}::text and quantity >= ${quantity}::numeric
    returning ${holdingColumns(tx)}`
  return row ?? null
}

async function portfolioVisible (tx: Tx, portfolioId: string): Promise<boolean> {
  const rows = await tx`select 1 from portfolios where id = ${portfolioId}::uuid`
  return rows.length > 0
}

async function insertTransaction (tx: Tx, portfolioId: string, input: TransactionInput): Promise<Transaction> {
  const [row] = await tx<Transaction[]>`
    insert into transactions (user_id, portfolio_id, symbol, side, quantity, price, fee)
    select p.user_id, p.id, ${input.symbol}::text, ${input.side}::text, ${input.quantity}::numeric, ${input.price}::numeric, ${input.fee ?? '0'}::numeric
    from portfolios p
    where p.id = ${portfolioId}::uuid
    returning id, portfolio_id as "portfolioId", symbol, side,
              trim_scale(quantity)::text as quantity, trim_scale(price)::text as price, trim_scale(fee)::text as fee,
              to_char(executed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "executedAt"`
  return row!
}

/**
 * Records a buy or a sell and moves the holding, all inside the caller's asUser transaction.
 * Throws NOT_FOUND when the portfolio is not the caller's and INSUFFICIENT_QUANTITY when a
 * sell exceeds the holding; the throw rolls the transaction back, so nothing is changed.
 */
export async function recordTrade (tx: Tx, portfolioId: string, input: TransactionInput): Promise<{ transaction: Transaction; holding: Holding }> {
  const holding = input.side === 'buy'
    ? await addToHolding(tx, portfolioId, input.symbol, input.quantity, input.price)
    : await takeFromHolding(tx, portfolioId, input.symbol, input.quantity)
  if (!holding) {
    if (!(await portfolioVisible(tx, portfolioId))) throw new Errors.NOT_FOUND('Portfolio')
    throw new Errors.INSUFFICIENT_QUANTITY()
  }
  const transaction = await insertTransaction(tx, portfolioId, input)
  return { transaction, holding }
}
