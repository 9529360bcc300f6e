/**
 * Words an option value or argument completes to when commander's `.choices()` does not fit
 * (a comma-separated list such as `audit --op`, or a value the command checks itself).
 * Choices given with `.choices()` complete without this.
 */
import type { Argument, Option } from 'commander';

const words = new WeakMap<Option | Argument, readonly string[]>();

/** Completes `target`'s value with `list`; returns `target` for chaining into addOption/addArgument. */
export function completeWith<T extends Option | Argument>(target: T, list: readonly string[]): T {
  words.set(target, list);
  return target;
}

export function completionWordsOf(target: Option | Argument): readonly string[] | undefined {
  return target.argChoices ?? words.get(target);
}
