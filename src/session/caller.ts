/**
 * Who a session request comes from: what the ticket carries about the credential behind it.
 * It is the authenticate step's Caller, so a session request and a signed one yield
 * interchangeable callers.
 */
export type { Caller as SessionCaller } from '../auth/caller.js';
