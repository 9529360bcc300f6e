/** One entry for a request body: a signed envelope (§3) or a session envelope (§12), told apart by its fields. */
import type { Encoding } from './codec.js';
import { decodeEnvelopeObject, signedEnvelopeFields, type Envelope } from './envelope.js';
import { isSessionEnvelopeObject, sessionEnvelopeFields, type SessionEnvelope } from './session/envelope.js';

export type RequestEnvelope =
  | { kind: 'signed'; envelope: Envelope }
  | { kind: 'session'; envelope: SessionEnvelope };

/**
 * Decodes the body once and checks the shape of whichever envelope it is (400). A map with
 * `ticket` or `mac` is a session envelope, and then `cred` or `sig` in it is an unknown field.
 */
export function parseRequestEnvelope(body: Uint8Array, encoding: Encoding): RequestEnvelope {
  const raw = decodeEnvelopeObject(body, encoding);
  return isSessionEnvelopeObject(raw)
    ? { kind: 'session', envelope: sessionEnvelopeFields(raw, encoding) }
    : { kind: 'signed', envelope: signedEnvelopeFields(raw, encoding) };
}
