// The user's page: sign up, sign in, sign out; devices; portfolios valued at live prices; a ticker.
import { api, byId, currentBearer, describe, deviceText, el, formValues, say, setBearer, when, type SessionRow } from './api.js'

interface Me { user: { id: string, email: string, role: string } }
interface AuthReply { user: Me['user'], auth: { mode: 'session' } | { mode: 'legacy', accessToken: string } }
interface Portfolio { id: string, name: string, baseCurrency: string }
interface Holding { id: string, symbol: string, quantity: string, averageCost: string }
interface PriceFrame { symbol: string, price: string, ts: number }

const prices = new Map<string, number>()
const holdings = new Map<string, Holding[]>() // by portfolio id
let portfolios: Portfolio[] = []
let socket: WebSocket | null = null
let signedIn = false
let reconnectTimer: number | undefined

// "day change" is measured from the first price this browser saw today (the feed carries no
// previous close); kept per day in localStorage so a reload keeps the same baseline
const OPEN_KEY = 'hallpass-open-' + new Date().toISOString().slice(0, 10)
const opens: Record<string, number> = JSON.parse(localStorage.getItem(OPEN_KEY) ?? '{}') as Record<string, number>

function money (n: number): string {
  return n.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 })
}
function signed (n: number): string { return (n > 0 ? '+' : n < 0 ? '−' : '') + money(Math.abs(n)) }

function show (view: 'out' | 'in'): void {
  byId('signed-out').hidden = view !== 'out'
  byId('signed-in').hidden = view !== 'in'
}

async function boot (): Promise<void> {
  const me = await api<Me>('GET', '/api/auth/me')
  if (me.ok) return enter(me.data.user.email)
  show('out')
}

async function enter (email: string): Promise<void> {
  signedIn = true
  say('signed-out-notice', '')
  byId('whoami').textContent = email
  show('in')
  byId<HTMLHeadingElement>('welcome').focus()
  await loadSymbols()
  openFeed()
  await Promise.all([loadDevices(), loadPortfolios()])
}

/** the page forgets everything it showed and says why (a revocation, a sign-out) */
function leave (why: string, kind: 'error' | 'info' = 'error'): void {
  signedIn = false
  setBearer(null)
  stopFeed('stopped')
  portfolios = []
  holdings.clear()
  byId('devices').replaceChildren()
  byId('portfolio-list').replaceChildren()
  show('out')
  say('signed-out-notice', why, kind)
}

async function authSubmit (event: SubmitEvent, path: string, status: string): Promise<void> {
  event.preventDefault()
  const form = event.currentTarget as HTMLFormElement
  const { email = '', password = '' } = formValues(form)
  say(status, 'Working…')
  const res = await api<AuthReply>('POST', path, { email, password })
  if (!res.ok) return say(status, describe(res.error), 'error')
  if (res.data.auth.mode === 'legacy') setBearer(res.data.auth.accessToken)
  form.reset()
  say(status, '')
  await enter(res.data.user.email)
}

// ---- live prices ----

function stopFeed (state: string): void {
  window.clearTimeout(reconnectTimer)
  const s = socket
  socket = null
  if (s && s.readyState <= WebSocket.OPEN) s.close(1000)
  const ticker = byId('ticker')
  ticker.dataset.state = state
  byId('ticker-state').textContent = state === 'live' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Stopped'
}

const REVOKED = 4401

