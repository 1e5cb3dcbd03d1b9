import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { Request, Response, Server } from 'restify';
import { buildServer, type App, type ServerPlugin } from '../../src/server';
import { silentLogger } from '../support';

let app: App | undefined;

afterEach(async () => {
  await app?.close(2_000);
  app = undefined;
});

function echoPlugin(): ServerPlugin {
  return {
    name: 'echo',
    register(server: Server) {
      server.post('/echo', async (req: Request, res: Response) => {
        res.send(200, { body: req.body, raw: (req as Request & { rawBody?: string }).rawBody });
      });
      server.get('/boom', async () => {
        throw new Error('secret internals at /srv/app for alice@example.com');
      });
    },
  };
}

describe('buildServer', () => {
  it('answers /healthz with the health details it is given', async () => {
    app = buildServer({ logger: silentLogger, maxBodyBytes: 1024, health: () => ({ storage: 'sqlite' }) });
    const { url } = await app.listen(0);
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', storage: 'sqlite' });
  });

  it('rejects listen on a port in use instead of throwing', async () => {
    app = buildServer({ logger: silentLogger, maxBodyBytes: 1024 });
    const { port } = await app.listen(0);
    const second = buildServer({ logger: silentLogger, maxBodyBytes: 1024 });
    await expect(second.listen(port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await second.close(100);
  });

  it('serves the routes a plug-in registers, with the parsed body and the raw text', async () => {
    app = buildServer({ logger: silentLogger, maxBodyBytes: 1024, plugins: [echoPlugin()] });
    const { url } = await app.listen(0);
    const res = await fetch(`${url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a": 1}' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ body: { a: 1 }, raw: '{"a": 1}' });
  });

  it('answers malformed JSON with 400 before the route runs', async () => {
    app = buildServer({ logger: silentLogger, maxBodyBytes: 1024, plugins: [echoPlugin()] });
    const { url } = await app.listen(0);
    const res = await fetch(`${url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a": ' });
    expect(res.status).toBe(400);
  });

  it('answers a body over the limit with 413', async () => {
    app = buildServer({ logger: silentLogger, maxBodyBytes: 1024, plugins: [echoPlugin()] });
    const { url } = await app.listen(0);
    const body = JSON.stringify({ text: 'x'.repeat(2048) });
    const res = await fetch(`${url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(res.status).toBe(413);
  });

  it('refuses compressed bodies, which could inflate past the limit, with 415', async () => {
    app = buildServer({ logger: silentLogger, maxBodyBytes: 1024, plugins: [echoPlugin()] });
    const { url } = await app.listen(0);
    const body = gzipSync(JSON.stringify({ text: ' '.repeat(100_000) }));
    expect(body.length).toBeLessThan(1024);
    const res = await fetch(`${url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body });
    expect(res.status).toBe(415);
  });

  it('turns a failing handler into a 500 that does not leak internals, and keeps serving', async () => {
    app = buildServer({ logger: silentLogger, maxBodyBytes: 1024, plugins: [echoPlugin()] });
    const { url } = await app.listen(0);
    const res = await fetch(`${url}/boom`);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain('secret');
    expect(text).not.toContain('example.com');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('waits for an in-flight request and the plug-in drain before close resolves', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const order: string[] = [];
    const slow: ServerPlugin = {
      name: 'slow',
      register(server) {
        server.get('/slow', async (_req: Request, res: Response) => {
          await gate;
          order.push('request finished');
          res.send(200, { done: true });
        });
      },
      async drain() {
        order.push('drained');
      },
    };
    app = buildServer({ logger: silentLogger, maxBodyBytes: 1024, plugins: [slow] });
    const { url } = await app.listen(0);
    const pending = fetch(`${url}/slow`);
    while (app.inFlight() === 0) await new Promise((r) => setImmediate(r));
    const closing = app.close(5_000).then((inTime) => {
      order.push('closed');
      return inTime;
    });
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([]);
    release();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await closing).toBe(true);
    expect(order).toEqual(['request finished', 'drained', 'closed']);
    app = undefined;
  });

  it('reports false when in-flight work outlives the shutdown timeout', async () => {
    const never: ServerPlugin = {
      name: 'never',
      register(server) {
        server.get('/hang', async () => new Promise<void>(() => undefined));
      },
    };
    app = buildServer({ logger: silentLogger, maxBodyBytes: 1024, plugins: [never] });
    const { url } = await app.listen(0);
    const pending = fetch(`${url}/hang`).catch((err: unknown) => err);
    while (app.inFlight() === 0) await new Promise((r) => setImmediate(r));
    expect(await app.close(50)).toBe(false);
    expect(await pending).toBeInstanceOf(Error);
    app = undefined;
  });
});
