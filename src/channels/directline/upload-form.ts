/**
 * Reading an upload request (Web Chat's multipart/form-data: an optional `activity` part and one or
 * more `file` parts) into the message and its files, within the per-upload size limit. Nothing here is
 * stored: the upload route reserves quota and saves the files.
 */
import type { IncomingMessage } from 'node:http';
import { inboundActivity, type InboundActivity } from './protocol';
import { safeJson } from '../../json';
import { UploadTooLargeError } from './uploads';

/** What multipart framing and the `activity` part may add on top of the file limit. */
const UPLOAD_OVERHEAD_BYTES = 64 * 1024;

export type UploadForm =
  | { ok: true; inbound: InboundActivity; files: File[] }
  | { ok: false; status: 400 | 413 | 415; code: 'BadArgument' | 'MessageSizeTooBig'; message: string };

/** The upload's message (a plain message when there is no `activity` part) and files, or why not. */
export async function readUploadForm(req: IncomingMessage, limit: number): Promise<UploadForm> {
  const contentType = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data\s*;/i.test(contentType)) return { ok: false, status: 415, code: 'BadArgument', message: 'Uploads are multipart/form-data.' };
  const tooLarge = { ok: false, status: 413, code: 'MessageSizeTooBig', message: `Files may be at most ${limit} bytes.` } as const;
  let form: FormData;
  try {
    const raw = await readLimited(req, limit + UPLOAD_OVERHEAD_BYTES, limit);
    form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
  } catch (err) {
    if (err instanceof UploadTooLargeError) return tooLarge;
    return { ok: false, status: 400, code: 'BadArgument', message: 'The upload could not be read.' };
  }
  let inbound: InboundActivity = { type: 'message' };
  const activityPart = form.get('activity');
  if (activityPart !== null) {
    const text = typeof activityPart === 'string' ? activityPart : await activityPart.text();
    const activity = inboundActivity.safeParse(safeJson(text));
    if (!activity.success || activity.data.type !== 'message') return { ok: false, status: 400, code: 'BadArgument', message: 'The activity part is not a valid message.' };
    inbound = activity.data;
  }
  const files = form.getAll('file').filter((f): f is File => typeof f !== 'string');
  if (!files.length) return { ok: false, status: 400, code: 'BadArgument', message: 'No file part in the upload.' };
  // The framing allowance above is not room for files: they are held to the limit together.
  if (files.some((f) => f.size > limit) || files.reduce((n, f) => n + f.size, 0) > limit) return tooLarge;
  return { ok: true, inbound, files };
}

/** Reads the request body, failing fast once it passes `limit` bytes (or declares more). */
function readLimited(req: IncomingMessage, limit: number, fileLimit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(new UploadTooLargeError(fileLimit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new UploadTooLargeError(fileLimit));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}
