import { LAYOUT_FILES } from "./layout";

/**
 * Content sets in the tree (docs/content-sets.md): the set every mirror
 * carries unless it subscribes to others is the whole tree.
 */
export const WHOLE_TREE_SET = "all";

/** Set names: safe as one path segment of `frontdoor/sets/<name>/`. */
export const SET_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Where the publisher writes each set's files, relative to the tree root. */
export const SET_FILES = {
  directory: (name: string) => `frontdoor/sets/${name}`,
  marker: (name: string) => `frontdoor/sets/${name}/generation`,
  index: (name: string) => `frontdoor/sets/${name}/index.json`,
  files: (name: string) => `frontdoor/sets/${name}/files`,
} as const;

/** The marker path a mirror carrying `set` must answer: the tree's own marker for the whole tree. */
export function markerPath(set: string): string {
  return set === WHOLE_TREE_SET ? LAYOUT_FILES.generation : SET_FILES.marker(set);
}
