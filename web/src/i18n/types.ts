import type { ru } from "./ru";

/** The shape of the Russian dictionary with every text a string: English must have every key. */
type Strings<T> = { [K in keyof T]: T[K] extends string ? string : Strings<T[K]> };
export type Dictionary = Strings<typeof ru>;
