/** A signed payload read as the worker reads it once the signature verified: decoded, then checked for its op. */
import { decodePayload, type Encoding, type Op, type RequestOf } from '@secret-svc/protocol/internal';
import { checkRequest } from '../../src/auth/request-object.js';

/** The request object for `op`, typed by it. Throws BadRequestError. */
export function readRequest<O extends Op>(op: O, payload: Uint8Array, encoding: Encoding): RequestOf<O> {
  return checkRequest(op, decodePayload(payload, encoding));
}
