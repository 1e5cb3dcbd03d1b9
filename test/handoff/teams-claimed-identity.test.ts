/**
 * Who counts as a Teams engineer is decided by `Agents` (src/security/identity.ts): an AAD object id
 * counts only when a validated Bot Framework token proved it. Without an app id nothing is
 * validated, so an activity that merely claims a listed AAD id (`from.aadObjectId`) can neither
 * choose the engineers' channel nor take a request. This runs the app's own `Agents`, with no
 * test-only override.
 */
import { describe, expect, it } from 'vitest';
import { unescape, useRig } from './rig';
import { CHANNEL, OLENA } from './teams-channel';

const rig = useRig();
const LISTED_AAD = '6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

describe('a Teams activity claiming an engineer\'s identity', () => {
  it('cannot choose the channel for hand-offs: a claimed aadObjectId is not a proven one', async () => {
    const bot = await rig.start({ HANDOFF_WEBEX_ROOM_ID: '', AGENT_IDS: LISTED_AAD }, { db: rig.db('claimed.sqlite') });
    const activity = {
      type: 'message',
      id: `1${Date.now()}`,
      timestamp: new Date().toISOString(),
      channelId: 'msteams',
      serviceUrl: rig.connector.url,
      from: { id: OLENA.id, name: OLENA.name, aadObjectId: LISTED_AAD },
      conversation: { id: CHANNEL, conversationType: 'channel', isGroup: true, tenantId: 'tenant-1' },
      recipient: { id: '28:bot-app-id', name: 'PCE Support' },
      text: '<at>PCE Support</at> use this channel for hand-offs',
      channelData: { team: { id: '19:support-team@thread.tacv2' }, channel: { id: CHANNEL }, tenant: { id: 'tenant-1' } },
    };
    const res = await fetch(`${bot.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
    expect(res.status).toBeLessThan(300);
    const answers = rig.connector.sentTo(CHANNEL).map((s) => unescape(String(s.activity.text)));
    expect(answers).toEqual(['Only support engineers listed in AGENT_IDS can choose the channel for hand-offs.']);
    expect(await bot.app.handoffs.spaces.ready()).toEqual([]);
  });
});
