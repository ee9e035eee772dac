/** The board's card moves, kept apart from React so they can be tested. */
import type { Schemas } from "../../api/client";

export type Board = Schemas["Board"];
export type Card = Schemas["ItemSummary"];

/** The board with `key` moved to the column of `statusId`, in rank order there (optimistic). */
export function moveCard(board: Board, key: string, statusId: string): Board {
  let card: Card | undefined;
  for (const column of board.columns) card ??= column.items.find((i) => i.key === key);
  const target = board.columns.find((c) => c.status.id === statusId);
  if (!card || !target || card.status.id === statusId) return board;
  const moved: Card = { ...card, status: target.status };
  return {
    ...board,
    columns: board.columns.map((column) => {
      if (column.status.id === card!.status.id) {
        const count = column.count - 1;
        return { ...column, items: column.items.filter((i) => i.key !== key), count, over_limit: overLimit(count, column.wip_limit) };
      }
      if (column.status.id === statusId) {
        const items = [...column.items, moved].sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
        const count = column.count + 1;
        return { ...column, items, count, over_limit: overLimit(count, column.wip_limit) };
      }
      return column;
    }),
  };
}

/** The board with one card replaced by its fresh state (after a write or a reload). */
export function replaceCard(board: Board, card: Card): Board {
  const without = {
    ...board,
    columns: board.columns.map((c) => ({ ...c, items: c.items.filter((i) => i.key !== card.key) })),
  };
  return {
    ...without,
    columns: without.columns.map((c, i) => {
      const had = board.columns[i]!.items.length !== c.items.length;
      if (c.status.id !== card.status.id) {
        const count = had ? c.count - 1 : c.count;
        return { ...c, count, over_limit: overLimit(count, c.wip_limit) };
      }
      const items = [...c.items, card].sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
      const count = had ? c.count : c.count + 1;
      return { ...c, items, count, over_limit: overLimit(count, c.wip_limit) };
    }),
  };
}

function overLimit(count: number, limit: number | null): boolean {
  return limit !== null && count > limit;
}

export function findCard(board: Board, key: string): Card | undefined {
  for (const column of board.columns) {
    const card = column.items.find((i) => i.key === key);
    if (card) return card;
  }
  return undefined;
}
