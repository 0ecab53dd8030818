// A device state as colour, icon and word together.

import type { DeviceState } from '../api/types';
import { STATE_LABEL } from '../format/labels';
import { StateIcon } from './icons';

export function StateBadge({ state, large }: { state: DeviceState; large?: boolean }) {
  return (
    <span class={`state-badge state-${state}${large ? ' large' : ''}`} data-state={state}>
      <StateIcon state={state} />
      <span>{STATE_LABEL[state]}</span>
    </span>
  );
}
