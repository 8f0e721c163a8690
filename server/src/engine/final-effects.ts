import { forEachStep, type Step } from '../flows/definition/flow-definition.schema';

const EFFECTFUL = new Set(['action', 'request', 'delay', 'approval']);

/**
 * Ids of the action/request steps after which no effectful step can run (none follows in document
 * order, and they are not inside a loop). Their checkpoint is skipped: the run's final update,
 * a few pure steps later, records them anyway. Saves one UPDATE per run of the common
 * "compute, call, summarise" flow; a crash in between re-runs the call with the same idempotency key.
 */
export function finalEffectSteps(steps: Step[]): Set<string> {
  const visits: Array<{ step: Step; inLoop: boolean }> = [];
  forEachStep(steps, ({ step, ancestors }) => visits.push({ step, inLoop: ancestors.some((a) => a.step.type === 'loop') }));
  const final = new Set<string>();
  for (let i = visits.length - 1; i >= 0; i--) {
    const { step, inLoop } = visits[i];
    if (!EFFECTFUL.has(step.type)) continue;
    if (!inLoop && (step.type === 'action' || step.type === 'request')) final.add(step.id);
    return final;
  }
  return final;
}
