// Pagination shared by every list the product serves: opaque cursor-free limit/offset pages.

export interface PageQuery {
  limit: number;
  offset: number;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}
