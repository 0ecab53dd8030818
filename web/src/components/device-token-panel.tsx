// "MQTT access" on the device page, for `devices:manage`: whether the device has an MQTT token and
// since when; issue, rotate (closes the device's connection, the old token stops at once) and
// revoke; a new token shown once, copyable, with the command line a device would use it with.

import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api/api-client';
import type { ServerInfo } from '../api/types';
import { useApp } from '../app-context';
import { formatDateTime } from '../format/time-format';

/** GET /api/v1/devices/{id}/mqtt-token */
export interface MqttTokenStatus {
  deviceId: string;
  issuedAt: string;
  connected: boolean;
}

/** POST /api/v1/devices/{id}/mqtt-token (the only answer that holds the token). */
export interface IssuedMqttToken {
  deviceId: string;
  token: string;
  issuedAt: string;
  rotated: boolean;
}

type Status =
  | { kind: 'loading' }
  | { kind: 'none' }
  | { kind: 'present'; issuedAt: string; connected: boolean }
  | { kind: 'failed'; message: string };

type Confirming = 'rotate' | 'revoke' | null;

function tokenPath(deviceId: string): string {
  return `/api/v1/devices/${encodeURIComponent(deviceId)}/mqtt-token`;
}

/** DELETE with the API client's error shape (the client itself offers GET and POST only). */
export async function deleteRequest(path: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: 'DELETE',
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
    });
  } catch {
    throw new ApiError(
      0,
      'NETWORK',
      'The server cannot be reached. Check the network and try again.',
    );
  }
  if (res.ok) return;
  let code = `HTTP_${res.status}`;
  let message = `The server answered ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === 'string') code = body.error.code;
    if (typeof body.error?.message === 'string') message = body.error.message;
  } catch {
    message = `${message} (not a Command Center answer)`;
  }
  throw new ApiError(res.status, code, message);
}

/** How a device (or a person standing in for one) connects with the token: MQTT 3.1.1. */
export function mosquittoExample(
  deviceId: string,
  token: string,
  host: string,
  port: number | string,
): string {
  return (
    `mosquitto_pub -V mqttv311 -h ${host} -p ${port} -i ${deviceId} -u ${deviceId} ` +
    `-P '${token}' -t cc/v1/devices/${deviceId}/status -m online -q 1 -r`
  );
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function DeviceTokenPanel({
  deviceId,
  remove = deleteRequest,
}: {
  deviceId: string;
  /** Sends the DELETE; replaced in tests. */
  remove?: (path: string) => Promise<void>;
}) {
  const { api, notify } = useApp();
  const [status, setStatus] = useState<Status>({ kind: 'loading' });
  const [issued, setIssued] = useState<IssuedMqttToken | null>(null);
  const [confirming, setConfirming] = useState<Confirming>(null);
  const [busy, setBusy] = useState(false);
  const [copied, setCopied] = useState(false);
  const [mqttPort, setMqttPort] = useState<number | null>(null);
  const tokenField = useRef<HTMLInputElement>(null);
  const safeChoice = useRef<HTMLButtonElement>(null);
  const mainAction = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    let current = true;
    setStatus({ kind: 'loading' });
    setIssued(null);
    api.get<MqttTokenStatus>(tokenPath(deviceId)).then(
      (s) => {
        if (current) setStatus({ kind: 'present', issuedAt: s.issuedAt, connected: s.connected });
      },
      (err: unknown) => {
        if (!current) return;
        if (err instanceof ApiError && err.status === 404) setStatus({ kind: 'none' });
        else setStatus({ kind: 'failed', message: messageOf(err) });
      },
    );
    return () => {
      current = false;
    };
  }, [api, deviceId]);

  // The new token gets the focus, so a keyboard user can copy it straight away.
  useEffect(() => {
    if (!issued) return;
    tokenField.current?.focus();
    tokenField.current?.select();
  }, [issued]);
  useEffect(() => {
    if (confirming) safeChoice.current?.focus();
  }, [confirming]);

  useEffect(() => {
    if (!issued || mqttPort !== null) return;
    api.get<ServerInfo>('/api/v1/info').then(
      (info) => setMqttPort(info.ports.mqtt),
      () => undefined,
    );
  }, [api, issued, mqttPort]);

  async function issue(): Promise<void> {
    setBusy(true);
    setConfirming(null);
    try {
      const answer = await api.post<IssuedMqttToken>(tokenPath(deviceId));
      setIssued(answer);
      setCopied(false);
      setStatus({ kind: 'present', issuedAt: answer.issuedAt, connected: false });
      notify(
        answer.rotated
          ? `MQTT token of ${deviceId} rotated: the old token no longer works`
          : `MQTT token issued for ${deviceId}`,
        'success',
      );
    } catch (err) {
      notify(`The token could not be issued: ${messageOf(err)}`, 'error');
    } finally {
      setBusy(false);
    }
  }

  async function revoke(): Promise<void> {
    setBusy(true);
    setConfirming(null);
    try {
      await remove(tokenPath(deviceId));
      setIssued(null);
      setStatus({ kind: 'none' });
      notify(`MQTT token of ${deviceId} revoked: the device can no longer connect`, 'success');
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) setStatus({ kind: 'none' });
      notify(`The token could not be revoked: ${messageOf(err)}`, 'error');
    } finally {
      setBusy(false);
      mainAction.current?.focus();
    }
  }

  async function copy(): Promise<void> {
    if (!issued) return;
    try {
      await navigator.clipboard.writeText(issued.token);
      setCopied(true);
    } catch {
      // No clipboard access (plain HTTP, permissions): leave it selected for Ctrl+C.
      tokenField.current?.select();
      notify('Copying is not allowed here: the token is selected, press Ctrl+C', 'info');
    }
  }

  function dismiss(): void {
    setIssued(null);
    mainAction.current?.focus();
  }

  const has = status.kind === 'present';
  const host = typeof location === 'undefined' ? 'server' : location.hostname;

  return (
    <section class="panel token-panel" aria-labelledby="mqtt-access-title">
      <h2 id="mqtt-access-title">MQTT access</h2>
      <p class="muted small">
        The device logs in to the broker with its id as user name and this token as password.
      </p>
      <p aria-live="polite" data-token-status={status.kind}>
        {status.kind === 'loading'
          ? 'Checking the device’s MQTT token…'
          : status.kind === 'none'
            ? 'No MQTT token: the device cannot connect to the broker.'
            : status.kind === 'present'
              ? `A token is active since ${formatDateTime(status.issuedAt)}${
                  status.connected ? ' · the device is connected now' : ''
                }.`
              : `The token status could not be loaded: ${status.message}`}
      </p>
      {status.kind === 'none' || status.kind === 'present' ? (
        confirming === null ? (
          <div class="actions" role="group" aria-label="MQTT token actions">
            <button
              ref={mainAction}
              type="button"
              class={has ? 'button' : 'button primary'}
              disabled={busy}
              onClick={() => (has ? setConfirming('rotate') : void issue())}
            >
              {busy ? 'Working…' : has ? 'Rotate token…' : 'Issue token'}
            </button>
            {has ? (
              <button
                type="button"
                class="button secondary"
                disabled={busy}
                onClick={() => setConfirming('revoke')}
              >
                Revoke…
              </button>
            ) : null}
          </div>
        ) : (
          <div
            class="confirm callout warning"
            role="group"
            aria-label={confirming === 'rotate' ? 'Confirm rotation' : 'Confirm revocation'}
          >
            <span>
              {confirming === 'rotate'
                ? `Rotate the token of ${deviceId}? The device’s MQTT connection is closed and the old token stops working at once; the device needs the new token to reconnect.`
                : `Revoke the token of ${deviceId}? The device’s MQTT connection is closed and it cannot connect again until a new token is issued.`}
            </span>
            <button
              type="button"
              class="button danger"
              disabled={busy}
              onClick={() => void (confirming === 'rotate' ? issue() : revoke())}
            >
              {confirming === 'rotate' ? 'Yes, rotate token' : 'Yes, revoke token'}
            </button>
            <button
              ref={safeChoice}
              type="button"
              class="button secondary"
              onClick={() => {
                setConfirming(null);
                mainAction.current?.focus();
              }}
            >
              Keep the current token
            </button>
          </div>
        )
      ) : null}
      {issued ? (
        <div class="token-once callout info">
          <label for="mqtt-token-value">
            New MQTT token for {issued.deviceId} — shown only once
          </label>
          <div class="token-row">
            <input
              id="mqtt-token-value"
              ref={tokenField}
              type="text"
              readOnly
              value={issued.token}
              spellcheck={false}
              autoComplete="off"
              aria-describedby="mqtt-token-note"
              onFocus={(e) => e.currentTarget.select()}
            />
            <button type="button" class="button" onClick={() => void copy()}>
              {copied ? 'Copied' : 'Copy token'}
            </button>
          </div>
          <p id="mqtt-token-note" class="small">
            Copy it now and configure it on the device: only its hash is stored, so it cannot be
            shown again. If it is lost, rotate the token.
          </p>
          <p class="small">How the device connects (user name = device id, password = token):</p>
          <pre class="token-example">
            <code>
              {mosquittoExample(issued.deviceId, issued.token, host, mqttPort ?? '<mqtt port>')}
            </code>
          </pre>
          <button type="button" class="button secondary" onClick={dismiss}>
            Done, hide the token
          </button>
        </div>
      ) : null}
    </section>
  );
}
