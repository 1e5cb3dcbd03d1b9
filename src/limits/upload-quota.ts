/**
 * How much one web chat conversation may upload within a sliding window (a screenshot or two for a
 * case, not a file share): at most `maxFiles` files and `maxBytes` bytes per `windowMs`, counted from
 * the files kept on disk (so the count survives a restart). Over it, the upload is answered 429 with
 * `Retry-After`: when the oldest counted file leaves the window.
 */
import type { StoredFileMeta } from '../channels/directline/uploads';

export interface UploadQuotaLimits {
  maxFiles: number;
  maxBytes: number;
  windowMs: number;
}

export type UploadQuotaDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number; reason: 'files' | 'bytes' };

export class UploadQuota {
  constructor(
    private readonly files: { list(conversationId: string): Promise<StoredFileMeta[]> },
    readonly limits: UploadQuotaLimits,
  ) {}

  /** May the conversation store these new files (their sizes) now? */
  async check(conversationId: string, incoming: readonly number[], now: Date): Promise<UploadQuotaDecision> {
    const since = now.getTime() - this.limits.windowMs;
    const counted = (await this.files.list(conversationId))
      .map((f) => ({ at: Date.parse(f.createdAt), size: f.size }))
      .filter((f) => Number.isFinite(f.at) && f.at > since)
      .sort((a, b) => a.at - b.at);
    const incomingBytes = incoming.reduce((n, s) => n + s, 0);
    const overFiles = counted.length + incoming.length > this.limits.maxFiles;
    const overBytes = counted.reduce((n, f) => n + f.size, 0) + incomingBytes > this.limits.maxBytes;
    if (!overFiles && !overBytes) return { allowed: true };
    // Wait until enough of the oldest files have left the window for this upload to fit (at least one).
    let files = counted.length + incoming.length;
    let bytes = counted.reduce((n, f) => n + f.size, 0) + incomingBytes;
    let freedAt = now.getTime();
    for (const f of counted) {
      if (files <= this.limits.maxFiles && bytes <= this.limits.maxBytes) break;
      files -= 1;
      bytes -= f.size;
      freedAt = f.at + this.limits.windowMs;
    }
    return {
      allowed: false,
      reason: overFiles ? 'files' : 'bytes',
      retryAfterSeconds: Math.max(1, Math.ceil((freedAt - now.getTime()) / 1000)),
    };
  }
}
