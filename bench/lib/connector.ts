/**
 * A stand-in for the Bot Framework connector service (the `serviceUrl` of every activity the bench
 * sends). With `deliveryMode: "expectReplies"` a bot should answer in the HTTP response and call
 * nothing, so this server only counts calls: a non-zero count means the bot did outbound work
 * during a turn (and the bench reports it). Answers like the real connector: 200 with a resource id.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeConnector {
  url: string;
  calls(): number;
  close(): Promise<void>;
}

export async function startFakeConnector(): Promise<FakeConnector> {
  let calls = 0;
  const server: Server = createServer((req, res) => {
    calls += 1;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: `connector-${calls}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls: () => calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
