// Enrolling this site with the vendor cloud (organization id and a one-time token from the cloud
// portal), enrolling again, and un-enrolling after an explicit confirmation. The token lives only
// in its input field: it is read when the form is sent and the field is emptied right away.

import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, deleteVia } from '../api/api-client';
import type { UplinkStatus } from '../api/types';
import { useApp } from '../app-context';
import { NamedIcon } from '../components/icons';
import { messageOf } from './users-page';

/** What to check next, by the server's error code; the server's own message is shown above it. */
function hintFor(err: unknown): string | null {
  if (!(err instanceof ApiError)) return null;
  switch (err.code) {
    case 'CLOUD_ENROLLMENT_REFUSED':
      return 'Check the organization id, and that the token was issued for it, is not used yet and has not expired. Ask the cloud portal for a new token if in doubt.';
    case 'CLOUD_UNREACHABLE':
    case 'CLOUD_BAD_RESPONSE':
      return 'This server could not talk to the cloud: check the proxy settings, the firewall and TLS inspection (Network diagnostics), then try again.';
    case 'CLOUD_NOT_ENROLLED':
      return 'This site is not enrolled (any more); the status above is now up to date.';
    case 'NETWORK':
      return 'Command Center itself could not be reached from this browser.';
    default:
      return null;
  }
}

function ApiErrorText({ error }: { error: unknown }) {
  const hint = hintFor(error);
  return (
    <div class="form-error cloud-form-error" role="alert">
      <p>{messageOf(error)}</p>
      {hint ? <p class="small">{hint}</p> : null}
    </div>
  );
}

