import { describe, expect, it } from 'vitest';
import type { StreamMessage } from '../api/types';
import { reconnectDelay, BACKOFF_MAX_MS } from './backoff';
import {
  openStreamConnection,
  parseStreamMessage,
  type ConnectionStatus,
  type SocketLike,
} from './stream-connection';

class FakeSocket implements SocketLike {
  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  closed = false;
  close(): void {
    this.closed = true;
  }
  open(): void {
    this.onopen?.(new Event('open'));
  }
  receive(data: string): void {
    this.onmessage?.({ data } as MessageEvent);
  }
  drop(code = 1006): void {
    this.onclose?.({ code } as CloseEvent);
  }
}

function harness(sessionValid = true) {
  const sockets: FakeSocket[] = [];
  const statuses: ConnectionStatus['state'][] = [];
  const messages: StreamMessage[] = [];
  const timers: { fn: () => void; ms: number }[] = [];
  let lost = 0;
  const connection = openStreamConnection({
    url: 'wss://cc.example/api/v1/stream',
    onMessage: (m) => messages.push(m),
    onStatus: (s) => statuses.push(s.state),
    onSessionLost: () => (lost += 1),
    sessionValid: () => Promise.resolve(sessionValid),
    createSocket: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
    random: () => 0.5,
    now: () => 1000,
    setTimer: (fn, ms) => timers.push({ fn, ms }),
    clearTimer: () => undefined,
  });
  return { connection, sockets, statuses, messages, timers, lost: () => lost };
}

describe('stream connection', () => {
  it('goes live on open and hands on well-formed messages only', () => {
    const h = harness();
    h.sockets[0]!.open();
    h.sockets[0]!.receive(JSON.stringify({ type: 'snapshot', devices: [] }));
    h.sockets[0]!.receive('not json');
    h.sockets[0]!.receive(JSON.stringify({ type: 'mystery' }));
    expect(h.statuses).toEqual(['connecting', 'live']);
    expect(h.messages.map((m) => m.type)).toEqual(['snapshot']);
  });

  it('reconnects with growing delays after the connection drops, and resets them once live', () => {
    const h = harness();
    h.sockets[0]!.open();
    h.sockets[0]!.drop();
    expect(h.statuses.at(-1)).toBe('reconnecting');
    expect(h.timers[0]?.ms).toBe(reconnectDelay(0, 0.5));
    h.timers[0]!.fn();
    expect(h.sockets).toHaveLength(2);
    h.sockets[1]!.open();
    h.sockets[1]!.drop();
    expect(h.timers[1]?.ms).toBe(reconnectDelay(0, 0.5));
  });

  it('ends the session when the server closes with 1008 (credentials expired)', () => {
    const h = harness();
    h.sockets[0]!.open();
    h.sockets[0]!.drop(1008);
    expect(h.lost()).toBe(1);
    expect(h.statuses.at(-1)).toBe('closed');
    expect(h.timers).toHaveLength(0);
  });

  it('asks whether the session stands when the upgrade is refused', async () => {
    const refused = harness(false);
    refused.sockets[0]!.drop();
    await Promise.resolve();
    await Promise.resolve();
    expect(refused.lost()).toBe(1);
    const down = harness(true);
    down.sockets[0]!.drop();
    await Promise.resolve();
    await Promise.resolve();
    expect(down.lost()).toBe(0);
    expect(down.statuses.at(-1)).toBe('reconnecting');
  });

  it('stops for good when closed', () => {
    const h = harness();
    h.sockets[0]!.open();
    h.connection.close();
    expect(h.sockets[0]!.closed).toBe(true);
    h.sockets[0]!.drop();
    expect(h.timers).toHaveLength(0);
  });

  it('backs off exponentially with jitter up to 30 s', () => {
    expect(reconnectDelay(0, 0)).toBe(250);
    expect(reconnectDelay(0, 0.999)).toBeLessThanOrEqual(500);
    expect(reconnectDelay(3, 1)).toBe(4000);
    expect(reconnectDelay(20, 1)).toBe(BACKOFF_MAX_MS);
    expect(parseStreamMessage(42)).toBeNull();
  });
});
