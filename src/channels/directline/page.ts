/**
 * The page at `/`: Microsoft's Web Chat (the prebuilt browser bundle of the `botframework-webchat` npm
 * package, kept in page/vendor/ and served from there, never a CDN) over this server's Direct Line
 * endpoint, with a uk/en switch and "start over". Every string on it comes from locales/<lng>/webchat.json.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { Request, Response, Server } from 'restify';
import { LOCALES, type Locale } from '../../../dialogs/flow';
import { normaliseLocale, type Translator } from '../../i18n';
import type { ServerPlugin } from '../../server';
import type { SiteAccess } from './access';
import { PAGE_EVENTS } from './protocol';
import { ROOT } from '../../root';

const PAGE_DIR = join(ROOT, 'src', 'channels', 'directline', 'page');

const PAGE_KEYS = [
  'title',
  'subtitle',
  'language',
  'startOver',
  'startOverHint',
  'connecting',
  'connectFailed',
  'tooManyRequests',
  'chatLabel',
  'botInitials',
  'userInitials',
] as const;

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // Web Chat makes thumbnails of attached images in a worker built from a blob.
  "worker-src 'self' blob:",
  // Web Chat injects its styles at run time.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self' blob:",
  "font-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

/** The page needs none of these browser features; a script that gets in cannot ask for them either. */
const PERMISSIONS_POLICY = [
  'accelerometer=()',
  'autoplay=()',
  'camera=()',
  'display-capture=()',
  'geolocation=()',
  'gyroscope=()',
  'hid=()',
  'magnetometer=()',
  'microphone=()',
  'midi=()',
  'payment=()',
  'publickey-credentials-get=()',
  'screen-wake-lock=()',
  'serial=()',
  'usb=()',
  'xr-spatial-tracking=()',
].join(', ');

/** Headers of every response to `/`: the page, the refusal and the token exchange. */
const PAGE_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'Permissions-Policy': PERMISSIONS_POLICY,
} as const;

/**
 * The UMD bundle (`window.WebChat`, its own React inside). It is kept in the repository rather than
 * installed: the package would bring ~600 MB of React and speech SDK packages to serve this one file
 * (issue 20); `npm run webchat:bundle -- <version>` takes another version from the npm registry.
 */
export function webChatBundlePath(): string {
  return join(PAGE_DIR, 'vendor', 'botframework-webchat', 'webchat.js');
}

interface StaticAsset {
  type: string;
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

const gzip = promisify(gzipCallback);

/** Compressed off the event loop's critical path: the Web Chat bundle is a few megabytes. */
async function asset(type: string, path: string, version: string): Promise<StaticAsset> {
  const body = await readFile(path);
  return { type, body, gzip: await gzip(body), etag: `"${version}-${body.length}"` };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON safe inside a <script type="application/json"> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/%([A-Z_]+)%/g, (whole, name: string) => values[name] ?? whole);
}

export interface WebChatPageDeps {
  translator: Translator;
  access: SiteAccess;
  /** Milliseconds between Web Chat's polls of the activity stream. */
  pollingIntervalMs?: number;
}

export class WebChatPage {
  private readonly pageTemplate = readFileSync(join(PAGE_DIR, 'index.html'), 'utf8');
  private readonly accessTemplate = readFileSync(join(PAGE_DIR, 'access.html'), 'utf8');
  private readonly assets = new Map<string, () => Promise<StaticAsset>>();

  constructor(private readonly deps: WebChatPageDeps) {
    const lazy = (make: () => Promise<StaticAsset>) => {
      let made: Promise<StaticAsset> | undefined;
      return () => {
        made ??= make().catch((err: unknown) => {
          made = undefined;
          throw err;
        });
        return made;
      };
    };
    const version = Date.now().toString(36);
    this.assets.set('app.js', lazy(() => asset('text/javascript; charset=utf-8', join(PAGE_DIR, 'app.js'), version)));
    this.assets.set('app.css', lazy(() => asset('text/css; charset=utf-8', join(PAGE_DIR, 'app.css'), version)));
    this.assets.set('webchat.js', lazy(() => asset('text/javascript; charset=utf-8', webChatBundlePath(), version)));
  }

