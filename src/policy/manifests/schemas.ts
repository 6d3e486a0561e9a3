import { FlavorSetSchema } from "./flavor-set.js";
import { ImageSetSchema } from "./image-set.js";
import { SecurityGroupBaselineSchema } from "./security-group-baseline.js";

/**
 * The zod schema of every manifest kind (the policy document union includes them). Adding a kind: its file in this
 * folder, one entry here and one in `index.ts` (a kind in one and not the other does not compile).
 */
export const MANIFEST_SCHEMAS = [FlavorSetSchema, SecurityGroupBaselineSchema, ImageSetSchema] as const;
