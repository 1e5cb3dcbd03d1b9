import { describe, expect, it } from 'vitest';
import { incomingActivity, stripMentions, toInbound, type IncomingActivity } from '../../../src/channels/botframework/activity';

function activity(fields: Record<string, unknown>): IncomingActivity {
  return incomingActivity.parse({
    type: 'message',
    id: 'act-1',
    channelId: 'msteams',
    serviceUrl: 'https://smba.trafficmanager.net/emea/',
    conversation: { id: 'a:1conv' },
    from: { id: '29:1user', name: 'Olena', aadObjectId: 'aad-olena' },
    recipient: { id: '28:bot' },
    ...fields,
  });
}

describe('toInbound', () => {
  it('turns a Teams card press (empty text, data in value) into a choice with its step', () => {
    const inbound = toInbound(activity({ text: '', value: { choice: 'closed', step: 'orderLineStatus', prompt: 'Which status?' } }));
    expect(inbound).toMatchObject({ channel: 'msteams', conversationId: 'a:1conv', activityId: 'act-1', choice: { id: 'closed', step: 'orderLineStatus' } });
    expect(inbound?.text).toBeUndefined();
  });

  it('ignores a value that is not one of our card submits', () => {
    const inbound = toInbound(activity({ text: '', value: { something: 'else' } }));
    expect(inbound?.choice).toBeUndefined();
  });

  it('keeps the person and their AAD object id as agent ids', () => {
    // Unauthenticated (no app id): nothing is proven, whatever the activity claims.
    expect(toInbound(activity({ text: 'hi' }))?.user).toEqual({ id: '29:1user', name: 'Olena' });
    // A validated Teams token proves the AAD object id; another channel's claim proves nothing.
    expect(toInbound(activity({ text: 'hi' }), { authenticated: true })?.user).toEqual({ id: '29:1user', name: 'Olena', verified: [{ scheme: 'aad', value: 'aad-olena' }] });
    expect(toInbound(activity({ text: 'hi', channelId: 'emulator' }), { authenticated: true })?.user).toEqual({ id: '29:1user', name: 'Olena' });
  });

  it('strips the @mention Teams puts into channel messages', () => {
    expect(toInbound(activity({ text: '<at>PCE Support</at> closed' }))?.text).toBe('closed');
    expect(stripMentions('<at>Bot</at>   start   over')).toBe('start over');
  });

  it('takes the locale from the activity, else from the Teams clientInfo entity', () => {
    expect(toInbound(activity({ text: 'x', locale: 'uk-UA' }))?.locale).toBe('uk-UA');
    expect(toInbound(activity({ text: 'x', entities: [{ type: 'clientInfo', locale: 'uk-ua' }] }))?.locale).toBe('uk-ua');
  });

  it('greets only when the conversationUpdate adds the bot itself', () => {
    expect(toInbound(activity({ type: 'conversationUpdate', membersAdded: [{ id: '28:bot' }] }))?.kind).toBe('greeting');
    expect(toInbound(activity({ type: 'conversationUpdate', membersAdded: [{ id: '29:someone' }] }))).toBeUndefined();
    expect(toInbound(activity({ type: 'conversationUpdate', membersRemoved: [{ id: '28:bot' }] }))).toBeUndefined();
  });

  it('does not answer typing, reactions or invokes', () => {
    for (const type of ['typing', 'messageReaction', 'invoke', 'installationUpdate']) expect(toInbound(activity({ type }))).toBeUndefined();
  });

  it('maps files the person sent and skips the HTML copy of the message and cards', () => {
    const inbound = toInbound(
      activity({
        text: 'here',
        attachments: [
          {
            contentType: 'application/vnd.microsoft.teams.file.download.info',
            name: 'ccw-error.png',
            content: { downloadUrl: 'https://tenant.sharepoint.com/download/ccw-error.png', fileType: 'png', uniqueId: 'u1' },
          },
          { contentType: 'image/png', name: 'paste.png', contentUrl: 'https://smba.trafficmanager.net/emea/v3/attachments/x/views/original' },
          { contentType: 'text/html', content: '<p>here</p>' },
          { contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard' } },
        ],
      }),
    );
    expect(inbound?.attachments).toEqual([
      {
        name: 'ccw-error.png',
        contentType: 'image/png',
        url: 'https://tenant.sharepoint.com/download/ccw-error.png',
      },
      { name: 'paste.png', contentType: 'image/png', url: 'https://smba.trafficmanager.net/emea/v3/attachments/x/views/original' },
    ]);
  });

  it('passes the size along when the channel gives one', () => {
    const inbound = toInbound(activity({ attachments: [{ contentType: 'application/pdf', name: 'a.pdf', contentUrl: 'http://127.0.0.1/a.pdf', content: { size: 2048 } }] }));
    expect(inbound?.attachments).toEqual([{ name: 'a.pdf', contentType: 'application/pdf', size: 2048, url: 'http://127.0.0.1/a.pdf' }]);
  });
});

describe('incomingActivity', () => {
  const takes = (fields: Record<string, unknown>) => incomingActivity.safeParse({ ...activity({}), ...fields }).success;

  it('rejects bodies that are not activities', () => {
    expect(incomingActivity.safeParse({ type: 'message', text: 'hi' }).success).toBe(false);
    expect(incomingActivity.safeParse([1, 2]).success).toBe(false);
    expect(incomingActivity.safeParse({ ...activity({}), serviceUrl: 'javascript:alert(1)' }).success).toBe(false);
  });

  it('takes ids up to their bound in characters (a surrogate pair is one), without control characters', () => {
    expect(takes({ id: 'a'.repeat(512) })).toBe(true);
    expect(takes({ id: '\u{1F600}'.repeat(512) })).toBe(true);
    expect(takes({ id: 'a'.repeat(513) })).toBe(false);
    expect(takes({ from: { id: '' } })).toBe(false);
    for (const control of ['\u0000', '\n', '\u007f', '\u0085']) expect(takes({ conversation: { id: `c${control}` } }), JSON.stringify(control)).toBe(false);
  });

  it('takes channel names and http(s) serviceUrls only, the URL trimmed', () => {
    expect(takes({ channelId: '' })).toBe(false);
    expect(takes({ channelId: 'a'.repeat(65) })).toBe(false);
    for (const url of ['http:example.com', 'ftp://x.test/', 'https://', 'file:///etc/passwd']) expect(takes({ serviceUrl: url }), url).toBe(false);
    expect(incomingActivity.parse({ ...activity({}), serviceUrl: ' https://x.test/a\tb ' }).serviceUrl).toBe('https://x.test/ab');
  });

  it('drops control characters from what a person wrote and is called, keeping tab and line breaks', () => {
    const read = incomingActivity.parse({ ...activity({}), text: 'a\u0000b\tc\r\n', from: { id: 'u', name: 'Ol\u0007ena' } });
    expect(read.text).toBe('ab\tc\r\n');
    expect(read.from.name).toBe('Olena');
  });
});
