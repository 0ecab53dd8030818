// A job is one build on one device, from queued to a final state.

export const JOB_STATES = [
  'queued',
  'printing',
  'paused',
  'completed',
  'failed',
  'cancelled',
] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface Job {
  id: string;
  deviceId: string;
  name: string;
  owner: string;
  state: JobState;
  /** 0–100 */
  progress: number;
  startedAt: string | null;
  estimatedEndAt: string | null;
  endedAt: string | null;
  layer: number | null;
  layers: number | null;
  /** Material used so far, in grams. */
  materialUsedG: number | null;
  /** RFC 3339 device time of the newest update applied to this job. */
  updatedAt: string;
}

export function isFinalJobState(state: JobState): boolean {
  switch (state) {
    case 'completed':
    case 'failed':
    case 'cancelled':
      return true;
    case 'queued':
    case 'printing':
    case 'paused':
      return false;
  }
}
