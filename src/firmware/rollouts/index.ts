// Staged firmware rollouts: a catalog package pushed to a selection of compatible devices, canary
// group first, with a concurrency limit, a failure threshold, pause / resume / abort and live
// per-device progress (docs/firmware.md, "Rollouts").

export { createRolloutService } from './rollout-service.js';
export {
  countStatuses,
  incompatibility,
  isFinalStatus,
  judgeTurn,
  planRollout,
  type PlanInput,
  type RolloutPlan,
  type Turn,
} from './rollout-plan.js';
export {
  PUSH_PHASES,
  SYSTEM_ACTOR,
  type CreateRolloutInput,
  type CreatedRollout,
  type ExcludedDevice,
  type FirmwarePush,
  type FirmwarePushProgress,
  type FirmwarePushResult,
  type PushPhase,
  type RolloutActor,
  type RolloutCounts,
  type RolloutDetail,
  type RolloutEvent,
  type RolloutService,
  type RolloutServiceDeps,
  type RolloutSettings,
  type RolloutSummary,
} from './rollout-types.js';
