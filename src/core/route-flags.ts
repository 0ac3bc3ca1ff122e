// Flags a route carries in its `config`, read by the cross-cutting hooks of core. A route says
// what it needs where it is declared, so no hook keeps a list of URLs that a new route escapes.
declare module 'fastify' {
  interface FastifyContextConfig {
    /** refused with 503 SECURITY_LOCKDOWN while the lockdown flag is on (lockdown.ts) */
    lockdown?: boolean
    /** an unauthenticated entry point that sets the session cookie: login CSRF applies (csrf.ts) */
    csrfEntryPoint?: boolean
  }
}

export {}
