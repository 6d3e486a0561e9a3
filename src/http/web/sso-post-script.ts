import { createHash } from "node:crypto";

/** The script that sends an upstream's POST-binding form on its own (without scripts, the person presses a button). */
export const SSO_POST_SCRIPT = `document.getElementById("sso-post").submit();`;
/** The CSP source expression that allows exactly {@link SSO_POST_SCRIPT}. */
export const SSO_POST_SCRIPT_HASH = `'sha256-${createHash("sha256").update(SSO_POST_SCRIPT).digest("base64")}'`;
