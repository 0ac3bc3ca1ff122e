// TypeBox schemas of the portfolio API: request validation, response serialization, OpenAPI.
// Money and quantities are exact decimals carried as strings; Postgres does the arithmetic.
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyRequest } from 'fastify'
import { UuidSchema } from '../core/schemas.js'

// numeric(28, 8): up to 20 digits before the point and 8 after
const DECIMAL = '\\d{1,20}(\\.\\d{1,8})?'
export const DecimalSchema = Type.String({ pattern: `^${DECIMAL}$`, description: 'an exact decimal ≥ 0 as a string, e.g. "12.5" (at most 20 digits before the point, 8 after)', examples: ['12.5'] })
export const PositiveDecimalSchema = Type.String({ pattern: `^(?=[0-9.]*[1-9])${DECIMAL}$`, description: 'an exact decimal > 0 as a string, e.g. "0.25"', examples: ['0.25'] })

export const SymbolSchema = Type.String({ pattern: '^[A-Z][A-Z0-9.\\-]{0,14}$', description: 'trimmed and upper-cased before validation, e.g. "BRK.B"' })
// no control characters (Postgres text cannot even hold NUL) and not only spaces
const NameSchema = Type.String({ minLength: 1, maxLength: 100, pattern: '^(?=.*\\S)[^\\u0000-\\u001f\\u007f]+$' })
const CurrencySchema = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code' })
const Timestamp = Type.String({ format: 'date-time' })
const Nullable = <T extends ReturnType<typeof Type.String>>(s: T) => Type.Union([s, Type.Null()])

export const PageQuerySchema = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, pattern: '^[A-Za-z0-9_-]+$', description: 'nextCursor of the previous page' }))
}, { additionalProperties: false })

const pageOf = <T extends ReturnType<typeof Type.Object>>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Nullable(Type.String()) })

export const PortfolioSchema = Type.Object({
  id: UuidSchema(),
  name: Type.String(),
  baseCurrency: Type.String(),
  createdAt: Timestamp,
  updatedAt: Timestamp
})
export type Portfolio = Static<typeof PortfolioSchema>
export const PortfolioPageSchema = pageOf(PortfolioSchema)

export const PortfolioCreateSchema = Type.Object({
  name: NameSchema,
  baseCurrency: Type.Optional(CurrencySchema)
}, { additionalProperties: false })

export const PortfolioUpdateSchema = Type.Object({
  name: Type.Optional(NameSchema),
  baseCurrency: Type.Optional(CurrencySchema)
}, { additionalProperties: false, minProperties: 1 })

export const HoldingSchema = Type.Object({
  id: UuidSchema(),
  portfolioId: UuidSchema(),
  symbol: Type.String(),
  quantity: Type.String(),
  averageCost: Type.String(),
  createdAt: Timestamp,
  updatedAt: Timestamp
})
export type Holding = Static<typeof HoldingSchema>
export const HoldingPageSchema = pageOf(HoldingSchema)

export const HoldingCreateSchema = Type.Object({
  symbol: SymbolSchema,
  quantity: Type.Optional(DecimalSchema),
  averageCost: Type.Optional(DecimalSchema)
}, { additionalProperties: false })

export const HoldingUpdateSchema = Type.Object({
  quantity: Type.Optional(DecimalSchema),
  averageCost: Type.Optional(DecimalSchema)
}, { additionalProperties: false, minProperties: 1 })

export const SideSchema = Type.Union([Type.Literal('buy'), Type.Literal('sell')])

export const TransactionSchema = Type.Object({
  id: UuidSchema(),
  portfolioId: UuidSchema(),
  symbol: Type.String(),
  side: SideSchema,
  quantity: Type.String(),
  price: Type.String(),
  fee: Type.String(),
  executedAt: Timestamp
})
export type Transaction = Static<typeof TransactionSchema>
export const TransactionPageSchema = pageOf(TransactionSchema)

export const TransactionCreateSchema = Type.Object({
  side: SideSchema,
  symbol: SymbolSchema,
  quantity: PositiveDecimalSchema,
  price: DecimalSchema,
  fee: Type.Optional(DecimalSchema)
}, { additionalProperties: false })
export type TransactionInput = Static<typeof TransactionCreateSchema>

export const TradeReplySchema = Type.Object({ transaction: TransactionSchema, holding: HoldingSchema })

/** preValidation: symbols are compared upper-cased; only ASCII letters change ('ß' stays invalid) */
export async function normalizeSymbol (request: FastifyRequest): Promise<void> {
  const body = request.body as { symbol?: unknown } | undefined
  if (body && typeof body.symbol === 'string') body.symbol = body.symbol.trim().replace(/[a-z]+/g, s => s.toUpperCase())
}
