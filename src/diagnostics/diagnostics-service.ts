// The doctor inside the server: one run at a time, started by an admin, its checks visible while it
// runs (GET /api/v1/diagnostics polls them) and its report kept until the next run.

import { randomUUID } from 'node:crypto';
import { CcError } from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import { plannedChecks, runDoctor, type DoctorOptions } from './run-doctor.js';
import type { CheckResult, DoctorSummary } from './types.js';

export interface DiagnosticsRun {
  id: string;
  state: 'running' | 'done';
  startedAt: string;
  finishedAt: string | null;
  startedBy: string;
  /** The proxy tested, without credentials; null when none applies. */
  proxy: string | null;
  /** Checks the run will report, for progress. */
  total: number;
  checks: CheckResult[];
  summary: DoctorSummary | null;
  exitCode: 0 | 1 | 2 | null;
}

export interface DiagnosticsService {
  /** The latest run (a copy), or null when none ran since start. */
  latest(): DiagnosticsRun | null;
  /** Starts a run; refused with DIAGNOSTICS_RUNNING while one runs. */
  start(startedBy: string): Promise<DiagnosticsRun>;
  /** Aborts a running run and waits for it to end. */
  stop(): Promise<void>;
}

export interface DiagnosticsDeps {
  logger: Logger;
  /** The run's options, built fresh for each run (ports, proxy and settings as they are now). */
  options: () => Promise<DoctorOptions>;
  /** The proxy the run tests, for display (no credentials). */
  proxyLabel: () => string | null;
  onFinished?: (run: DiagnosticsRun) => void;
}

function copy(run: DiagnosticsRun): DiagnosticsRun {
  return { ...run, checks: [...run.checks] };
}

export function createDiagnosticsService(deps: DiagnosticsDeps): DiagnosticsService {
  let current: DiagnosticsRun | null = null;
  let running: { controller: AbortController; done: Promise<void> } | null = null;
  let stopped = false;

  return {
    latest: () => (current === null ? null : copy(current)),

    async start(startedBy) {
      if (stopped) throw new CcError('DIAGNOSTICS_RUNNING', 'the server is shutting down');
      if (running !== null)
        throw new CcError(
          'DIAGNOSTICS_RUNNING',
          'a network check is already running; its results appear as its checks finish',
        );
      const controller = new AbortController();
      // Claimed before the first await, so two requests cannot both start a run.
      const claim = { controller, done: Promise.resolve() };
      running = claim;
      let options: DoctorOptions;
      try {
        options = { ...(await deps.options()), signal: controller.signal };
      } catch (err) {
        running = null;
        throw err;
      }
      const run: DiagnosticsRun = {
        id: randomUUID(),
        state: 'running',
        startedAt: new Date().toISOString(),
        finishedAt: null,
        startedBy,
        proxy: deps.proxyLabel(),
        total: plannedChecks(options),
        checks: [],
        summary: null,
        exitCode: null,
      };
      current = run;
      deps.logger.info({ runId: run.id, startedBy }, 'network check started');
      claim.done = runDoctor(options, (check) => {
        run.checks.push(check);
      })
        .then((report) => {
          run.checks = report.checks;
          run.summary = report.summary;
          run.exitCode = report.exitCode;
        })
        .catch((err: unknown) => {
          deps.logger.error({ err, runId: run.id }, 'network check failed');
          run.exitCode = 2;
        })
        .finally(() => {
          run.state = 'done';
          run.finishedAt = new Date().toISOString();
          running = null;
          deps.logger.info(
            { runId: run.id, exitCode: run.exitCode, summary: run.summary },
            'network check finished',
          );
          deps.onFinished?.(copy(run));
        });
      return copy(run);
    },

    async stop() {
      stopped = true;
      const active = running;
      if (active === null) return;
      active.controller.abort();
      await active.done;
    },
  };
}
