// Site lists (a user's or an invitation's scope) are stored as a JSON array; NULL means every site.

export function stringifySites(sites: readonly string[] | null): string | null {
  return sites === null ? null : JSON.stringify(sites);
}

export function parseSites(text: string | null): string[] | null {
  if (text === null) return null;
  const parsed: unknown = JSON.parse(text);
  // A row that is not a list of strings limits to nothing rather than opening every site.
  return Array.isArray(parsed) ? parsed.filter((s): s is string => typeof s === 'string') : [];
}