function openFeed (): void {
  if (currentBearer()) { stopFeed('stopped'); byId('ticker-state').textContent = 'Live prices need a session sign-in'; return }
  stopFeed('connecting')
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/prices`)
  socket = ws
  ws.addEventListener('message', event => {
    if (socket !== ws) return
    const frame = JSON.parse(String(event.data)) as { type: string, prices?: PriceFrame[], symbol?: string, price?: string, ts?: number }
    if (frame.type === 'ready') {
      ws.send(JSON.stringify({ type: 'subscribe', symbols: Array.from(byId('ticker-list').dataset.symbols?.split(',') ?? []).filter(Boolean) }))
    } else if (frame.type === 'snapshot' && frame.prices) {
      for (const p of frame.prices) tick(p)
      setLive()
    } else if (frame.type === 'price' && frame.symbol && frame.price) {
      tick({ symbol: frame.symbol, price: frame.price, ts: frame.ts ?? Date.now() })
      setLive()
    }
  })
  ws.addEventListener('close', event => {
    if (socket !== ws) return
    socket = null
    if (event.code === REVOKED) {
      leave(`You were signed out: ${event.reason || 'your session ended'}. ` +
        'This happens when you sign out or revoke this device elsewhere, change your password, or an administrator ends your session.')
      return
    }
    stopFeed('stopped')
    if (signedIn) reconnectTimer = window.setTimeout(() => { checkStillSignedIn().catch(() => {}) }, 2000)
  })
}

/** after a close that was not a revocation: reconnect if the session is still good */
async function checkStillSignedIn (): Promise<void> {
  const me = await api<Me>('GET', '/api/auth/me')
  if (me.ok) openFeed()
  else if (me.error.status === 401) leave('You were signed out: your session is no longer valid.')
  else reconnectTimer = window.setTimeout(() => { checkStillSignedIn().catch(() => {}) }, 5000)
}

function setLive (): void {
  const ticker = byId('ticker')
  if (ticker.dataset.state !== 'live') {
    ticker.dataset.state = 'live'
    byId('ticker-state').textContent = 'Live'
  }
}

function tick (p: PriceFrame): void {
  const price = Number(p.price)
  prices.set(p.symbol, price)
  if (opens[p.symbol] === undefined) {
    opens[p.symbol] = price
    localStorage.setItem(OPEN_KEY, JSON.stringify(opens))
  }
  const cell = document.querySelector<HTMLElement>(`#ticker-list [data-symbol="${CSS.escape(p.symbol)}"] .price`)
  if (cell) cell.textContent = p.price
  const count = byId('tick-count')
  count.textContent = String(Number(count.textContent ?? '0') + 1)
  renderValues()
}

async function loadSymbols (): Promise<void> {
  const res = await api<{ prices: PriceFrame[] }>('GET', '/api/prices')
  if (!res.ok) return
  const list = byId('ticker-list')
  list.dataset.symbols = res.data.prices.map(p => p.symbol).join(',')
  list.replaceChildren(...res.data.prices.map(p => {
    const li = el('li')
    li.dataset.symbol = p.symbol
    li.append(el('span', p.symbol, 'symbol'), el('span', p.price, 'price'))
    return li
  }))
  const options = byId('symbols')
  options.replaceChildren(...res.data.prices.map(p => { const o = el('option'); o.value = p.symbol; return o }))
}

// ---- devices ----

async function loadDevices (): Promise<void> {
  const res = await api<{ sessions: SessionRow[] }>('GET', '/api/auth/sessions')
  const list = byId('devices')
  if (!res.ok) { say('devices-status', describe(res.error), 'error'); return }
  list.replaceChildren(...res.data.sessions.map(s => {
    const d = deviceText(s.device)
    const li = el('li', undefined, s.current ? 'device current' : 'device')
    li.dataset.session = s.id
    const title = el('strong', `${d.browser} on ${d.os}`)
    li.append(title, el('span', ` (${d.type})`))
    if (s.current) li.append(el('span', 'This device', 'badge'))
    li.append(el('div', `IP ${s.ip ?? 'unknown'} · last seen ${when(s.lastSeenAt)}`, 'meta'))
    if (!s.current) {
      const button = el('button', 'Revoke')
      button.type = 'button'
      button.setAttribute('aria-label', `Revoke ${d.browser} on ${d.os}, last seen ${when(s.lastSeenAt)}`)
      button.addEventListener('click', () => { revokeDevice(s.id).catch(() => {}) })
      li.append(button)
    }
    return li
  }))
}

async function revokeDevice (id: string): Promise<void> {
  const res = await api('DELETE', `/api/auth/sessions/${encodeURIComponent(id)}`)
  say('devices-status', res.ok ? 'Device signed out.' : describe(res.error), res.ok ? 'ok' : 'error')
  await loadDevices()
}

// ---- portfolios ----

async function loadPortfolios (): Promise<void> {
  const res = await api<{ items: Portfolio[] }>('GET', '/api/portfolios?limit=100')
  if (!res.ok) { say('portfolio-status', describe(res.error), 'error'); return }
  portfolios = res.data.items
  await Promise.all(portfolios.map(async p => {
    const h = await api<{ items: Holding[] }>('GET', `/api/portfolios/${p.id}/holdings?limit=100`)
    holdings.set(p.id, h.ok ? h.data.items : [])
  }))
  for (const select of document.querySelectorAll<HTMLSelectElement>('select[name="portfolio"]')) {
    select.replaceChildren(...portfolios.map(p => { const o = el('option', p.name); o.value = p.id; return o }))
  }
  renderPortfolios()
}

