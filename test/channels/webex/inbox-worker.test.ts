/**
 * The inbox worker's order and bookkeeping, with a stand-in inbox: notifications of one space are
 * handled one after another in arrival order (a failed one does not hold up the next), other spaces
 * go on meanwhile, a notification is queued once, and each ends handled or failed. Claims, leases
 * and crashes against a real database are in no-duplicates and lose-nothing.
 */
import { describe, expect, it, vi } from 'vitest';
import type { WebexRepository } from '../../../src/channels/webex/inbox-repository';
import { WebexInboxWorker, type NotificationHandler } from '../../../src/channels/webex/inbox-worker';
import type { ClaimedJob, Job } from '../../../src/channels/webex/notification';
import type { Store } from '../../../src/storage/store';
import { silentLogger } from '../../support';

function job(id: string, roomId: string): Job {
  return { n: { resource: 'messages', event: 'created', data: { id, roomId } }, status: 'pending' };
}

function gate(): { promise: Promise<void>; open(): void; fail(err: Error): void } {
  let open!: () => void;
  let fail!: (err: Error) => void;
  const promise = new Promise<void>((resolve, reject) => ((open = resolve), (fail = reject)));
  return { promise, open, fail };
}

function workerWith(handle: (job: ClaimedJob) => Promise<void>) {
  const inbox = {
    renewClaim: vi.fn(async () => true),
    markHandled: vi.fn(async (_id: string, _at: Date) => undefined),
    markFailed: vi.fn(async (_id: string, _error: string, _at: Date) => undefined),
  };
  const handler: NotificationHandler = { handle, apologise: vi.fn(async () => undefined) };
  const worker = new WebexInboxWorker(
    { store: { kind: 'postgres' } as Store, logger: silentLogger },
    () => inbox as unknown as WebexRepository,
    handler,
    () => new Date(),
    { leaseMs: 60_000 },
  );
  return { worker, inbox, handler };
}

const settled = () => new Promise((r) => setTimeout(r, 0));

describe('WebexInboxWorker', () => {
  it('handles one space in arrival order, a failed notification included, while another space goes on', async () => {
    const gates = new Map([['a1', gate()], ['a2', gate()], ['b1', gate()]]);
    const events: string[] = [];
    const { worker, inbox, handler } = workerWith(async ({ n }) => {
      events.push(`start ${n.data.id}`);
      await gates.get(n.data.id)!.promise;
      events.push(`end ${n.data.id}`);
    });
    const at = new Date();
    worker.enqueue(job('a1', 'room-a'), at);
    worker.enqueue(job('a2', 'room-a'), at);
    worker.enqueue(job('b1', 'room-b'), at);
    await settled();
    expect(events).toEqual(['start a1', 'start b1']);

    gates.get('b1')!.open();
    await settled();
    expect(events).toEqual(['start a1', 'start b1', 'end b1']);
    gates.get('a1')!.fail(new Error('Webex is away'));
    await settled();
    expect(events).toEqual(['start a1', 'start b1', 'end b1', 'start a2']);
    expect(worker.busy).toBe(true);
    gates.get('a2')!.open();
    await worker.drain();

    expect(worker.busy).toBe(false);
    expect(inbox.markFailed).toHaveBeenCalledWith('a1', 'Webex is away', expect.any(Date));
    expect(inbox.markHandled.mock.calls.map(([id]) => id)).toEqual(['b1', 'a2']);
    expect(handler.apologise).toHaveBeenCalledWith('room-a');
  });

  it('queues a notification once while it waits or is handled', async () => {
    const handled: string[] = [];
    const { worker } = workerWith(async ({ n }) => {
      handled.push(n.data.id);
    });
    const at = new Date();
    worker.enqueue(job('m1', 'room'), at);
    worker.enqueue(job('m1', 'room'), at);
    await worker.drain();
    expect(handled).toEqual(['m1']);
  });
});
