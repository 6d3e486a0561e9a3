/**
 * A minimal RFC 4533 content-synchronisation consumer (OpenLDAP syncrepl, refreshAndPersist) over node:net and
 * node:tls: ldapts has no never-ending search and no IntermediateResponse, so the few messages it needs are
 * encoded here (ber.ts, messages.ts) and the protocol's states kept in consumer.ts.
 */
export { BerError } from "./ber.js";
export { SyncConsumer, type SyncConsumerOptions, type SyncEntry, type SyncHandlers } from "./consumer.js";
export { SYNC_OID } from "./messages.js";
export { netTransport, type SyncTransport } from "./transport.js";
