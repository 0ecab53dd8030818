import { useTitle } from '../app-context';
import { Link } from '../components/link';

export function NotFoundPage() {
  useTitle('Page not found');
  return (
    <section class="page" aria-labelledby="page-title">
      <h1 id="page-title">Page not found</h1>
      <p>
        There is no page at this address. Go to the <Link href="/fleet">fleet</Link>.
      </p>
    </section>
  );
}
