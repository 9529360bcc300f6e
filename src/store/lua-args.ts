/**
 * A script's arguments packed into one MessagePack map (BullMQ's way: `cmsgpack.unpack(ARGV[1])`),
 * named instead of numbered. Redis's cmsgpack reads no `bin` type, so every value, text or
 * bytes, is written as a MessagePack string (a Lua string holds any bytes).
 */
export type LuaArgs = Record<string, string | Buffer>;

export function packArgs(args: LuaArgs): Buffer {
  const entries = Object.entries(args);
  if (entries.length > 0xffff) throw new RangeError('too many script arguments');
  const parts: Buffer[] = [Buffer.from([0xde, entries.length >> 8, entries.length & 0xff])];
  for (const [name, value] of entries) parts.push(str(Buffer.from(name, 'utf8')), str(typeof value === 'string' ? Buffer.from(value, 'utf8') : value));
  return Buffer.concat(parts);
}

/** A MessagePack string header (fixstr, str 8, 16 or 32 by length) and the bytes. */
function str(bytes: Buffer): Buffer {
  const n = bytes.length;
  let head: Buffer;
  if (n < 32) head = Buffer.from([0xa0 | n]);
  else if (n < 0x100) head = Buffer.from([0xd9, n]);
  else if (n < 0x10000) head = Buffer.from([0xda, n >> 8, n & 0xff]);
  else {
    head = Buffer.alloc(5);
    head[0] = 0xdb;
    head.writeUInt32BE(n, 1);
  }
  return Buffer.concat([head, bytes]);
}
