/**
 * One HTTP exchange of an HTTP case backend: the request with a time limit and no redirects followed
 * (credentials and personal data go to the configured address or nowhere), then the failure rule of
 * ./types.ts, then the JSON answer. The backends differ only in what they send and read.
 */
import { safeJson } from '../../json';
import { DeliveryError, httpFailure, networkFailure, retryAfterMs } from './types';

export interface JsonRequest {
  /** How messages name the receiver: "ServiceNow", "The case webhook". */
  system: string;
  url: string;
  init: RequestInit;
  timeoutMs: number;
  /** What an operator should check when the receiver redirects (a wrong URL, a sleeping instance). */
  onRedirect: string;
  /** The receiver's own reason for a refusal, from the body, if it gives one (no personal data). */
  reason?: (body: string) => string;
  /**
   * `strict`: a body that is not JSON is a failure. `lenient`: it reads as `{}` (the answer is
   * optional). `text`: the body as it came, for a caller that tells an empty answer from a bad one.
   */
  body: 'strict' | 'lenient' | 'text';
}

export async function requestJson(req: JsonRequest): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(req.url, { ...req.init, redirect: 'manual', signal: AbortSignal.timeout(req.timeoutMs) });
  } catch (err) {
    throw networkFailure(req.system, err);
  }
  const text = await res.text().catch(() => '');
  // Retried like other failures, so the case waits while an operator fixes the address; where the
  // redirect pointed is neither followed nor logged.
  if (res.status >= 300 && res.status < 400) {
    throw new DeliveryError(`${req.system} answered HTTP ${res.status}, a redirect, which is not followed: ${req.onRedirect}`, false);
  }
  if (!res.ok) throw httpFailure(req.system, res.status, req.reason?.(text) ?? '', retryAfterMs(res.headers));
  if (req.body === 'text') return text;
  if (req.body === 'lenient') return safeJson(text) ?? {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DeliveryError(`${req.system} answered with a body that is not JSON`, false, { cause: err });
  }
}
