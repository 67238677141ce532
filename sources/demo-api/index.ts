/** The demo API's public surface: the server and the generators tests use to compute expected data. */
export * from "./server";
export { resolveSizes } from "./sizes";
export { FAULT_KINDS, pageValueOf, validateFaultRules } from "./faults";
export { encodeCursor, decodeCursor } from "./cursor";
export * from "./datasets/commerce";
export * from "./datasets/fleet";
export * from "./datasets/fleet-catalog";
export * from "./datasets/airquality";
export * from "./datasets/jobs";
export * from "./datasets/invoices";
