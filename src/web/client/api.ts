// What both pages share: JSON calls to the API and a sentence for every error a person can meet.
// The session cookie is HttpOnly: this code never sees it, the browser sends it.

export interface ApiError { status: number, code: string, message: string, retryAfter: number | null }
export type ApiResult<T> = { ok: true, status: number, data: T } | { ok: false, error: ApiError }

/** a legacy login answers tokens, not a cookie: the access token then lives in memory only */
let bearer: string | null = null
export function setBearer (token: string | null): void { bearer = token }
export function currentBearer (): string | null { return bearer }

export async function api<T> (method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (bearer) headers.authorization = `Bearer ${bearer}`
  let res: Response
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
  } catch {
    return { ok: false, error: { status: 0, code: 'NETWORK', message: 'The server cannot be reached. Check your connection and try again.', retryAfter: null } }
  }
  const text = await res.text()
  let data: unknown = null
  try { data = text ? JSON.parse(text) : null } catch { data = null }
  if (res.ok) return { ok: true, status: res.status, data: data as T }
  const err = (data ?? {}) as { code?: string, message?: string }
  const retry = Number(res.headers.get('retry-after'))
  return {
    ok: false,
    error: { status: res.status, code: err.code ?? 'HTTP_' + res.status, message: err.message ?? res.statusText, retryAfter: Number.isFinite(retry) && retry > 0 ? retry : null }
  }
}

function wait (seconds: number | null): string {
  if (seconds === null) return 'a little while'
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`
  return `${Math.ceil(seconds / 60)} minutes`
}

/** the sentence shown for an error code; the server's message when nothing better is known */
export function describe (e: ApiError): string {
  switch (e.code) {
    case 'AUTH_INVALID_CREDENTIALS': return 'Wrong email or password.'
    case 'AUTH_TOO_MANY_ATTEMPTS': return `Too many failed sign-ins for this account. Try again in ${wait(e.retryAfter)}.`
    case 'RATE_LIMITED': return `Too many requests from your network. Try again in ${wait(e.retryAfter)}.`
    case 'AUTH_ACCOUNT_DISABLED': return 'This account is disabled. Contact support to have it enabled again.'
    case 'SECURITY_LOCKDOWN': return 'Sign-in and account data are paused for a security lockdown. Please try again later.'
    case 'AUTH_EMAIL_TAKEN': return 'An account with this email already exists. Sign in instead.'
    case 'AUTH_REQUIRED': return 'You are not signed in.'
    case 'SESSION_EXPIRED': return 'Your session has ended. Please sign in again.'
    case 'AUTH_FORBIDDEN': return 'Your account is not allowed to do this.'
    case 'CSRF_ORIGIN_REJECTED': return 'The request was refused because it did not come from this site.'
    case 'DEPENDENCY_UNAVAILABLE': return 'The service is briefly unavailable. Try again in a moment.'
    default: return e.message
  }
}

export function el<K extends keyof HTMLElementTagNameMap> (tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  if (text !== undefined) node.textContent = text
  if (cls) node.className = cls
  return node
}

export function byId<T extends HTMLElement = HTMLElement> (id: string): T {
  const node = document.getElementById(id)
  if (!node) throw new Error('missing #' + id)
  return node as T
}

/** a status line: role=alert regions are read out by screen readers when they change */
export function say (id: string, text: string, kind: 'error' | 'ok' | 'info' = 'info'): void {
  const node = byId(id)
  node.textContent = text
  node.dataset.kind = kind
  node.hidden = text === ''
}

export function formValues (form: HTMLFormElement): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of new FormData(form)) if (typeof v === 'string') out[k] = v.trim()
  return out
}

export function when (iso: string): string {
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString()
}

export interface Device { type?: string | null, browser?: string | null, os?: string | null }
export interface SessionRow { id: string, current: boolean, createdAt: string, lastSeenAt: string, expiresAt: string, device: Device | null, ip: string | null }

export function deviceText (d: Device | null): { browser: string, os: string, type: string } {
  return { browser: d?.browser ?? 'unknown browser', os: d?.os ?? 'unknown OS', type: d?.type ?? 'unknown' }
}
