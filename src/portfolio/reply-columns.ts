// The columns of the API's replies, written once for every select and returning clause that
// builds them: decimals as trimmed text, timestamps as UTC ISO text with microseconds (a JS
// Date would drop them and break the cursors). Fragments only: they name no table and run
// inside the caller's query, under its RLS context.
import type { ReadSql } from '../infra/db.js'

export function portfolioColumns (q: ReadSql) {
  return q`id, name, base_currency as "baseCurrency",
    to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "createdAt",
    to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "updatedAt"`
}

export function holdingColumns (q: ReadSql) {
  return q`id, portfolio_id as "portfolioId", symbol,
    trim_scale(quantity)::text as quantity, trim_scale(average_cost)::text as "averageCost",
    to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "createdAt",
    to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "updatedAt"`
}