function EnrollForm({
  again,
  onEnrolled,
  onCancel,
}: {
  again: boolean;
  onEnrolled: (status: UplinkStatus) => void;
  onCancel?: () => void;
}) {
  const { api } = useApp();
  const [organizationId, setOrganizationId] = useState('');
  const [endpoint, setEndpoint] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const tokenField = useRef<HTMLInputElement>(null);
  const orgField = useRef<HTMLInputElement>(null);
  useEffect(() => {
    // Opened on request ("Enroll again…"): the keyboard continues in the form.
    if (again) orgField.current?.focus();
  }, [again]);

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    const field = tokenField.current;
    if (!field) return;
    const enrollmentToken = field.value.trim();
    // A one-time secret: gone from the page before the request even starts.
    field.value = '';
    setBusy(true);
    setError(null);
    try {
      const status = await api.post<UplinkStatus>('/api/v1/cloud/enrollment', {
        organizationId: organizationId.trim(),
        enrollmentToken,
        ...(endpoint.trim() === '' ? {} : { endpoint: endpoint.trim() }),
      });
      onEnrolled(status);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const verb = again ? 'Enroll again' : 'Enroll';
  return (
    <form
      class="cloud-form"
      aria-label={again ? 'Enroll again' : 'Enroll this site'}
      aria-describedby="cloud-enroll-note"
      onSubmit={(e) => void submit(e)}
    >
      {again ? (
        <p class="callout warning" id="cloud-enroll-note">
          <NamedIcon name="error" /> Enrolling again replaces the current enrollment: reports still
          queued for the old site are <strong>discarded</strong>, and this server reports as the
          site the cloud assigns now.
        </p>
      ) : (
        <p id="cloud-enroll-note" class="small muted">
          Get the organization id and a one-time enrollment token from the vendor cloud portal. The
          secret the cloud answers with is stored encrypted on this server and never shown.
        </p>
      )}
      <div class="field">
        <label for="cloud-org">Organization id</label>
        <input
          id="cloud-org"
          ref={orgField}
          name="organizationId"
          required
          maxLength={128}
          autoComplete="off"
          spellcheck={false}
          value={organizationId}
          onInput={(e) => setOrganizationId(e.currentTarget.value)}
        />
      </div>
      <div class="field">
        <label for="cloud-token">Enrollment token</label>
        <input
          id="cloud-token"
          name="enrollmentToken"
          ref={tokenField}
          type="password"
          required
          minLength={8}
          maxLength={512}
          autoComplete="off"
          spellcheck={false}
          aria-describedby="cloud-token-note"
        />
        <span id="cloud-token-note" class="small muted">
          Used once; the field is emptied when you send the form.
        </span>
      </div>
      <details class="cloud-advanced">
        <summary>Advanced</summary>
        <div class="field">
          <label for="cloud-endpoint">Cloud endpoint (optional)</label>
          <input
            id="cloud-endpoint"
            name="endpoint"
            type="url"
            placeholder="https://"
            maxLength={2048}
            spellcheck={false}
            aria-describedby="cloud-endpoint-note"
            value={endpoint}
            onInput={(e) => setEndpoint(e.currentTarget.value)}
          />
          <span id="cloud-endpoint-note" class="small muted">
            Leave empty for the configured endpoint. Only <code>https://</code> addresses on the
            allow-list (<code>uplink.allowedHosts</code>) are accepted.
          </span>
        </div>
      </details>
      <div class="actions">
        <button type="submit" class={`button ${again ? 'danger' : 'primary'}`} disabled={busy}>
          {busy ? 'Enrolling…' : verb}
        </button>
        {onCancel ? (
          <button type="button" class="button" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
        ) : null}
      </div>
      {error !== null ? <ApiErrorText error={error} /> : null}
    </form>
  );
}

export function EnrollmentPanel({
  status,
  onStatus,
  onChanged,
}: {
  status: UplinkStatus;
  /** A fresh status the server answered with. */
  onStatus: (status: UplinkStatus) => void;
  /** Something changed on the server: load the status again. */
  onChanged: () => void;
}) {
  const { api, notify } = useApp();
  const [mode, setMode] = useState<'idle' | 'enroll-again' | 'confirm-unenroll'>('idle');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const againButton = useRef<HTMLButtonElement>(null);
  const unenrollButton = useRef<HTMLButtonElement>(null);
  const question = useRef<HTMLDivElement>(null);
  const returnTo = useRef<'again' | 'unenroll' | null>(null);

  function open(next: 'enroll-again' | 'confirm-unenroll'): void {
    setError(null);
    returnTo.current = next === 'enroll-again' ? 'again' : 'unenroll';
    setMode(next);
  }

  useEffect(() => {
    // Back from the form or the question: focus returns to the button that opened it.
    if (mode === 'confirm-unenroll') question.current?.focus();
    if (mode !== 'idle' || returnTo.current === null) return;
    (returnTo.current === 'again' ? againButton : unenrollButton).current?.focus();
    returnTo.current = null;
  }, [mode]);

  function enrolled(next: UplinkStatus): void {
    setMode('idle');
    onStatus(next);
    notify(
      `Enrolled: this server reports as site ${next.enrollment?.siteId ?? '(unknown)'}.`,
      'success',
    );
  }

  async function unenroll(): Promise<void> {
    setBusy(true);
    setError(null);
    try {
      await deleteVia(api, '/api/v1/cloud/enrollment');
      setMode('idle');
      notify('Un-enrolled: nothing leaves this site any more.', 'success');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
      onChanged();
    }
  }

  if (!status.enrolled || status.enrollment === null) {
    return (
      <section class="panel" aria-labelledby="cloud-enrollment">
        <h2 id="cloud-enrollment">Enroll this site</h2>
        <EnrollForm again={false} onEnrolled={enrolled} />
      </section>
    );
  }

  const queued = status.outbox.count;
  return (
    <section class="panel" aria-labelledby="cloud-enrollment">
      <h2 id="cloud-enrollment">Enrollment</h2>
      {mode === 'idle' ? (
        <div class="actions" role="group" aria-label="Enrollment actions">
          <button
            type="button"
            class="button"
            ref={againButton}
            onClick={() => open('enroll-again')}
          >
            Enroll again…
          </button>
          <button
            type="button"
            class="button"
            ref={unenrollButton}
            onClick={() => open('confirm-unenroll')}
          >
            Un-enroll…
          </button>
        </div>
      ) : null}
      {mode === 'enroll-again' ? (
        <EnrollForm again onEnrolled={enrolled} onCancel={() => setMode('idle')} />
      ) : null}
      {mode === 'confirm-unenroll' ? (
        <div
          class="callout warning cloud-confirm"
          role="group"
          aria-labelledby="cloud-unenroll-q"
          tabIndex={-1}
          ref={question}
        >
          <p id="cloud-unenroll-q">
            <strong>
              Un-enroll site <code>{status.enrollment.siteId}</code> of organization{' '}
              {status.enrollment.organizationId}?
            </strong>
          </p>
          <p>
            The cloud is told (if it can be reached), the site secret is forgotten and{' '}
            {queued === 1 ? '1 queued report is' : `${queued} queued reports are`} discarded.
            Nothing leaves this site until it is enrolled again, which needs a new token.
          </p>
          <div class="confirm">
            <button
              type="button"
              class="button danger"
              disabled={busy}
              onClick={() => void unenroll()}
            >
              {busy ? 'Un-enrolling…' : 'Yes, un-enroll'}
            </button>
            <button type="button" class="button" disabled={busy} onClick={() => setMode('idle')}>
              Cancel
            </button>
          </div>
        </div>
      ) : null}
      {error !== null ? <ApiErrorText error={error} /> : null}
    </section>
  );
}
