// Error codes of the portfolio API, and the translation of Postgres errors into them: a
// constraint or cast error must answer 4xx with our code, never 500 with the query's detail.
import createError from '@fastify/error'
import { Errors } from '../core/errors.js'

export const PortfolioErrors = {
  INSUFFICIENT_QUANTITY: createError('INSUFFICIENT_QUANTITY', 'Cannot sell more than the holding\'s quantity', 422),
  HOLDING_EXISTS: createError('HOLDING_EXISTS', 'This portfolio already holds that symbol', 409),
  INVALID_CURSOR: createError('INVALID_CURSOR', 'The cursor is not one this list handed out', 400),
  VALUE_OUT_OF_RANGE: createError('VALUE_OUT_OF_RANGE', 'A resulting amount is out of range (at most 20 digits before the point)', 422),
  INVALID_INPUT: createError('INVALID_INPUT', 'A value has an invalid form', 400),
  EMPTY_UPDATE: createError('EMPTY_UPDATE', 'Nothing to update: send at least one field', 400)
} as const

/** the SQLSTATE of a postgres.js error, else undefined */
function sqlState (err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || (err as { name?: unknown }).name !== 'PostgresError') return undefined
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' ? code : undefined
}

/** a Postgres error as the API error it means; anything else is returned unchanged */
export function translateDbError (err: unknown): unknown {
  const state = sqlState(err)
  if (state === undefined) return err
  // 23503: the portfolio went away (or was never the caller's) between check and write;
  // 42501: WITH CHECK refused a row: same answer as a missing one, so no existence oracle
  if (state === '23503' || state === '42501') return new Errors.NOT_FOUND('Portfolio')
  if (state === '23505') return new PortfolioErrors.HOLDING_EXISTS()
  if (state === '22003' || state === '23514') return new PortfolioErrors.VALUE_OUT_OF_RANGE()
  // any other data exception (22P02 bad uuid, 22007/22008 bad timestamp, 22021 bad bytes …)
  if (state.startsWith('22')) return new PortfolioErrors.INVALID_INPUT()
  return err
}
