/** Backlog ordering: what one move request says for a drag from one index to another. */

export type MoveBody = { before: string } | { after: string };

/**
 * The single `POST /items/{key}/move` body that puts `keys[from]` at index `to` of the list
 * (as arrayMove would): after the item it lands below when it moved down, before the item it
 * lands above when it moved up. Null when nothing moves.
 */
export function moveBodyFor(keys: readonly string[], from: number, to: number): MoveBody | null {
  if (from === to || from < 0 || to < 0 || from >= keys.length || to >= keys.length) return null;
  const target = keys[to]!;
  return to > from ? { after: target } : { before: target };
}

export function arrayMove<T>(list: readonly T[], from: number, to: number): T[] {
  const copy = list.slice();
  const [moved] = copy.splice(from, 1);
  copy.splice(to, 0, moved as T);
  return copy;
}
