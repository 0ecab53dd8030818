// The field paths a report actually carries, found by walking its JSON independently of the
// classifier: lists of objects add `[]`, lists of strings are one field, empty containers none.

export function emittedPaths(value: unknown, path = '', into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    const items = value as unknown[];
    if (items.some((v) => v === null || typeof v !== 'object')) into.add(path);
    else for (const item of items) emittedPaths(item, `${path}[]`, into);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, member] of Object.entries(value)) {
      emittedPaths(member, path === '' ? key : `${path}.${key}`, into);
    }
  } else {
    into.add(path);
  }
  return into;
}
