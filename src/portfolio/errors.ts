// Postgres errors that mean something particular on the portfolio routes. The app's error
// handler already turns any data exception into 400 INVALID_INPUT and any constraint clash into
// 409 CONFLICT; here only the answers that say more than that.
import { Errors } from '../core/errors.js'

/** the SQLSTATE of a postgres.js error, else undefined */
function sqlState (err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || (err as { name?: unknown }).name !== 'PostgresError') return undefined
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' ? code : undefined
}

/** a Postgres error as the portfolio error it means; anything else is returned unchanged */
export function translateDbError (err: unknown): unknown {
  const state = sqlState(err)
  if (state === undefined) return err
  // 23503: the portfolio went away (or was never the caller's) between check and write;
  // 42501: WITH CHECK refused a row: same answer as a missing one, so no existence oracle
  if (state === '23503' || state === '42501') return new Errors.NOT_FOUND('Portfolio')
  if (state === '23505') return new Errors.HOLDING_EXISTS()
  if (state === '22003' || state === '23514') return new Errors.VALUE_OUT_OF_RANGE()
  return err
}
