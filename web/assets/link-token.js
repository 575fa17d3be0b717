// Mailed links carry their token in the fragment (`#token=…`), which never reaches a server log or
// a Referer. The page takes it once, then removes it from the address bar and the history entry.

/** The token from `#token=…`, or null; the fragment is cleared either way. */
export function takeLinkToken() {
  const hash = location.hash;
  if (!hash) return null;
  history.replaceState(history.state, '', location.pathname + location.search);
  const token = new URLSearchParams(hash.slice(1)).get('token');
  // A split token is id.secret in base64url; anything else cannot be valid, so it is not sent.
  return token && /^[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{1,64}$/.test(token) ? token : '';
}

/**
 * The state of one link page across re-renders (a language switch renders the page again): the
 * token is read once, its answer kept, and the link is never posted twice.
 */
export function linkState() {
  const state = { token: null, outcome: null };
  return {
    /** Reads a new token from the address, if any; returns the current state. */
    read() {
      const fresh = takeLinkToken();
      if (fresh !== null) {
        state.token = fresh;
        state.outcome = null;
      }
      return state;
    },
    settle(outcome) {
      state.outcome = outcome;
      state.token = null;
    },
  };
}

/** Shows one of the outcome blocks and hides the others; `focus` moves focus to it (after an action). */
export function showOnly(main, ids, shown, focus = false) {
  for (const id of ids) {
    const el = main.querySelector(`#${id}`);
    if (el) el.hidden = id !== shown;
  }
  const el = shown && focus ? main.querySelector(`#${shown}`) : null;
  if (el) el.focus();
}
