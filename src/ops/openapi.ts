// PLACEHOLDER (to be implemented): the generated OpenAPI document at /docs.
import fp from 'fastify-plugin'

export const openapiPlugin = fp(async () => {}, { name: 'openapi' })
