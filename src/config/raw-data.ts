/**
 * @module config/raw-data
 * Guarded reads of gateway.yaml data that may not have passed the schema yet: the cross-field
 * checks and the lint pass run on possibly invalid data, so every access goes through these.
 */

export type Rec = Readonly<Record<string, unknown>>;

/** `value` as a mapping, or undefined when it is not one (null, a list, a scalar). */
export const rec = (value: unknown): Rec | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Rec) : undefined;

/** `value` as a list, or an empty one when it is not a list. */
export const list = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : []);
