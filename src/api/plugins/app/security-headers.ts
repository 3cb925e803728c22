import type { FastifyReply } from 'fastify'
import fp from 'fastify-plugin'

/**
 * What the browser may load on a page this API serves: only its own scripts, styles, fonts and API calls, no
 * inline script, no plugin, no framing. Swagger UI at /docs (served from @fastify/swagger-ui's own files, no CDN)
 * and the web console at /ui/ (a same-origin bundle) need nothing more. Images may also be data: URLs (Swagger UI's
 * icons); styles that scripts set through the DOM are not inline styles and need no exception. Swagger UI's bundle
 * adds one <style> element of its own: it is allowed by its hash, not by 'unsafe-inline' (an upgrade that changes it
 * fails the browser test of /docs, which then names the new hash).
 */
const SWAGGER_UI_STYLE_SHA256 = 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  `style-src 'self' '${SWAGGER_UI_STYLE_SHA256}'`,
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

/**
 * Headers on every answer (errors, 404s and the docs' static files included): no MIME sniffing, the policy above.
 * Fastify sends no X-Powered-By. TLS is terminated in front of the API (see the README), so no HSTS here.
 */
export default fp(async function securityHeadersPlugin (fastify) {
  fastify.addHook('onSend', async (_request, reply, payload) => {
    setSecurityHeaders(reply)
    return payload
  })
}, { name: 'security-headers' })

/**
 * The headers above on one reply (also used where no hook runs: the router's own refusals, see app.ts). A route
 * that set a policy of its own keeps it (the web console's is stricter: no data: images, no Swagger UI hash).
 */
export function setSecurityHeaders (reply: FastifyReply): void {
  reply.header('x-content-type-options', 'nosniff')
  if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', CONTENT_SECURITY_POLICY)
  reply.removeHeader('x-powered-by')
}
