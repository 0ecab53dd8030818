// Uploading a package file to the catalog, with the bytes sent so far. The server verifies it
// before it keeps it; a refusal lists every check it ran, passed or failed, with what it found, so
// the administrator sees exactly why (an unknown key, an expired manifest, a changed image …).

import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiAnswerError, uploadVia } from '../api/api-client';
import type { FirmwareCheck, FirmwarePackage, FirmwareRefusal } from '../api/types';
import { useApp } from '../app-context';
import { NamedIcon } from '../components/icons';
import { ProgressBar } from '../components/meter-bar';
import { formatDateTime } from '../format/time-format';
import { formatBytes } from './cloud-status-panel';
import { CheckList } from './firmware-labels';
import { messageOf } from './users-page';

type Outcome =
  | { kind: 'admitted'; pkg: FirmwarePackage }
  | { kind: 'refused'; code: string; message: string; checks: FirmwareCheck[] }
  | { kind: 'failed'; message: string };

function refusalChecks(err: unknown): FirmwareCheck[] {
  if (!(err instanceof ApiAnswerError)) return [];
  const body = err.body as FirmwareRefusal | undefined;
  return Array.isArray(body?.verdict?.checks) ? body.verdict.checks : [];
}

export function UploadPanel({ onUploaded }: { onUploaded: () => void }) {
  const { api, can } = useApp();
  const [file, setFile] = useState<File | null>(null);
  const [sent, setSent] = useState<{ loaded: number; total: number | null } | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const inFlight = useRef<AbortController | null>(null);
  useEffect(() => () => inFlight.current?.abort(), []);

  if (!can('firmware:manage')) {
    return (
      <section class="panel" aria-labelledby="fw-upload">
        <h2 id="fw-upload">Upload a package</h2>
        <p class="callout info" data-permission-needed>
          You need the <code>firmware:manage</code> permission (an administrator) to upload or
          remove packages.
        </p>
      </section>
    );
  }

  async function upload(): Promise<void> {
    if (file === null) return;
    const controller = new AbortController();
    inFlight.current = controller;
    setOutcome(null);
    setSent({ loaded: 0, total: file.size });
    try {
      const pkg = await uploadVia<FirmwarePackage>(
        api,
        '/api/v1/firmware/packages',
        file,
        (p) => setSent(p),
        controller.signal,
      );
      setOutcome({ kind: 'admitted', pkg });
      setFile(null);
      if (input.current) input.current.value = '';
      onUploaded();
    } catch (err) {
      if (controller.signal.aborted) return;
      const checks = refusalChecks(err);
      setOutcome(
        checks.length > 0 || err instanceof ApiAnswerError
          ? {
              kind: 'refused',
              code: err instanceof ApiAnswerError ? err.code : 'REFUSED',
              message: messageOf(err),
              checks,
            }
          : { kind: 'failed', message: messageOf(err) },
      );
    } finally {
      if (inFlight.current === controller) inFlight.current = null;
      setSent(null);
    }
  }

  const busy = sent !== null;
  const pct =
    sent && sent.total !== null && sent.total > 0 ? (sent.loaded / sent.total) * 100 : null;
  return (
    <section class="panel" aria-labelledby="fw-upload">
      <h2 id="fw-upload">Upload a package</h2>
      <form
        class="filters fw-upload-form"
        aria-label="Upload a firmware package"
        onSubmit={(e) => {
          e.preventDefault();
          void upload();
        }}
      >
        <div class="field grow">
          <label for="fw-upload-file">Package file (.tar)</label>
          <input
            id="fw-upload-file"
            ref={input}
            type="file"
            accept=".tar,application/x-tar,application/octet-stream"
            disabled={busy}
            onChange={(e) => {
              setFile(e.currentTarget.files?.[0] ?? null);
              setOutcome(null);
            }}
          />
        </div>
        <button type="submit" class="button primary" disabled={file === null || busy}>
          {busy ? 'Uploading…' : 'Upload'}
        </button>
        {busy ? (
          <button type="button" class="button" onClick={() => inFlight.current?.abort()}>
            Cancel upload
          </button>
        ) : null}
      </form>
      {busy ? (
        <div class="fw-upload-progress" data-upload-progress>
          <ProgressBar value={pct ?? 0} label="Upload progress" />
          <span class="small">
            {formatBytes(sent.loaded)}
            {sent.total !== null ? ` of ${formatBytes(sent.total)}` : ''} sent
            {pct !== null && pct >= 100 ? '; the server is verifying the package…' : ''}
          </span>
        </div>
      ) : null}
      <div aria-live="polite" class="fw-result" data-upload-result>
        {outcome ? <UploadOutcome outcome={outcome} /> : null}
      </div>
    </section>
  );
}

function UploadOutcome({ outcome }: { outcome: Outcome }) {
  switch (outcome.kind) {
    case 'admitted': {
      const p = outcome.pkg;
      return (
        <div class="fw-outcome fw-ok" data-outcome="admitted">
          <p>
            <NamedIcon name="check" />{' '}
            <strong>
              {p.name} {p.version}
            </strong>{' '}
            verified: it is in the catalog
            {/* The same bytes uploaded twice answer with the first record: who added it, when. */}
            <span class="muted">
              {' '}
              (added {formatDateTime(p.addedAt)} by {p.addedBy})
            </span>
            .
          </p>
          <details>
            <summary>Checks</summary>
            <CheckList checks={p.checks} label="Checks of the uploaded package" />
          </details>
        </div>
      );
    }
    case 'refused':
      return (
        <div class="callout error fw-outcome" role="alert" data-outcome="refused">
          <p>
            <NamedIcon name="error" /> <strong>Refused</strong> ({outcome.code}): {outcome.message}
          </p>
          {outcome.checks.length > 0 ? (
            <>
              <p class="small">Every check the server ran on the file:</p>
              <CheckList checks={outcome.checks} label="Checks of the refused package" />
            </>
          ) : null}
        </div>
      );
    case 'failed':
      return (
        <p class="callout error" role="alert" data-outcome="failed">
          <NamedIcon name="error" /> Not uploaded: {outcome.message}
        </p>
      );
  }
}
