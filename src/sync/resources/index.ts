import type { OperationOf, Step } from "../resource.js";
import { assignments } from "./assignment/index.js";
import { domains } from "./domain/index.js";
import { federation } from "./federation/index.js";
import { flavors } from "./flavor/index.js";
import { groups } from "./group/index.js";
import { groupGrants } from "./group-grant/index.js";
import { images } from "./image/index.js";
import { keypairs } from "./keypair/index.js";
import { memberships } from "./membership/index.js";
import { projects } from "./project/index.js";
import { quotas } from "./quota/index.js";
import { securityGroups } from "./security-group/index.js";
import { users } from "./user/index.js";

/**
 * Every synced resource, in plan order (what `archway sync plan` lists first). Adding a resource: its folder under
 * `resources/` and one line here; its operations join {@link Operation}, its steps the apply dispatch, its phases
 * the apply order.
 */
export const RESOURCES = [
  domains,
  projects,
  users,
  assignments,
  groups,
  memberships,
  keypairs,
  groupGrants,
  federation,
  quotas,
  flavors,
  securityGroups,
  images,
] as const;

/** A resource of {@link RESOURCES}. */
export type Resource = (typeof RESOURCES)[number];

/**
 * The typed operations of a sync plan: the union of every registered resource's operations. Each says what it
 * changes, in which cloud, and which policies caused it (empty for removals: they happen because no policy asks for
 * the object any more).
 */
export type Operation = OperationOf<Resource>;

/** Every operation kind with its step: built from the modules, so a kind here always has its apply and phase. */
type StepTable = { [K in Operation["kind"]]: Step<Extract<Operation, { kind: K }>> };

const STEPS: StepTable = stepTable();

function stepTable(): StepTable {
  const table: Record<string, unknown> = {};
  for (const resource of RESOURCES) {
    for (const [kind, step] of Object.entries(resource.steps)) {
      // Two modules claiming one kind would make dispatch depend on registry order: refused at load.
      if (kind in table) throw new Error(`sync resources: operation kind ${kind} is registered twice`);
      table[kind] = step;
    }
  }
  // Each module's `steps` is a Steps<Op> (every kind of Op, no other); so the merged record is the StepTable.
  return table as StepTable;
}

/**
 * The step of an operation (phase, action, description, apply), or undefined for a kind no resource registers
 * (only possible for data that did not come from a planner, e.g. a hand-edited saved plan).
 */
export function stepOf(op: Operation): Step<Operation> | undefined {
  // One cast: TypeScript cannot correlate `op.kind` with the table's key, but the table is keyed by kind.
  return (STEPS as Record<string, Step<Operation> | undefined>)[op.kind];
}

/** Every registered operation kind (tests check each has a phase and an apply step). */
export const OPERATION_KINDS = Object.keys(STEPS) as Operation["kind"][];

export { assignments, domains, federation, groupGrants, groups, keypairs, memberships, projects, quotas, users };