function renderPortfolios (): void {
  const root = byId('portfolio-list')
  root.replaceChildren(...portfolios.map(p => {
    const section = el('section', undefined, 'portfolio')
    section.dataset.portfolio = p.id
    section.append(el('h3', `${p.name} (${p.baseCurrency})`))
    const wrap = el('div', undefined, 'table-wrap')
    const table = el('table')
    const head = el('tr')
    for (const h of ['Symbol', 'Quantity', 'Price', 'Market value', 'Day change']) head.append(el('th', h))
    table.append(el('thead'), el('tbody'))
    table.tHead?.append(head)
    for (const h of holdings.get(p.id) ?? []) {
      const tr = el('tr')
      tr.dataset.symbol = h.symbol
      tr.dataset.quantity = h.quantity
      tr.append(el('td', h.symbol), el('td', h.quantity), el('td', '…', 'price'), el('td', '…', 'value'), el('td', '…', 'change'))
      table.tBodies[0]?.append(tr)
    }
    const total = el('p', undefined, 'total')
    total.append('Total market value: ', el('output', '…', 'portfolio-total'))
    wrap.append(table)
    section.append(wrap, total)
    return section
  }))
  renderValues()
}

/** recomputed on every tick: market value and day change of each holding and portfolio */
function renderValues (): void {
  for (const section of document.querySelectorAll<HTMLElement>('#portfolio-list .portfolio')) {
    let total = 0
    let complete = true
    for (const row of section.querySelectorAll<HTMLTableRowElement>('tbody tr')) {
      const symbol = row.dataset.symbol ?? ''
      const qty = Number(row.dataset.quantity)
      const price = prices.get(symbol)
      const cells = { price: row.querySelector('.price'), value: row.querySelector('.value'), change: row.querySelector('.change') }
      if (price === undefined) { complete = false; continue }
      const open = opens[symbol] ?? price
      total += qty * price
      if (cells.price) cells.price.textContent = money(price)
      if (cells.value) cells.value.textContent = money(qty * price)
      if (cells.change) {
        cells.change.textContent = `${signed(qty * (price - open))} (${signed(open ? ((price - open) / open) * 100 : 0)} %)`
        cells.change.className = 'change ' + (price >= open ? 'up' : 'down')
      }
    }
    const out = section.querySelector('.portfolio-total')
    if (out) out.textContent = complete || total > 0 ? money(total) : '…'
  }
}

async function addHolding (event: SubmitEvent): Promise<void> {
  event.preventDefault()
  const form = event.currentTarget as HTMLFormElement
  const v = formValues(form)
  const res = await api('POST', `/api/portfolios/${encodeURIComponent(v.portfolio ?? '')}/holdings`, { symbol: v.symbol, quantity: v.quantity || '0', ...(v.averageCost ? { averageCost: v.averageCost } : {}) })
  say('portfolio-status', res.ok ? `Added ${v.symbol?.toUpperCase()}.` : describe(res.error), res.ok ? 'ok' : 'error')
  if (res.ok) { form.reset(); await loadPortfolios() }
}

async function trade (event: SubmitEvent): Promise<void> {
  event.preventDefault()
  const form = event.currentTarget as HTMLFormElement
  const v = formValues(form)
  const res = await api('POST', `/api/portfolios/${encodeURIComponent(v.portfolio ?? '')}/transactions`, { side: v.side, symbol: v.symbol, quantity: v.quantity, price: v.price })
  say('portfolio-status', res.ok ? `Recorded: ${v.side} ${v.quantity} ${v.symbol?.toUpperCase()}.` : describe(res.error), res.ok ? 'ok' : 'error')
  if (res.ok) { form.reset(); await loadPortfolios() }
}

// ---- wiring ----

function on (id: string, handler: (event: SubmitEvent) => Promise<void>): void {
  byId<HTMLFormElement>(id).addEventListener('submit', event => { handler(event).catch(() => {}) })
}

on('login-form', e => authSubmit(e, '/api/auth/login', 'login-status'))
on('register-form', e => authSubmit(e, '/api/auth/register', 'register-status'))
on('holding-form', addHolding)
on('trade-form', trade)
byId('logout').addEventListener('click', () => {
  api('POST', '/api/auth/logout').then(() => leave('You signed out.', 'info')).catch(() => {})
})
byId('revoke-others').addEventListener('click', () => {
  api<{ revoked: number }>('DELETE', '/api/auth/sessions').then(async res => {
    say('devices-status', res.ok ? `Signed out ${res.data.revoked} other device(s).` : describe(res.error), res.ok ? 'ok' : 'error')
    await loadDevices()
  }).catch(() => {})
})

boot().catch(() => show('out'))
