/** Login sessions: what every Archway token, OAuth grant and brokered Keystone token hangs off. */
export { ENDED, revokedBy, type Session, SessionSchema, sessionKeys } from "./record.js";
export { IdentitySessions, type SessionEndHook, type SessionOptions, type SessionStart } from "./service.js";
