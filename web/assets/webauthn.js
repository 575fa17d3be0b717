// Passkeys in the browser with the platform's own JSON helpers (WebAuthn Level 3): no library needed.

export function passkeysSupported() {
  return typeof window.PublicKeyCredential === 'function' && typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function' && typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function';
}

/** navigator.credentials.create() from the server's options; resolves the credential's JSON, or null when the user cancelled. */
export async function createPasskey(optionsJSON) {
  try {
    const cred = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(optionsJSON) });
    return cred ? cred.toJSON() : null;
  } catch (e) {
    if (e instanceof DOMException && (e.name === 'NotAllowedError' || e.name === 'AbortError')) return null;
    throw e;
  }
}

/** navigator.credentials.get() from the server's options; resolves the assertion's JSON, or null when the user cancelled. */
export async function getPasskey(optionsJSON) {
  try {
    const cred = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(optionsJSON) });
    return cred ? cred.toJSON() : null;
  } catch (e) {
    if (e instanceof DOMException && (e.name === 'NotAllowedError' || e.name === 'AbortError')) return null;
    throw e;
  }
}
