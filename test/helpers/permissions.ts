/** Whether a NATS server refuses a subscription or a publish (a permissions violation arrives as an async error). */
import type { NatsConnection } from 'nats';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isViolation = (text: string) => /permissions violation/i.test(text);

/** Watches `nc` for a permissions violation naming `subject` while `act` runs; true when one came within ~1 s. */
async function refusedWhile(nc: NatsConnection, subject: string, act: (onError: (err: Error | null) => void) => () => void): Promise<boolean> {
  let refused = false;
  const statuses = nc.status();
  void (async () => {
    for await (const s of statuses) {
      // nats.js reports the code as `data` and what was refused as `permissionContext`.
      if (s.type === 'error' && s.permissionContext?.subject === subject) refused = true;
    }
  })();
  const undo = act((err) => { if (err && isViolation(err.message)) refused = true; });
  await nc.flush();
  for (let i = 0; i < 40 && !refused; i++) await sleep(25);
  undo();
  (statuses as AsyncIterable<unknown> & { stop?: () => void }).stop?.();
  return refused;
}

export function subscribeRefused(nc: NatsConnection, subject: string): Promise<boolean> {
  return refusedWhile(nc, subject, (onError) => {
    const sub = nc.subscribe(subject, { callback: (err) => onError(err) });
    return () => sub.unsubscribe();
  });
}

export function publishRefused(nc: NatsConnection, subject: string, data = '{}', reply?: string): Promise<boolean> {
  return refusedWhile(nc, subject, () => {
    nc.publish(subject, data, reply ? { reply } : {});
    return () => {};
  });
}

/** A request refused by the server's permissions (rejects with it), as nats.js reports one. */
export function isPermissionsViolation(err: unknown): boolean {
  return isViolation((err as Error | undefined)?.message ?? '');
}
