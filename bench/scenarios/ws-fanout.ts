// 8. ws-fanout: price updates fanned out to many WebSockets. Listed, not built: the
// WebSocket feed does not exist yet.
import type { Scenario } from '../lib/context.js'

export const wsFanout: Scenario = {
  name: 'ws-fanout',
  title: 'WebSocket price fan-out',
  run: async () => {
    return { scenario: wsFanout.name, title: wsFanout.title, status: 'pending', notes: ['pending: needs the WebSocket feed'], measurements: [], problems: [] }
  }
}
