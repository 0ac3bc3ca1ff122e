// The reply of the peers' GET /api/auth/me: the shape of ours, serialized by a schema as ours is.
export const meReply = {
  type: 'object',
  properties: {
    user: { type: 'object', properties: { id: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' } } },
    auth: { type: 'object', properties: { mode: { type: 'string' } } }
  }
} as const

export interface MeUser { id: string; email: string; role: string }

/** the 401 of the peers: statusCode and code, as ours answers */
export const unauthorized = {
  type: 'object',
  properties: { statusCode: { type: 'number' }, code: { type: 'string' } }
} as const
