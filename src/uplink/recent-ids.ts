// A bounded memory of ids already acted on (critical alerts reported, cloud requests handled), so
// a repeated event is acted on once without the set growing for ever.

export interface RecentIds {
  /** True the first time an id is seen (and remembers it); false afterwards. */
  firstTime(id: string): boolean;
}

export function createRecentIds(max: number): RecentIds {
  const seen = new Set<string>();
  return {
    firstTime(id) {
      if (seen.has(id)) return false;
      seen.add(id);
      if (seen.size > max) {
        const [oldest] = seen;
        if (oldest !== undefined) seen.delete(oldest);
      }
      return true;
    },
  };
}
