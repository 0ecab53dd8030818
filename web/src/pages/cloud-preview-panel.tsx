// What the cloud would receive: the next periodic report exactly as the server would build it now
// (after consent is applied, before it is sealed), and a button to queue one right away.

import { useState } from 'preact/hooks';
import type { QueuedReport, UplinkPreview } from '../api/types';
import { useApp } from '../app-context';
import { formatBytes } from './cloud-status-panel';
import { messageOf } from './users-page';

type Outcome = { kind: 'ok'; text: string } | { kind: 'error'; text: string } | null;

export function PreviewPanel({ enrolled, onSent }: { enrolled: boolean; onSent: () => void }) {
  const { api } = useApp();
  const [preview, setPreview] = useState<{ json: string; bytes: number } | null>(null);
  const [previewError, setPreviewError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [sending, setSending] = useState(false);
  const [sent, setSent] = useState<Outcome>(null);

  async function loadPreview(): Promise<void> {
    setLoading(true);
    setPreviewError(null);
    try {
      const r = await api.get<UplinkPreview>('/api/v1/cloud/preview');
      setPreview({ json: JSON.stringify(r.report, null, 2), bytes: r.bytes });
    } catch (err) {
      setPreviewError(messageOf(err));
    } finally {
      setLoading(false);
    }
  }

  async function sendNow(): Promise<void> {
    setSending(true);
    setSent(null);
    try {
      const r = await api.post<QueuedReport>('/api/v1/cloud/reports');
      setSent({
        kind: 'ok',
        text: `Report #${r.seq} queued (${r.bytes.toLocaleString()} bytes); it is delivered in the background.`,
      });
    } catch (err) {
      setSent({ kind: 'error', text: `No report queued: ${messageOf(err)}` });
    } finally {
      setSending(false);
      onSent();
    }
  }

  return (
    <section class="panel" aria-labelledby="cloud-preview">
      <h2 id="cloud-preview">What is sent</h2>
      <p>
        Every report is encrypted for the cloud before it leaves this site, and only this server and
        the cloud can read it. The preview shows its content before encryption, with consent
        applied.
      </p>
      <div class="actions" role="group" aria-label="Reports">
        <button type="button" class="button" disabled={loading} onClick={() => void loadPreview()}>
          {loading ? 'Building the preview…' : 'Preview next report'}
        </button>
        <button
          type="button"
          class="button"
          disabled={sending || !enrolled}
          aria-describedby={enrolled ? undefined : 'cloud-send-note'}
          onClick={() => void sendNow()}
        >
          {sending ? 'Queuing…' : 'Send a report now'}
        </button>
        {enrolled ? null : (
          <span id="cloud-send-note" class="small muted">
            Sending needs an enrollment.
          </span>
        )}
      </div>
      <div aria-live="polite" class="cloud-results">
        {sent ? (
          <p class={sent.kind === 'ok' ? 'cloud-sent' : 'form-error'} data-sent={sent.kind}>
            {sent.text}
          </p>
        ) : null}
        {previewError ? (
          <p class="form-error">The preview could not be built: {previewError}</p>
        ) : null}
        {preview ? (
          <p data-preview-size>
            Next report: <strong>{preview.bytes.toLocaleString()} bytes</strong> (
            {formatBytes(preview.bytes)}) before encryption.
          </p>
        ) : null}
      </div>
      {preview ? (
        // Focusable so that keyboard users can scroll it.
        <pre class="cloud-preview" tabIndex={0} aria-label="Next report (JSON)" data-preview>
          {preview.json}
        </pre>
      ) : null}
    </section>
  );
}
