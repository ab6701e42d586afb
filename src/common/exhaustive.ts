/** The `default` of a switch that covers every member of a union: adding a member fails to compile until it is handled. */
export function unreachable(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
