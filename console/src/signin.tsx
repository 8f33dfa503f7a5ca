// Sign-in with the admin token. The token is tried on a read before it is
// kept (in session storage: gone with the tab, never in a URL or a cookie).
// A `--dev` server says so at /console/server.json, and its token is offered.
import { useEffect, useState } from "preact/hooks";
import { ApiError, call, serverInfo, signIn } from "./api";
import { ErrorLine } from "./ui";

export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [value, setValue] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [devToken, setDevToken] = useState<string | null>(null);

  useEffect(() => {
    serverInfo().then((server) => setDevToken(server.dev_admin_token));
  }, []);

  const attempt = async (candidate: string) => {
    setBusy(true);
    setError(null);
    try {
      await call("GET", "/v1/campaigns", undefined, { bearer: candidate });
      signIn(candidate);
      onSignedIn();
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 403) {
        setError(new Error("That admin token is wrong: the server refused it. Check it and try again."));
      } else {
        setError(failure);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="sign-in">
      <h1>tombola console</h1>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (value.trim()) attempt(value.trim());
          else setError(new Error("Type the admin token first."));
        }}
      >
        <label for="token">Admin token</label>
        <input
          id="token"
          type="password"
          autocomplete="current-password"
          value={value}
          onInput={(event) => setValue(event.currentTarget.value)}
          aria-describedby="token-help"
        />
        <p id="token-help" class="help">
          The token the server was started with (<code>TOMBOLA_ADMIN_TOKEN</code>). It is kept in this
          tab only, and forgotten when you sign out or close the tab.
        </p>
        <ErrorLine error={error} />
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? "Signing in…" : "Sign in"}
          </button>
          {devToken && (
            <button type="button" disabled={busy} onClick={() => attempt(devToken)}>
              Use the development token
            </button>
          )}
        </div>
        {devToken && (
          <p class="help">
            This server runs with <code>--dev</code>: its admin token is <code>{devToken}</code>, accepted on
            this machine only.
          </p>
        )}
      </form>
    </main>
  );
}
