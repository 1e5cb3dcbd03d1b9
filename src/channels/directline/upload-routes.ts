/**
 * Files in a conversation:
 *
 *   POST /directline/conversations/:id/upload     multipart: `activity` + `file` parts
 *   GET  /directline/attachments/:id/:file        an uploaded file
 */
import type { Request, Response } from 'restify';
import { DEFAULT_ORIGIN } from '../../security/client';
import type { DirectLineConversation } from './activity-log';
import { errorBody } from './protocol';
import { refuse, type Route, type RouteContext } from './routing';
import { readUploadForm } from './upload-form';
import { attachmentLinkBase, isInlineType, type StoredFile } from './uploads';

export function uploadRoutes(ctx: RouteContext): Route[] {
  const { logger } = ctx;

  /** Saves every file or none: on a failure the saved ones are deleted and the quota given back. */
  async function store(conversation: DirectLineConversation, files: File[], release: (() => Promise<void>) | undefined, now: Date): Promise<StoredFile[] | undefined> {
    const stored: StoredFile[] = [];
    try {
      for (const file of files) {
        stored.push(await ctx.uploads.save(conversation.id, { name: file.name, contentType: file.type, data: new Uint8Array(await file.arrayBuffer()) }, now));
      }
      return stored;
    } catch (err) {
      // None of this upload is kept, so none of it counts against the conversation.
      await ctx.uploads.discard(conversation.id, stored.map((f) => f.id)).catch(() => undefined);
      await release?.().catch(() => undefined);
      logger.error({ err, conversation: conversation.id }, 'web chat upload could not be stored');
      return undefined;
    }
  }

  async function upload(req: Request, res: Response): Promise<void> {
    const auth = await ctx.tokens.authorise(req);
    if (!auth.ok) return refuse(res, auth);
    const { conversation } = auth;
    const form = await readUploadForm(req, ctx.uploads.maxBytes);
    if (!form.ok) {
      res.send(form.status, errorBody(form.code, form.message));
      return;
    }
    const now = ctx.clock();
    // Reserved before anything is written: parallel uploads cannot all pass one check together.
    const quota = await ctx.uploadQuota?.reserve(conversation.id, form.files.map((f) => f.size), now);
    if (quota && !quota.allowed) {
      logger.info({ conversation: conversation.id, retryAfterSeconds: quota.retryAfterSeconds }, 'web chat upload refused: conversation upload limit');
      res.setHeader('Retry-After', String(quota.retryAfterSeconds));
      res.send(429, errorBody('TooManyRequests', 'This conversation has uploaded as much as it may for now; try again after Retry-After seconds.'));
      return;
    }
    const release = quota?.allowed ? () => ctx.uploadQuota!.release(quota.reservation) : undefined;
    const stored = await store(conversation, form.files, release, now);
    if (!stored) {
      res.send(500, errorBody('ServiceError', 'The upload could not be stored.'));
      return;
    }
    logger.info({ conversation: conversation.id, files: stored.length, bytes: stored.reduce((n, f) => n + f.size, 0) }, 'web chat upload stored');
    // Where links to the files start: PUBLIC_URL, a loopback Host, or '' (a path); see `attachmentLinkBase`.
    const base = attachmentLinkBase(req, ctx.origin ?? DEFAULT_ORIGIN, ctx.publicUrl);
    if (!base) logger.info({ conversation: conversation.id }, 'web chat upload linked by path only: set PUBLIC_URL so links in cases name this bot');
    const id = await ctx.turns.accept(conversation, { ...form.inbound, attachments: undefined }, stored, base);
    res.send(200, { id });
  }

  async function attachment(req: Request, res: Response): Promise<void> {
    const conversationId = String(req.params?.conversationId ?? '');
    const file = await ctx.uploads.load(conversationId, String(req.params?.fileId ?? ''));
    if (!file) {
      res.send(404, errorBody('NotFound', 'No such file.'));
      return;
    }
    const inline = isInlineType(file.meta.contentType);
    res.writeHead(200, {
      'Content-Type': inline ? file.meta.contentType : 'application/octet-stream',
      'Content-Length': file.data.byteLength,
      'Content-Disposition': `${inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(file.meta.name)}`,
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'Cache-Control': 'private, max-age=86400',
    });
    res.end(file.data);
  }

  return [
    { method: 'post', path: '/directline/conversations/:conversationId/upload', handle: upload },
    { method: 'get', path: '/directline/attachments/:conversationId/:fileId', handle: attachment },
  ];
}
