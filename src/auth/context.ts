// Who is calling: set by the authenticate hook on every request, null when nobody is.
// `mode` says which system vouched for the caller during the JWT → session transition.
export type Role = 'user' | 'admin'

interface SessionAuth {
  mode: 'session'
  userId: string
  email: string
  role: Role
  sessionPublicId: string
}

export interface LegacyAuth {
  mode: 'legacy'
  userId: string
  email: string
  role: Role
  jti: string
  /** epoch ms when the access token expires */
  expiresAt: number
}

export type AuthContext = SessionAuth | LegacyAuth

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | null
    /** a session cookie came and no longer validates (ended, expired or revoked) */
    sessionEnded: boolean
  }
}
