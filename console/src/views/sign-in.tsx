import { useState } from 'preact/hooks'
import { ConsoleApi } from '../api.js'
import type { Whoami } from '../contract.js'
import { describeFailure } from '../context.js'

/** Sign-in by pasting a token: checked with GET /v1/whoami before it is kept (in session storage only). */
export function SignIn ({ onSignedIn, onError }: { onSignedIn: (token: string, who: Whoami) => void, onError: (message: string) => void }) {
  const [token, setToken] = useState('')
  const [busy, setBusy] = useState(false)
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault()
    const trimmed = token.trim()
    if (trimmed === '') {
      onError('Paste a token first.')
      return
    }
    setBusy(true)
    try {
      onSignedIn(trimmed, await new ConsoleApi(trimmed).whoami())
    } catch (error) {
      onError(`Sign-in failed: ${describeFailure(error)}`)
    } finally {
      setBusy(false)
    }
  }
  return (
    <section class='sign-in'>
      <h1 tabIndex={-1}>Sign in</h1>
      <p>Paste an admin API token (<code>npm start</code> prints one; an admin mints more with <code>POST /v1/tokens</code>). It is kept in this tab only.</p>
      <form onSubmit={submit}>
        <label for='token'>Token</label>
        <input
          id='token' name='token' type='password' autoComplete='off' spellcheck={false} required
          value={token} onInput={(event) => setToken(event.currentTarget.value)}
        />
        <button type='submit' disabled={busy}>Sign in</button>
      </form>
    </section>
  )
}
