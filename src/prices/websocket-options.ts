// How @fastify/websocket is registered for the feed: no compression (a CPU cost per frame and
// a memory cost per socket, for frames of ~80 bytes), frames over 4 KB refused (ws closes
// 1009), and on shutdown every socket is told 1001 "going away" and given a moment to go.
import type { FastifyInstance } from 'fastify'
import type { WebsocketPluginOptions } from '@fastify/websocket'

const MAX_FRAME_BYTES = 4096
const SHUTDOWN_WAIT_MS = 1000

export const websocketOptions: WebsocketPluginOptions = {
  options: { perMessageDeflate: false, maxPayload: MAX_FRAME_BYTES },
  preClose: async function (this: FastifyInstance) {
    if (this.hasDecorator('priceFeed')) await this.priceFeed.closeAll(SHUTDOWN_WAIT_MS)
    for (const ws of this.websocketServer.clients) ws.terminate() // any other socket
    this.websocketServer.close()
  }
}
