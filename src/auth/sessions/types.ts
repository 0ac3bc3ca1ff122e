// The records of a session as the store, the near cache and the routes see them. Their own
// file so the store and the cache can both name them without importing each other.
import type { Role } from '../context.js'

export interface Device {
  browser: string
  os: string
  type: string
}

export interface NewSession {
  userId: string
  email: string
  role: Role
  ip: string
  userAgent: string
  device: Device
  /** epoch ms: end the session no later than this (an upgraded legacy login keeps its lifetime) */
  absoluteCapAt?: number
}

export interface CreatedSession {
  /** the secret for the cookie: `<user tag>.<secret>`; never stored or logged */
  token: string
  publicId: string
  createdAt: number
  idleExpiresAt: number
  absoluteExpiresAt: number
  /** public ids of the oldest sessions ended to stay within the per-user limit */
  evicted: string[]
}

export interface ValidSession {
  userId: string
  email: string
  role: Role
  publicId: string
  ip: string
  userAgent: string
  device: Device
  createdAt: number
  lastSeenAt: number
  idleExpiresAt: number
  absoluteExpiresAt: number
  /** this call moved the idle expiry (at most once per touch interval) */
  touched: boolean
}

export interface SessionSummary {
  publicId: string
  createdAt: number
  lastSeenAt: number
  /** the sooner of the idle and the absolute expiry */
  expiresAt: number
  ip: string
  device: Device
}
