import { createHash } from "node:crypto";
import type { FC } from "hono/jsx";

/**
 * The one script Archway's pages run: it drives a form marked `data-passkey="create"` or `"get"`. On submit it
 * posts to the form's `data-options` URL (with `data-csrf` in `X-CSRF-Token`) for WebAuthn options, calls
 * `navigator.credentials.create()` or `.get()`, puts the answer (JSON, binary fields in base64url) into the form's
 * `credential` field and submits the form; the server verifies and redirects. Nothing else on the page changes,
 * and without JavaScript the forms simply do nothing useful (passwords still work).
 *
 * Kept as a constant so the Content-Security-Policy can allow exactly it by hash ({@link PASSKEY_SCRIPT_HASH}).
 */
export const PASSKEY_SCRIPT = `(() => {
  const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  const bin = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (ch) => ch.charCodeAt(0));
  const ids = (list) => (list || []).map((c) => ({ ...c, id: bin(c.id) }));
  const say = (form, text) => { const el = form.querySelector("[data-passkey-status]"); if (el) el.textContent = text; };
  for (const form of document.querySelectorAll("form[data-passkey]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!window.PublicKeyCredential) return say(form, "This browser does not support passkeys.");
      say(form, "Waiting for your passkey...");
      try {
        const res = await fetch(form.dataset.options, { method: "POST", headers: { "x-csrf-token": form.dataset.csrf }, credentials: "same-origin" });
        if (!res.ok) throw new Error((await res.json().catch(() => null))?.error?.message || "the server refused");
        const o = await res.json();
        let cred, response;
        if (form.dataset.passkey === "create") {
          cred = await navigator.credentials.create({ publicKey: { ...o, challenge: bin(o.challenge), user: { ...o.user, id: bin(o.user.id) }, excludeCredentials: ids(o.excludeCredentials) } });
          response = { clientDataJSON: b64(cred.response.clientDataJSON), attestationObject: b64(cred.response.attestationObject), transports: cred.response.getTransports ? cred.response.getTransports() : [] };
        } else {
          cred = await navigator.credentials.get({ publicKey: { ...o, challenge: bin(o.challenge), allowCredentials: ids(o.allowCredentials) } });
          response = { clientDataJSON: b64(cred.response.clientDataJSON), authenticatorData: b64(cred.response.authenticatorData), signature: b64(cred.response.signature), ...(cred.response.userHandle ? { userHandle: b64(cred.response.userHandle) } : {}) };
        }
        form.elements.credential.value = JSON.stringify({ id: cred.id, rawId: b64(cred.rawId), type: cred.type, ...(cred.authenticatorAttachment ? { authenticatorAttachment: cred.authenticatorAttachment } : {}), clientExtensionResults: cred.getClientExtensionResults(), response });
        form.submit();
      } catch (err) {
        say(form, err && err.name === "NotAllowedError" ? "The passkey request was cancelled or timed out." : "Passkey failed: " + (err && err.message ? err.message : err));
      }
    });
  }
})();`;

/** The CSP source that allows {@link PASSKEY_SCRIPT} and nothing else. */
export const PASSKEY_SCRIPT_HASH = `'sha256-${createHash("sha256").update(PASSKEY_SCRIPT).digest("base64")}'`;

/** The script element; place it once, after the forms it drives. */
export const PasskeyScript: FC = () => <script dangerouslySetInnerHTML={{ __html: PASSKEY_SCRIPT }} />;
