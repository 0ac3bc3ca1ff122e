// TypeBox schemas of the auth API: request validation, response serialization and OpenAPI.
import { Type, type Static } from '@sinclair/typebox'
import { UuidSchema } from '../core/schemas.js'

export const EmailSchema = Type.String({ format: 'email', minLength: 3, maxLength: 254, description: 'trimmed and lower-cased before validation' })

export const CredentialsSchema = Type.Object({
  email: EmailSchema,
  password: Type.String({ minLength: 1, maxLength: 256 })
}, { additionalProperties: false })
export type Credentials = Static<typeof CredentialsSchema>

export const RegisterSchema = Type.Object({
  email: EmailSchema,
  password: Type.String({ minLength: 12, maxLength: 256, description: '12 to 256 characters, not a common password' })
}, { additionalProperties: false })

export const PasswordChangeSchema = Type.Object({
  currentPassword: Type.String({ minLength: 1, maxLength: 256 }),
  newPassword: Type.String({ minLength: 12, maxLength: 256 })
}, { additionalProperties: false })

export const UserSchema = Type.Object({
  id: UuidSchema(),
  email: Type.String(),
  role: Type.Union([Type.Literal('user'), Type.Literal('admin')])
})

export const SessionAuthReplySchema = Type.Object({
  mode: Type.Literal('session'),
  expiresAt: Type.String({ format: 'date-time', description: 'when the session ends unless used again (sliding)' })
})

export const LegacyAuthReplySchema = Type.Object({
  mode: Type.Literal('legacy'),
  accessToken: Type.String({ description: 'HS256 JWT for Authorization: Bearer' }),
  refreshToken: Type.String({ description: 'single use: rotated by POST /api/auth/refresh' }),
  expiresIn: Type.Integer({ description: 'seconds until the access token expires' })
})

export const AuthReplySchema = Type.Object({ user: UserSchema, auth: Type.Union([SessionAuthReplySchema, LegacyAuthReplySchema]) })

export const RefreshBodySchema = Type.Object({ refreshToken: Type.String({ minLength: 1, maxLength: 512 }) }, { additionalProperties: false })

export const MeReplySchema = Type.Object({
  user: UserSchema,
  auth: Type.Object({
    mode: Type.Union([Type.Literal('session'), Type.Literal('legacy')]),
    sessionId: Type.Optional(Type.String({ description: 'public handle of the current session' }))
  })
})

export const DeviceSchema = Type.Object({ browser: Type.String(), os: Type.String(), type: Type.String() })

export const SessionViewSchema = Type.Object({
  id: Type.String({ description: 'public handle, never the secret' }),
  current: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  device: DeviceSchema,
  ip: Type.String()
})

export const SessionListSchema = Type.Object({ sessions: Type.Array(SessionViewSchema) })
export const RevokedCountSchema = Type.Object({ revoked: Type.Integer() })
export const SessionIdParamsSchema = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{22}$', description: 'a public session id' }) })
