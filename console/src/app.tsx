import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { ApiFailure, ConsoleApi } from './api.js'
import type { Whoami } from './contract.js'
import { describeFailure, SessionContext, type Session } from './context.js'
import { formatTime } from './format.js'
import { hrefOf, useRoute } from './route.js'
import { storedToken, storeToken } from './session.js'
import { AliasPage } from './views/alias.js'
import { EvaluationPage } from './views/evaluation.js'
import { ModelPage } from './views/model.js'
import { ModelsPage } from './views/models.js'
import { SignIn } from './views/sign-in.js'

export function App () {
  const [token, setToken] = useState<string | null>(storedToken)
  const [me, setMe] = useState<Whoami | null>(null)
  const [status, setStatus] = useState('')
  const [alert, setAlert] = useState('')
  const route = useRoute()

  // a stored token is checked again at each load: it may have expired or been revoked since
  useEffect(() => {
    if (token === null || me !== null) return
    new ConsoleApi(token).whoami().then(setMe, (error: unknown) => {
      storeToken(null)
      setToken(null)
      setAlert(error instanceof ApiFailure && error.status === 401
        ? `Signed out: ${error.message}`
        : `Could not check the token: ${describeFailure(error)}`)
    })
  }, [token, me])

  // a new view starts without the previous view's messages
  useEffect(() => {
    setStatus('')
    setAlert('')
  }, [route])

  const session = useMemo<Session | null>(() => token === null || me === null
    ? null
    : {
        api: new ConsoleApi(token),
        me,
        announce: (message) => { setAlert(''); setStatus(message) },
        alert: (message) => { setStatus(''); setAlert(message) },
      }, [token, me])

  const signIn = (newToken: string, who: Whoami): void => {
    storeToken(newToken)
    setToken(newToken)
    setMe(who)
    setAlert('')
    setStatus(`Signed in as ${who.name} (${who.role})`)
  }
  const signOut = (): void => {
    storeToken(null)
    setToken(null)
    setMe(null)
    setStatus('Signed out')
  }

  return (
    <>
      <header class='top'>
        <a class='brand' href={hrefOf({ view: 'models' })}>modelpin</a>
        {me !== null && (
          <div class='who'>
            <span>
              Signed in as <strong>{me.name}</strong> ({me.role}){me.expiresAt === null ? '' : `, token expires ${formatTime(me.expiresAt)}`}
            </span>
            <button type='button' onClick={signOut}>Sign out</button>
          </div>
        )}
      </header>
      <div class='messages'>
        <p role='status' aria-live='polite' class={status === '' ? 'status empty' : 'status'}>{status}</p>
        <p role='alert' aria-live='assertive' class={alert === '' ? 'alert empty' : 'alert'}>{alert}</p>
      </div>
      <main>
        {token === null
          ? <SignIn onSignedIn={signIn} onError={(message) => { setStatus(''); setAlert(message) }} />
          : session === null
            ? <p>Checking the token…</p>
            : (
              <SessionContext.Provider value={session}>
                <View route={route} />
              </SessionContext.Provider>
              )}
      </main>
    </>
  )
}

function View ({ route }: { route: ReturnType<typeof useRoute> }) {
  // focus the new view's heading, so a screen reader starts reading there and Tab starts from there
  const ref = useRef<HTMLDivElement>(null)
  useEffect(() => {
    ref.current?.querySelector<HTMLElement>('h1')?.focus()
  }, [route])
  return (
    <div ref={ref}>
      {route.view === 'models' && <ModelsPage />}
      {route.view === 'model' && <ModelPage model={route.model} />}
      {route.view === 'alias' && <AliasPage model={route.model} alias={route.alias} />}
      {route.view === 'evaluation' && <EvaluationPage model={route.model} id={route.id} />}
    </div>
  )
}
