// The operator's page. Every figure comes from the admin API (or the rollout status): the first
// call is an admin one, and a 401 or 403 there ends the page with a message and no data.
import { api, byId, describe, deviceText, el, formValues, say, when, type SessionRow } from './api.js'

interface Stats { activeSessions: number, byDeviceType: Record<string, number> }
interface Status {
  flags: Record<string, boolean | number>
  effectivePercentage: number
  since: string
  logins: Record<string, number>
  upgrades: number
  [more: string]: unknown
}
interface Migration {
  servers: { count: number, effectivePercentage: number | null, agree: boolean, legacyRetired: boolean }
  usersWithLiveLegacyFamilies: number
  liveFamilies: number
  inSessionsBucket: number | null
  stillLegacy: number | null
  verdict: { safeToRetire: boolean, text: string }
}
interface FoundUser { id: string, email: string, role: 'user' | 'admin', disabled: boolean }
interface AuditRow { id: string, type: string, userId: string | null, sessionPublicId: string | null, ip: string | null, details: Record<string, unknown>, createdAt: string }

const FLAGGED = new Set(['TOKEN_REUSE_ATTACK', 'SESSION_ANOMALY'])
let current: FoundUser | null = null

function facts (id: string, rows: Array<[string, string]>): void {
  const dl = byId(id)
  dl.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', k), el('dd', v)]))
}

async function boot (): Promise<void> {
  const stats = await api<Stats>('GET', '/api/admin/stats')
  if (!stats.ok) {
    const e = stats.error
    const text = e.status === 401
      ? 'You are not signed in. Sign in on the portfolio page with an administrator account, then come back.'
      : e.status === 403 && e.code === 'AUTH_FORBIDDEN'
        ? 'This page is for administrators only. Your account is not an administrator, so nothing is shown.'
        : describe(e)
    say('access', text, 'error')
    return
  }
  byId('console').hidden = false
  facts('device-facts', [['Active sessions', String(stats.data.activeSessions)],
    ...Object.entries(stats.data.byDeviceType).map(([k, n]): [string, string] => [k, String(n)])])
  await Promise.all([loadRollout(), loadMigration(), loadAudit()])
}

async function loadRollout (): Promise<void> {
  const res = await api<Status>('GET', '/api/auth/status')
  if (!res.ok) { say('rollout-status', describe(res.error), 'error'); return }
  const s = res.data
  const override = s.override ?? s.autoRollback ?? null
  facts('rollout-facts', [
    ...Object.entries(s.flags).map(([k, v]): [string, string] => [k, String(v)]),
    ['Legacy tokens', s.flags.legacyAuthEnabled === false ? 'retired (LEGACY_AUTH_ENABLED=false): every login gets a session' : 'accepted'],
    ['Effective percentage', `${s.effectivePercentage} %`],
    ['Auto-rollback override', override === null ? 'none reported' : JSON.stringify(override)],
    ...Object.entries(s.logins).map(([k, n]): [string, string] => [`Logins (${k})`, String(n)]),
    ['Legacy refreshes upgraded to sessions', String(s.upgrades)],
    ['Counting since', when(s.since)]
  ])
}

// the legacy report's numbers, from the rollout the running servers published
async function loadMigration (): Promise<void> {
  const res = await api<Migration>('GET', '/api/admin/migration')
  if (!res.ok) { say('migration-status', describe(res.error), 'error'); return }
  const m = res.data
  const known = (n: number | null): string => n === null ? 'unknown (no server published its rollout)' : String(n)
  facts('migration-facts', [
    ['Users still on legacy refresh families', String(m.usersWithLiveLegacyFamilies)],
    ['Live legacy refresh families', String(m.liveFamilies)],
    ['Of them covered by the rollout (move at next refresh)', known(m.inSessionsBucket)],
    ['Of them staying on legacy', known(m.stillLegacy)],
    ['Rollout the servers apply', m.servers.effectivePercentage === null
      ? 'no server has published'
      : `${m.servers.effectivePercentage} % on ${m.servers.count} server(s)${m.servers.agree ? '' : ' (they disagree: the lowest)'}`]
  ])
  say('migration-verdict', `Verdict: ${m.verdict.text}`, m.verdict.safeToRetire ? 'ok' : 'info')
}

// ---- find a user ----

async function findUser (event: SubmitEvent): Promise<void> {
  event.preventDefault()
  const { email = '' } = formValues(event.currentTarget as HTMLFormElement)
  const res = await api<{ user: FoundUser }>('GET', `/api/admin/users?email=${encodeURIComponent(email)}`)
  if (!res.ok) {
    current = null
    byId('user-panel').hidden = true
    say('find-status', res.error.code === 'NOT_FOUND' ? `No user with the email ${email}.` : describe(res.error), 'error')
    return
  }
  say('find-status', '')
  current = res.data.user
  await showUser()
}

