// Lotus' JSON carries 64-bit integers as plain JSON numbers (lanes, nonces, epochs), which a
// JavaScript number cannot hold past 2^53. These read such integers as bigints and write bigints
// as exact numbers, using the source-text access JSON.parse and JSON.rawJSON give (Node >= 21).

type Reviver = (key: string, value: unknown, context: { source?: string }) => unknown
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON

/** Parses JSON; integers beyond Number.MAX_SAFE_INTEGER come back as bigint. */
export function parseLotusJson(text: string): unknown {
  const reviver: Reviver = (_key, value, context) =>
    typeof value === 'number' &&
    !Number.isSafeInteger(value) &&
    context?.source !== undefined &&
    /^-?[0-9]+$/.test(context.source)
      ? BigInt(context.source)
      : value
  return JSON.parse(text, reviver as Parameters<typeof JSON.parse>[1])
}

/** Stringifies JSON; bigints are written as exact JSON numbers. */
export function stringifyLotusJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? rawJSON(v.toString()) : v))
}

/** An integer as Lotus' JSON holds it: a number when exact, else a bigint (see stringifyLotusJson). */
export function jsonInt(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value
}
