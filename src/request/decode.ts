/** Decoding a request body: size cap, encoding, envelope structure, then (after auth) the request object. */
import {
  BadRequestError, decodePayload, describeIssue, parseEnvelope, quoteInput, requestSchemas, TooLargeError,
  type AnyRequest, type Encoding, type Envelope, type Op,
} from '@secret-svc/protocol';

export function readEnvelope(body: Uint8Array, encoding: Encoding, maxBytes: number): Envelope {
  // Checked before any decoding, so an oversized body costs nothing to refuse.
  if (body.byteLength > maxBytes) throw new TooLargeError(`request body is larger than ${maxBytes} bytes`);
  return parseEnvelope(body, encoding);
}

/** The request object of a verified envelope, checked against the subject's strict schema. */
export function readRequest(op: Op, envelope: Envelope, encoding: Encoding): AnyRequest {
  const value = decodePayload(envelope.payload, encoding);
  const claimed = typeof value === 'object' && value !== null ? (value as { op?: unknown }).op : undefined;
  if (typeof claimed === 'string' && claimed !== op) {
    throw new BadRequestError(`"op" is ${quoteInput(claimed, 32)} but the request came on the ${op} subject`);
  }
  const parsed = requestSchemas[op].safeParse(value);
  if (!parsed.success) throw new BadRequestError(describeIssue(parsed.error));
  return parsed.data;
}
