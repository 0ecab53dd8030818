// An in-app link: a real <a href> (open in new tab, copy link) that navigates without a reload.

import type { ComponentChildren } from 'preact';
import { onLinkClick } from '../router';

export function Link({
  href,
  children,
  class: className,
  current,
}: {
  href: string;
  children: ComponentChildren;
  class?: string;
  current?: boolean;
}) {
  return (
    <a
      href={href}
      onClick={onLinkClick}
      {...(className ? { class: className } : {})}
      {...(current ? { 'aria-current': 'page' as const } : {})}
    >
      {children}
    </a>
  );
}
