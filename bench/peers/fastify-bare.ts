// Peer: bare Fastify, no auth and no I/O — what our ceiling route costs without our hooks.
import Fastify from 'fastify'
import { serve } from './serve.js'

const app = Fastify({ logger: false })
const reply = { type: 'object', properties: { status: { type: 'string' } } }
app.get('/api/health', { schema: { response: { 200: reply } } }, async () => ({ status: 'ok' }))
await serve(app)
