import { MemoryStore } from "../../../src/store/index.js";
import { describeStoreConformance } from "../../conformance/store.js";

describeStoreConformance("memory", () => new MemoryStore());