async function showUser (): Promise<void> {
  const u = current
  if (!u) return
  byId('user-panel').hidden = false
  facts('user-facts', [['Email', u.email], ['Id', u.id], ['Role', u.role], ['Status', u.disabled ? 'disabled' : 'active']])
  byId('toggle-disabled').textContent = u.disabled ? 'Enable account' : 'Disable account'
  byId<HTMLSelectElement>('role-select').value = u.role
  const res = await api<{ sessions: SessionRow[] }>('GET', `/api/admin/users/${u.id}/sessions`)
  const list = byId('user-sessions')
  if (!res.ok) { say('user-status', describe(res.error), 'error'); return }
  if (res.data.sessions.length === 0) { list.replaceChildren(el('li', 'No active sessions.')); return }
  list.replaceChildren(...res.data.sessions.map(s => {
    const d = deviceText(s.device)
    const li = el('li', undefined, 'device')
    li.dataset.session = s.id
    li.append(el('strong', `${d.browser} on ${d.os}`), el('span', ` (${d.type})`),
      el('div', `IP ${s.ip ?? 'unknown'} · last seen ${when(s.lastSeenAt)} · since ${when(s.createdAt)}`, 'meta'))
    const button = el('button', 'Revoke', 'danger')
    button.type = 'button'
    button.setAttribute('aria-label', `Revoke ${u.email}'s session on ${d.browser} on ${d.os}`)
    button.addEventListener('click', () => { act('DELETE', `/api/admin/users/${u.id}/sessions/${encodeURIComponent(s.id)}`, 'Session revoked.').catch(() => {}) })
    li.append(button)
    return li
  }))
}

async function act (method: string, path: string, done: string, body?: unknown): Promise<void> {
  const res = await api<{ user?: FoundUser & { disabled?: boolean } }>(method, path, body)
  say('user-status', res.ok ? done : describe(res.error), res.ok ? 'ok' : 'error')
  if (res.ok && current && res.data?.user) current = { ...current, ...res.data.user }
  await showUser()
}

// ---- audit log ----

async function loadAudit (event?: SubmitEvent): Promise<void> {
  event?.preventDefault()
  const v = formValues(byId<HTMLFormElement>('audit-form'))
  const q = new URLSearchParams({ limit: '25' })
  if (v.type) q.set('type', v.type)
  if (v.userId) q.set('userId', v.userId)
  if (v.from) q.set('from', new Date(v.from).toISOString())
  if (v.to) q.set('to', new Date(v.to).toISOString())
  const res = await api<{ entries: AuditRow[] }>('GET', `/api/admin/audit?${q.toString()}`)
  const body = byId('audit-rows')
  if (!res.ok) { say('audit-status', describe(res.error), 'error'); return }
  say('audit-status', `${res.data.entries.length} row(s).`, 'info')
  body.replaceChildren(...res.data.entries.map(r => {
    const tr = el('tr', undefined, FLAGGED.has(r.type) ? 'audit-flagged' : '')
    const type = el('td')
    if (FLAGGED.has(r.type)) type.append(el('span', '⚠ ', 'flag'))
    type.append(r.type)
    tr.append(el('td', when(r.createdAt)), type, el('td', r.userId ?? '—'), el('td', r.ip ?? '—'), el('td', JSON.stringify(r.details)))
    return tr
  }))
}

function on (id: string, handler: (event: SubmitEvent) => Promise<void>): void {
  byId<HTMLFormElement>(id).addEventListener('submit', event => { handler(event).catch(() => {}) })
}

on('find-form', findUser)
on('audit-form', loadAudit)
on('role-form', async event => {
  event.preventDefault()
  if (!current) return
  const { role } = formValues(event.currentTarget as HTMLFormElement)
  await act('POST', `/api/admin/users/${current.id}/role`, `Role changed to ${role ?? ''}; the user's sessions ended.`, { role })
})
byId('revoke-all').addEventListener('click', () => {
  if (current) act('DELETE', `/api/admin/users/${current.id}/sessions`, 'All sessions revoked.').catch(() => {})
})
byId('toggle-disabled').addEventListener('click', () => {
  if (!current) return
  const action = current.disabled ? 'enable' : 'disable'
  act('POST', `/api/admin/users/${current.id}/${action}`, action === 'disable' ? 'Account disabled; its sessions ended.' : 'Account enabled.').catch(() => {})
})

boot().catch(() => say('access', 'The page could not load.', 'error'))
