// Password hashing with argon2id at OWASP's recommended cost (19 MiB, 2 passes, 1 lane).
// @node-rs/argon2 runs on libuv's thread pool, so a burst of logins never blocks the event loop.
import { hash, verify, type Options } from '@node-rs/argon2'

const ARGON2ID = 2 // Algorithm.Argon2id: a const enum, which isolated modules cannot import

const HASH_OPTIONS: Options = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 }

export function hashPassword (password: string): Promise<string> {
  return hash(password, HASH_OPTIONS)
}

export async function verifyPassword (passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password)
  } catch {
    return false // a malformed stored hash never logs anyone in
  }
}
