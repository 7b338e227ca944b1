/**
 * The masker of a run: the secret values that the plan and its group sub-plans designate
 * (`secrets:` names or `auto`, `--mask-secrets`), looked up in the tasks' env and maestro's.
 * Used by the run and by the commands that compare against what a run stored (cache explain).
 *
 * @module
 */
import type { PlanIR, TaskIR } from "../plan/ir.ts";
import { createMasker, type Masker, NO_MASK, secretValues } from "../security/mask.ts";

/**
 * The secrets the plan and its group sub-plans declare: names from every `secrets:` list, and
 * whether any says `auto`. A group's tasks print into the same run directory, so what a
 * sub-plan calls secret is masked in the whole run.
 */
export function declaredSecrets(ir: PlanIR): { names: string[]; auto: boolean } {
  const names = new Set<string>();
  let auto = false;
  const visit = (plan: PlanIR) => {
    if (plan.secrets === "auto") auto = true;
    else for (const name of plan.secrets) names.add(name);
    for (const task of plan.tasks) if (task.group) visit(task.group.plan);
  };
  visit(ir);
  return { names: [...names], auto };
}

/**
 * The run's masker.
 *
 * @param ir the plan
 * @param tasks its tasks, group members included (their env holds secret values too)
 * @param parentEnv maestro's environment
 * @param force `--mask-secrets`: names that look secret are masked as with `auto`
 */
export function planMasker(
  ir: PlanIR,
  tasks: readonly TaskIR[],
  parentEnv: Readonly<Record<string, string>>,
  force: boolean,
): Masker {
  const declared = declaredSecrets(ir);
  if (!force && !declared.auto && declared.names.length === 0) return NO_MASK;
  return createMasker(secretValues({
    secrets: declared.names,
    forceAuto: force || declared.auto,
    envLayers: [...tasks.map((t) => t.env), parentEnv],
  }));
}
