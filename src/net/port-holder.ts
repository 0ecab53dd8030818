// Best effort: which process listens on a TCP port, from /proc (Linux). Never throws; returns null
// where it cannot tell (other systems, or processes of other users).

import { readFile, readdir, readlink } from 'node:fs/promises';

export interface PortHolder {
  pid: number;
  /** Process name (/proc/<pid>/comm). */
  name: string;
  /** Command line, shortened; the name when the command line cannot be read. */
  command: string;
}

function readProcText(pid: string, file: 'comm' | 'cmdline'): Promise<string> {
  return readFile(`/proc/${pid}/${file}`, 'utf8')
    .then((text) =>
      text
        .split('\0')
        .filter(Boolean)
        .join(' ')
        .trim()
        // A command line may carry a connection URL; its password is not ours to print.
        .replace(/\/\/([^:@/\s]+):([^@/\s]+)@/g, '//$1:***@')
        .slice(0, 200),
    )
    .catch(() => '');
}

async function listeningInodes(port: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = await readFile(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      // State 0A is LISTEN.
      if (local?.endsWith(`:${hexPort}`) && cols[3] === '0A' && cols[9]) inodes.add(cols[9]);
    }
  }
  return inodes;
}

export async function findPortHolder(port: number): Promise<PortHolder | null> {
  try {
    const inodes = await listeningInodes(port);
    if (inodes.size === 0) return null;
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let fds: string[];
      try {
        fds = await readdir(`/proc/${entry}/fd`);
      } catch {
        continue;
      }
      for (const fd of fds) {
        let target: string;
        try {
          target = await readlink(`/proc/${entry}/fd/${fd}`);
        } catch {
          continue;
        }
        const m = /^socket:\[(\d+)\]$/.exec(target);
        if (m?.[1] && inodes.has(m[1])) {
          const name = (await readProcText(entry, 'comm')) || '?';
          const command = (await readProcText(entry, 'cmdline')) || name;
          return { pid: Number(entry), name, command };
        }
      }
    }
    return null;
  } catch {
    return null;
  }
}
