/**
 * Passkey pages: the person's `/passkeys` page, usernameless sign-in and the passkey second step, and the one
 * browser script (allowed by its CSP hash).
 */

export { PasskeySignInCard, passkeyLoginRoutes } from "./login.js";
export { PASSKEY_PATHS, passkeyManageRoutes } from "./manage.js";
export { PASSKEY_SCRIPT, PASSKEY_SCRIPT_HASH, PasskeyScript } from "./script.js";