  plugin(): ServerPlugin {
    return { name: 'webchat-page', register: (server) => this.register(server) };
  }

  register(server: Server): void {
    server.get('/', async (req: Request, res: Response) => this.page(req, res));
    server.get('/webchat/:asset', async (req: Request, res: Response) => this.asset(req, res));
    // Warm the bundle up so the first visitor does not wait for its compression.
    void this.assets.get('webchat.js')?.().catch(() => undefined);
  }

  private strings(locale: Locale): Record<string, string> {
    const { t } = this.deps.translator;
    return Object.fromEntries(PAGE_KEYS.map((k) => [k, t(locale, `webchat:page.${k}`)]));
  }

  private page(req: Request, res: Response): void {
    const query = (req.query ?? {}) as Record<string, unknown>;
    if (query.token !== undefined) {
      this.exchangeToken(req, res, typeof query.token === 'string' ? query.token : undefined);
      return;
    }
    const asked = typeof query.lang === 'string' ? normaliseLocale(query.lang) : undefined;
    const locale: Locale = asked ?? normaliseLocale(String(req.headers['accept-language'] ?? '').split(',')[0]) ?? 'en';
    const { t } = this.deps.translator;
    const headers = {
      ...PAGE_HEADERS,
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': CSP,
      'Content-Language': locale,
    };
    // The site cookie (or this machine); the token itself is only ever accepted by `exchangeToken`.
    if (!this.deps.access.allows(req, undefined)) {
      const html = fill(this.accessTemplate, {
        LANG: locale,
        TITLE: escapeHtml(t(locale, 'webchat:access.title')),
        TEXT: escapeHtml(t(locale, 'webchat:access.text')),
      });
      res.writeHead(403, headers);
      res.end(html);
      return;
    }
    const s = this.strings(locale);
    const config = {
      initialLocale: locale,
      directLine: '/directline',
      pollingInterval: this.deps.pollingIntervalMs ?? 500,
      languageEvent: PAGE_EVENTS.setLanguage,
      strings: Object.fromEntries(LOCALES.map((l) => [l, this.strings(l)])),
    };
    const html = fill(this.pageTemplate, {
      LANG: locale,
      TITLE: escapeHtml(s.title!),
      SUBTITLE: escapeHtml(s.subtitle!),
      LANGUAGE: escapeHtml(s.language!),
      LANG_UK: escapeHtml(t(locale, 'webchat:language.uk')),
      LANG_EN: escapeHtml(t(locale, 'webchat:language.en')),
      START_OVER: escapeHtml(s.startOver!),
      START_OVER_HINT: escapeHtml(s.startOverHint!),
      CONNECTING: escapeHtml(s.connecting!),
      CHAT_LABEL: escapeHtml(s.chatLabel!),
      CONFIG: scriptJson(config),
    });
    res.writeHead(200, headers);
    res.end(html);
  }

  /**
   * `/?token=…`: the right token is traded for the site cookie, and the browser goes on to the same
   * address without the token, so it stays in neither the history, a Referer nor a log line of the
   * next request. A wrong token is dropped from the address as well; the page then refuses as usual.
   */
  private exchangeToken(req: Request, res: Response, presented: string | undefined): void {
    const params = new URLSearchParams(String(req.url ?? '').split('?')[1] ?? '');
    params.delete('token');
    const rest = params.toString();
    const cookie = this.deps.access.siteCookie(req, presented);
    res.writeHead(303, {
      ...PAGE_HEADERS,
      Location: rest ? `/?${rest}` : '/',
      ...(cookie ? { 'Set-Cookie': cookie } : {}),
    });
    res.end();
  }

  private async asset(req: Request, res: Response): Promise<void> {
    const make = this.assets.get(String(req.params?.asset ?? ''));
    if (!make) {
      res.send(404, { code: 'NotFound', message: 'No such file.' });
      return;
    }
    const file = await make();
    if (req.headers['if-none-match'] === file.etag) {
      res.writeHead(304, { ETag: file.etag });
      res.end();
      return;
    }
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? file.gzip : file.body;
    res.writeHead(200, {
      'Content-Type': file.type,
      'Content-Length': body.length,
      ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
      Vary: 'Accept-Encoding',
      ETag: file.etag,
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(body);
  }
}
