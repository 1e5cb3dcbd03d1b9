/**
 * Files attached in the web chat (a screenshot for a support case): kept on disk under
 * `WEBCHAT_UPLOAD_DIR/<conversation>/<file id>` with a small JSON sidecar, and served back at
 * `/directline/attachments/<conversation>/<file id>`. Both ids are random, so the URL is the capability:
 * a browser can show the image and a case can link it without a secret in a header.
 */
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { hostName } from '../../security/hosts';
import { isLoopbackHostName, type RequestOrigin } from '../../security/client';
import { newId } from './access';
import { safeJson } from '../../json';

const ID = /^[A-Za-z0-9_-]{8,64}$/;

/** Types a browser may show inline; anything else is served as a download. SVG is not here: it can carry script. */
const INLINE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'text/plain']);

const storedMeta = z.object({
  name: z.string(),
  contentType: z.string(),
  size: z.number().int().nonnegative(),
  createdAt: z.string(),
});
export type StoredFileMeta = z.infer<typeof storedMeta>;

export interface StoredFile {
  conversationId: string;
  id: string;
  name: string;
  contentType: string;
  size: number;
  /** Path below the server root, e.g. `/directline/attachments/abc/def`. */
  path: string;
}

export class UploadTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`The upload is larger than ${limit} bytes`);
    this.name = 'UploadTooLargeError';
  }
}

export function sanitizeFileName(raw: string | undefined): string {
  const base = (raw ?? '').split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f"<>|*?:]/g, '_').trim().slice(0, 200);
  return clean && clean !== '.' && clean !== '..' ? clean : 'file';
}

/** A content type as declared, reduced to `type/subtype` and lowercased; garbage becomes octet-stream. */
export function normaliseContentType(raw: string | undefined): string {
  const t = (raw ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return /^[a-z0-9.+-]+\/[a-z0-9.+-]+$/.test(t) ? t : 'application/octet-stream';
}

export function isInlineType(contentType: string): boolean {
  return INLINE_TYPES.has(contentType);
}

/**
 * Where links to uploaded files start (they end up in the case summary support reads): PUBLIC_URL
 * when it is set; else the Host the browser used, but only a name of this machine (localhost, a
 * loopback address), over HTTPS only when the socket is TLS or a trusted proxy says so. Anything else
 * gives '' and the link stays a path: a Host or X-Forwarded-Proto a client made up never gets into a
 * stored link.
 */
export function attachmentLinkBase(
  req: Pick<IncomingMessage, 'headers'> & { socket: { remoteAddress?: string; encrypted?: boolean } },
  origin: Pick<RequestOrigin, 'isHttps'>,
  publicUrl: string | undefined,
): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, '');
  const host = req.headers.host?.trim() ?? '';
  const name = hostName(host);
  if (!name || !isLoopbackHostName(name)) return '';
  return `${origin.isHttps(req) ? 'https' : 'http'}://${host.toLowerCase()}`;
}

export class UploadStore {
  private readonly root: string;

  constructor(dir: string, readonly maxBytes: number) {
    this.root = resolve(dir);
  }

  async save(conversationId: string, file: { name?: string; contentType?: string; data: Uint8Array }, now: Date): Promise<StoredFile> {
    if (!ID.test(conversationId)) throw new Error('invalid conversation id');
    const id = newId(18);
    const dir = join(this.root, conversationId);
    await mkdir(dir, { recursive: true });
    const meta: StoredFileMeta = {
      name: sanitizeFileName(file.name),
      contentType: normaliseContentType(file.contentType),
      size: file.data.byteLength,
      createdAt: now.toISOString(),
    };
    try {
      await writeFile(join(dir, `${id}.bin`), file.data, { flag: 'wx' });
      await writeFile(join(dir, `${id}.json`), JSON.stringify(meta), { flag: 'wx' });
    } catch (err) {
      // Half a file (data without its sidecar) would be served by no one and counted by nothing.
      await this.discard(conversationId, [id]).catch(() => undefined);
      throw err;
    }
    return { conversationId, id, ...meta, path: `/directline/attachments/${conversationId}/${id}` };
  }

  /** Deletes these files of a conversation (an upload that failed part-way); missing ones are fine. */
  async discard(conversationId: string, ids: readonly string[]): Promise<void> {
    if (!ID.test(conversationId)) return;
    const dir = join(this.root, conversationId);
    await Promise.all(
      ids.filter((id) => ID.test(id)).flatMap((id) => [rm(join(dir, `${id}.bin`), { force: true }), rm(join(dir, `${id}.json`), { force: true })]),
    );
  }

  /** The files kept for a conversation (unreadable sidecars are skipped); none for a malformed id. */
  async list(conversationId: string): Promise<StoredFileMeta[]> {
    if (!ID.test(conversationId)) return [];
    const dir = join(this.root, conversationId);
    const names = await readdir(dir).catch(() => [] as string[]);
    const metas = await Promise.all(
      names
        .filter((n) => n.endsWith('.json'))
        .map(async (n) => {
          const meta = storedMeta.safeParse(safeJson(await readFile(join(dir, n), 'utf8').catch(() => '')));
          return meta.success ? meta.data : undefined;
        }),
    );
    return metas.filter((m): m is StoredFileMeta => m !== undefined);
  }

  /** Ids of the conversations that have a folder here (retention sweeps them). */
  async conversationIds(): Promise<string[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory() && ID.test(e.name)).map((e) => e.name);
  }

  /** When anything in the conversation's folder last changed; undefined when there is no folder. */
  async lastModified(conversationId: string): Promise<Date | undefined> {
    if (!ID.test(conversationId)) return undefined;
    const dir = join(this.root, conversationId);
    try {
      const names = await readdir(dir);
      const times = await Promise.all([dir, ...names.map((n) => join(dir, n))].map(async (p) => (await stat(p)).mtimeMs));
      return new Date(Math.max(...times));
    } catch {
      return undefined;
    }
  }

  /** Deletes every file of a conversation (retention); true when there was a folder. */
  async remove(conversationId: string): Promise<boolean> {
    if (!ID.test(conversationId)) return false;
    const dir = join(this.root, conversationId);
    const existed = await stat(dir).then(
      () => true,
      () => false,
    );
    await rm(dir, { recursive: true, force: true });
    return existed;
  }

  /** The stored file, or undefined when either id is malformed or unknown. */
  async load(conversationId: string, id: string): Promise<{ meta: StoredFileMeta; data: Buffer } | undefined> {
    if (!ID.test(conversationId) || !ID.test(id)) return undefined;
    const dir = join(this.root, conversationId);
    try {
      const [metaText, data, info] = await Promise.all([
        readFile(join(dir, `${id}.json`), 'utf8'),
        readFile(join(dir, `${id}.bin`)),
        stat(join(dir, `${id}.bin`)),
      ]);
      const meta = storedMeta.safeParse(JSON.parse(metaText));
      if (!meta.success || info.size !== meta.data.size) return undefined;
      return { meta: meta.data, data };
    } catch {
      return undefined;
    }
  }
}
